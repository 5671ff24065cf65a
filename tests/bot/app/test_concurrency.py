"""D8 through the running Application: updates enter at its update queue, as long polling and the
webhook deliver them, and its update processor serves different supporters side by side, each
supporter's updates in order. The only waiting is for events the test controls; the guard
against a hang is not a claim about speed."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from handlers.mp import LETTER
from messages import consent, keyboards
from messages.mp import FIND
from tests.support.harness import running_bot
from tests.support.parliament import FakeServices, lookup_routes, postcode_found

GIVE_UP_SECONDS = 120  # guards against a hang; not an assertion about speed


class Stalled:
    """postcodes.io holding its answer until the test lets it go."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await self.release.wait()
        return httpx.Response(200, json=postcode_found())


@pytest.fixture
def postcodes() -> Stalled:
    return Stalled()


@pytest.fixture
async def chat(settings, api, postcodes):
    lookups = httpx.MockTransport(FakeServices(lookup_routes(**{"/postcodes/SW1A1AA": postcodes})))
    async with running_bot(settings, api, lookups=lookups) as chat:
        yield chat


async def at_postcode(chat, user_id: int) -> None:
    """The supporter has opened the MP journey and is asked for their postcode."""
    await chat.send(user_id, "/start")
    await chat.press(user_id, consent.OPTIN_NONE)
    await chat.press(user_id, keyboards.journey_data("mp"))
    await chat.press(user_id, FIND)


async def until(condition, what: str) -> None:
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


def messages_to(chat, user_id: int) -> list[str]:
    return [call.text for call in chat.api.sent(user_id) if call.method == "sendMessage"]


def typing_shown(chat, user_id: int) -> bool:
    return any(call.method == "sendChatAction" for call in chat.api.sent(user_id))


async def test_a_slow_lookup_holds_up_only_the_supporter_waiting_for_it(chat, postcodes):
    await at_postcode(chat, 1)
    before = len(messages_to(chat, 1))
    await chat.app.start()
    try:
        await chat.app.update_queue.put(chat.updates.message(1, "SW1A 1AA"))
        await until(lambda: typing_shown(chat, 1), "the typist to see the bot is on it")
        await chat.app.update_queue.put(chat.updates.message(2, "/help"))
        await until(lambda: messages_to(chat, 2), "an answer to /help")
        assert len(messages_to(chat, 1)) == before  # the lookup is still under way
        postcodes.release.set()
        await until(lambda: len(messages_to(chat, 1)) > before, "the MP")
    finally:
        await chat.app.stop()
    assert "Your MP is <b>Jane Example</b>" in messages_to(chat, 1)[-1]


async def test_a_supporters_next_message_waits_for_the_one_before(chat, postcodes):
    """Typed while the postcode is being looked up, the name is taken as the letter's signature
    once the MP is found: the conversation sees the two in the order they were sent."""
    await at_postcode(chat, 1)
    await chat.app.start()
    try:
        await chat.app.update_queue.put(chat.updates.message(1, "SW1A 1AA"))
        await chat.app.update_queue.put(chat.updates.message(1, "Ana"))
        await until(lambda: typing_shown(chat, 1), "the lookup to start")
        postcodes.release.set()
        await until(lambda: "one sentence" in messages_to(chat, 1)[-1], "the next step")
    finally:
        await chat.app.stop()
    assert chat.app.user_data[1][LETTER]["signature"] == "Ana"
