"""The bot's connection to Telegram (bot/app/request.py) against the loopback Bot API: what is
sent arrives as python-telegram-bot's own httpx request would send it, and every way a request
can fail reaches the rest of the bot as the same python-telegram-bot exception as before."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.app.build import build_application
from bot.app.request import AiohttpRequest, telegram_request
from bot.ratelimit import retry_seconds
from tests.support.bot_api import TOKEN, FakeBotApi
from tests.support.harness import make_settings

CLIENTS = {"httpx": HTTPXRequest, "aiohttp": AiohttpRequest}
SUPPORTER = 7


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@contextlib.asynccontextmanager
async def telegram(api: FakeBotApi, request: BaseRequest) -> AsyncIterator[ExtBot]:
    async with ExtBot(TOKEN, base_url=api.base_url, request=request) as bot:
        yield bot


def delivered(api: FakeBotApi) -> list[dict[str, Any]]:
    """The parameters of each message the fake Telegram delivered, as it read them."""
    arrived: list[dict[str, Any]] = []
    api.on_delivered = lambda _, params: arrived.append(params)
    return arrived


async def test_a_broadcast_message_arrives_with_its_buttons_and_comes_back_as_a_message(api):
    arrived = delivered(api)
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Sign", url="https://example.org")]])

    async with telegram(api, AiohttpRequest()) as bot:
        sent = await bot.send_message(
            SUPPORTER,
            "<b>Day 5</b>: sign the petition",
            parse_mode="HTML",
            reply_markup=buttons,
            allow_paid_broadcast=True,
        )

    [params] = arrived
    assert params["text"] == "<b>Day 5</b>: sign the petition"
    assert (params["parse_mode"], params["allow_paid_broadcast"]) == ("HTML", "true")
    # Structured values travel JSON-encoded, as in python-telegram-bot's own forms.
    assert InlineKeyboardMarkup.de_json(json.loads(params["reply_markup"]), None) == buttons
    assert (sent.chat.id, sent.text) == (SUPPORTER, "<b>Day 5</b>: sign the petition")


async def test_a_chart_or_card_is_uploaded_with_its_name_and_caption(api):
    uploads: list[tuple[str, bytes, str]] = []
    api.on_delivered = lambda _, params: uploads.append(
        (params["document"].filename, params["document"].file.read(), params["caption"])
    )
    content = b"%PDF-1.7 card for your MP"

    async with telegram(api, AiohttpRequest()) as bot:
        await bot.send_document(
            SUPPORTER, InputFile(content, filename="letter.pdf"), caption="Your letter"
        )

    assert uploads == [("letter.pdf", content, "Your letter")]


async def refusal(api: FakeBotApi, request: BaseRequest) -> Exception:
    """What sending one message through `request` raises."""
    async with telegram(api, request) as bot:
        try:
            await bot.send_message(SUPPORTER, "hello", read_timeout=0.2)
        except Exception as error:
            return error
    raise AssertionError("the send was not refused")


FAULTS = {
    "blocked": (lambda api: api.blocked.add(SUPPORTER), Forbidden),
    "chat not found": (lambda api: api.bad.add(SUPPORTER), BadRequest),
    "flood control": (lambda api: api.flood.update({SUPPORTER: 7}), RetryAfter),
    "server error": (lambda api: setattr(api, "server_errors", 2), NetworkError),  # a 500
    "bad gateway": (lambda api: setattr(api, "server_errors", 1), NetworkError),  # an HTML 502
    "late answer": (lambda api: api.slow.update({SUPPORTER: 1.0}), TimedOut),
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_telegrams_refusals_reach_the_bot_as_the_same_errors_as_through_httpx(api, fault):
    make_fault, expected = FAULTS[fault]
    seen = {}
    for name, client in CLIENTS.items():
        make_fault(api)
        seen[name] = await refusal(api, client())

    assert type(seen["aiohttp"]) is type(seen["httpx"]) is expected
    if expected is not TimedOut:  # Telegram's own words, where it answered
        assert str(seen["aiohttp"]) == str(seen["httpx"])


async def test_flood_control_says_how_long_to_wait(api):
    api.flood[SUPPORTER] = 7
    assert retry_seconds(await refusal(api, AiohttpRequest())) == 7


async def test_a_refused_connection_is_a_network_error_that_never_reached_telegram():
    request = AiohttpRequest()
    # The discard port, where nothing listens.
    bot = ExtBot(TOKEN, base_url="http://127.0.0.1:9/bot", request=request)
    try:
        with pytest.raises(NetworkError) as refused:
            await bot.initialize()  # its first request: getMe
    finally:
        await request.shutdown()

    assert isinstance(refused.value.__cause__, aiohttp.ClientConnectorError)


async def test_no_free_connection_in_time_is_a_timeout_that_never_reached_telegram(api):
    api.slow[SUPPORTER] = 1.0
    # Waiting for a connection and opening one share a deadline: here 0.2 s.
    request = AiohttpRequest(1, pool_timeout=0.1, connect_timeout=0.1)
    async with telegram(api, request) as bot:
        holding = asyncio.create_task(bot.send_message(SUPPORTER, "first"))
        await asyncio.sleep(0.2)  # the only connection is waiting for the late answer
        with pytest.raises(TimedOut) as waited:
            await bot.send_message(SUPPORTER + 1, "second")
        await holding

    assert isinstance(waited.value.__cause__, aiohttp.ConnectionTimeoutError)
    assert [request.chat_id for request in api.sends()] == [SUPPORTER]


async def test_sends_at_the_rate_keep_going_while_telegram_answers_slowly():
    """Telegram 150 ms away (the slow end of a server's distance): a second's sends at the
    configured rate are all under way together, none waiting for a connection to be free, so
    the rate holds. Sized for 100 ms answers, the pool held back a third of them."""
    rate, answer_seconds = 200, 0.15
    at_once = math.ceil(rate * answer_seconds)
    async with (
        FakeBotApi(latency=answer_seconds) as api,
        telegram(api, telegram_request(rate)) as bot,
    ):
        await asyncio.gather(*(bot.send_message(SUPPORTER + n, "Day 5") for n in range(at_once)))
    assert api.most_answering == at_once


async def test_the_connection_opens_again_after_a_shutdown(api):
    request = AiohttpRequest()
    async with telegram(api, request) as bot:
        await bot.send_message(SUPPORTER, "before")
    async with telegram(api, request) as bot:
        await bot.send_message(SUPPORTER, "after")

    assert [request.params["text"] for request in api.sends()] == ["before", "after"]


def test_the_bot_as_started_talks_to_telegram_through_aiohttp(tmp_path):
    app = build_application(make_settings(tmp_path))
    assert isinstance(app.bot.request, AiohttpRequest)
