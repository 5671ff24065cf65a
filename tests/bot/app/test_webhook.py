"""The webhook's door (X2, X9): Telegram's secret token required, a body that is not JSON or
not an update refused and never logged, a body too large cut off, and an update delivered twice
(Telegram retries one it got no answer for in time) handled once."""

from __future__ import annotations

import logging

import httpx
import pytest

import handlers
from bot.app.offline import UpdateFactory
from bot.app.webhook import MAX_BODY_BYTES, Webhook, listen
from tests.support.harness import free_port, make_settings, running_bot

SECRET = "s3cret-token_for-webhook"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


@pytest.fixture
async def webhook(tmp_path):
    """The bot in webhook mode on a free local port: (chat, its URL)."""
    settings = make_settings(
        tmp_path,
        webhook_url="https://bot.example.org/telegram",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=free_port(),
    )
    async with running_bot(settings) as chat:
        server = Webhook(chat.app, settings, listen(settings))
        await chat.app.start()
        await server.start()
        try:
            yield chat, f"http://127.0.0.1:{settings.webhook_port}/telegram"
        finally:
            await server.stop()
            await chat.app.stop()


async def test_webhook_refuses_requests_without_the_secret_token(webhook):
    chat, url = webhook
    update = UpdateFactory(chat.app.bot).message(1, "/start").to_dict()
    async with httpx.AsyncClient() as client:
        refused = await client.post(url, json=update)
        wrong = await client.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
        )
        accepted = await client.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
    assert await chat.answered(1)
    assert refused.status_code == 403
    assert wrong.status_code == 403
    assert accepted.status_code == 200
    assert "Welcome" in chat.api.sent(1)[0].text
    (registered,) = [call for call in chat.api.calls if call.method == "setWebhook"]
    assert registered.params["secret_token"] == SECRET
    assert registered.params["allowed_updates"] == handlers.ALLOWED_UPDATES


async def test_x9_webhook_refuses_malformed_json_and_skips_unreadable_updates(webhook, caplog):
    chat, url = webhook
    caplog.set_level(logging.DEBUG)
    secret = HEADERS
    canary = "MyNameIsCanaryWebhook"
    unreadable = {
        "update_id": 7_000_001,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 2, "type": "private"},
            "poll": {"id": "p", "question": canary, "options": [{"text": canary}]},
        },
    }
    async with httpx.AsyncClient() as client:
        malformed = await client.post(url, content=f'{{"text": "{canary}"', headers=secret)
        skipped = await client.post(url, json=unreadable, headers=secret)
        good = await client.post(
            url, json=UpdateFactory(chat.app.bot).message(3, "/start").to_dict(), headers=secret
        )
    assert malformed.status_code == 400
    assert skipped.status_code == 200  # confirmed, so Telegram does not send it again
    assert good.status_code == 200 and await chat.answered(3)
    assert canary not in caplog.text
    assert "Skipped update 7000001" in caplog.text


async def test_an_update_telegram_delivers_twice_is_handled_once(webhook):
    chat, url = webhook
    update = UpdateFactory(chat.app.bot).message(5, "/help").to_dict()
    async with httpx.AsyncClient() as client:
        first = await client.post(url, json=update, headers=HEADERS)
        again = await client.post(url, json=update, headers=HEADERS)
        after = UpdateFactory(chat.app.bot).message(6, "/help").to_dict()
        await client.post(url, json=after, headers=HEADERS)
    assert first.status_code == again.status_code == 200  # confirmed both times: no more retries
    assert await chat.answered(6)
    assert len(chat.api.sent(5)) == 1


async def test_a_body_larger_than_any_update_is_refused_unread(webhook, caplog):
    chat, url = webhook
    caplog.set_level(logging.DEBUG)
    canary = "HugeBodyCanary"
    huge = {"update_id": 8_000_001, "message": {"text": canary * (MAX_BODY_BYTES // 10)}}
    async with httpx.AsyncClient() as client:
        try:
            refused = (await client.post(url, json=huge, headers=HEADERS)).status_code
        except httpx.TransportError:  # the server may close the connection instead
            refused = None
        good = UpdateFactory(chat.app.bot).message(7, "/help").to_dict()
        accepted = await client.post(url, json=good, headers=HEADERS)
    assert refused in (None, 400, 413)
    assert accepted.status_code == 200 and await chat.answered(7)
    assert canary not in caplog.text
