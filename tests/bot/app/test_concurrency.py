"""D8 through the running Application: updates enter at its update queue, as long polling and the
webhook deliver them, and its update processor serves different supporters side by side, each
supporter's updates in order. The only waiting is for events the test controls; the guard
against a hang is not a claim about speed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import httpx
import pytest
from pydantic import HttpUrl

import handlers.stats
import handlers.trends
from bot import delivery, mps, solidarity
from bot.campaign import load_campaign
from bot.delivery import create_broadcast
from bot.petition import PetitionCounter
from handlers.mp import LETTER
from messages import consent, core, keyboards
from messages.mp import FIND
from scheduler import broadcasts
from tests.support.broadcasts import after_slices, received, subscribe
from tests.support.harness import (
    GIVE_UP_SECONDS,
    ORGANISER_ID,
    make_settings,
    running_bot,
    until,
)
from tests.support.parliament import FakeServices, lookup_routes, postcode_found
from tests.support.petitions import PETITION, petition_json


class Stalled:
    """An outside service (postcodes.io unless told otherwise) holding its answer until the
    test lets it go."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.answer = postcode_found()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await self.release.wait()
        return httpx.Response(200, json=self.answer)


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


async def test_sigterm_during_a_hanging_lookup_answers_the_typist_at_once_and_stops(
    chat, postcodes, monkeypatch
):
    """D11: the bot stops within its 5 s, not after the lookup's own deadline (here an hour);
    the supporter is offered WriteToThem as when the service is down."""
    monkeypatch.setattr(mps, "LOOKUP_SECONDS", 3600)
    await at_postcode(chat, 1)
    await chat.app.start()
    await chat.app.update_queue.put(chat.updates.message(1, "SW1A 1AA"))
    await until(lambda: typing_shown(chat, 1), "the lookup to be under way")
    await asyncio.wait_for(chat.app.stop(), GIVE_UP_SECONDS)
    assert "writetothem.com" in str(chat.api.sent(1)[-1].params)
    assert not postcodes.release.is_set()


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


class WriteLockHeld:
    """Another connection to the database (a `stepup-bot` command, another bot process) holding
    its write lock, from a thread of its own, until the test lets it go."""

    def __init__(self, path) -> None:
        self.path = path
        self.taken = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        self.taken.set()
        self.release.wait(GIVE_UP_SECONDS)
        conn.execute("ROLLBACK")
        conn.close()

    def __enter__(self) -> WriteLockHeld:
        self.thread.start()
        self.taken.wait(GIVE_UP_SECONDS)
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join()


def petition_campaign(settings):
    """The campaign with a UK Parliament petition, whose count the bot fetches."""
    return load_campaign(settings.campaign_file).model_copy(
        update={"petition_url": HttpUrl(PETITION)}
    )


def stalled_petitions() -> Stalled:
    petitions = Stalled()
    petitions.answer = petition_json(12345, {})
    return petitions


async def open_petition_as_counts_load(chat, user_id: int) -> None:
    """The supporter opens the petition, and its count is being fetched."""
    await chat.app.update_queue.put(
        chat.updates.callback(user_id, keyboards.journey_data("petition"))
    )
    await until(lambda: typing_shown(chat, user_id), "the petition count to be fetched")


async def petition_arrives_meanwhile(chat, petitions: Stalled, user_id: int, waiting: int) -> None:
    """The petitions site answers: the petition reaches `user_id` while supporter `waiting`
    has still heard nothing more."""
    heard = len(messages_to(chat, waiting))
    petitions.release.set()
    await until(lambda: "12,345" in chat.last_text(user_id), "the petition")
    assert len(messages_to(chat, waiting)) == heard


async def test_sigterm_while_the_petition_count_hangs_shows_the_petition_and_stops(
    settings, api
):
    """D11 for the petition's live count: the petition is shown without it at once."""
    petitions = stalled_petitions()
    campaign = petition_campaign(settings)
    async with running_bot(settings, api, campaign, httpx.MockTransport(petitions)) as chat:
        data = chat.app.bot_data
        data.petition_counter = PetitionCounter(data.http, lookup_seconds=3600)
        await chat.send(1, "/start")
        await chat.press(1, consent.OPTIN_NONE)
        await chat.app.start()
        await open_petition_as_counts_load(chat, 1)
        await asyncio.wait_for(chat.app.stop(), GIVE_UP_SECONDS)
    shown = chat.api.sent(1)[-1]
    assert PETITION in str(shown.params) and "12,345" not in shown.text
    assert not petitions.release.is_set()


async def test_a_write_lock_held_elsewhere_stalls_only_the_update_that_needs_it(settings, api):
    """Supporter 1's /help has to write and waits for the lock, off the event loop; supporter 2,
    whose petition count was on its way, gets the petition meanwhile. Had supporter 1's write
    waited on the loop, nobody would have heard anything until the lock was let go."""
    petitions = stalled_petitions()
    campaign = petition_campaign(settings)
    async with running_bot(settings, api, campaign, httpx.MockTransport(petitions)) as chat:
        for user_id in (1, 2):
            await chat.send(user_id, "/start")
            await chat.press(user_id, consent.OPTIN_NONE)
        helped = len(messages_to(chat, 1))
        await chat.app.start()
        try:
            await open_petition_as_counts_load(chat, 2)
            with WriteLockHeld(chat.storage.path):
                await chat.app.update_queue.put(chat.updates.message(1, "/help"))
                await until(
                    lambda: chat.app.update_processor.current_concurrent_updates == 2,
                    "supporter 1's /help to be under way",
                )
                await petition_arrives_meanwhile(chat, petitions, 2, waiting=1)
            await until(lambda: len(messages_to(chat, 1)) > helped, "the answer to /help")
        finally:
            await chat.app.stop()
    assert messages_to(chat, 1)[-1] == core.help_text("en", campaign)


async def test_a_write_lock_taken_during_a_lookup_is_waited_for_off_the_event_loop(settings, api):
    """Supporter 1's MP lookup is under way when another connection takes the write lock: the
    MP found, saving it waits for the lock without stopping the bot, so supporter 2's petition
    arrives meanwhile, and supporter 1's MP once the lock is let go."""
    postcodes, petitions = Stalled(), stalled_petitions()
    services = FakeServices(
        lookup_routes(**{"/postcodes/SW1A1AA": postcodes, "/petitions/700001.json": petitions})
    )
    campaign = petition_campaign(settings)
    async with running_bot(settings, api, campaign, httpx.MockTransport(services)) as chat:
        await at_postcode(chat, 1)
        await chat.send(2, "/start")
        await chat.press(2, consent.OPTIN_NONE)
        before = len(messages_to(chat, 1))
        await chat.app.start()
        try:
            await chat.app.update_queue.put(chat.updates.message(1, "SW1A 1AA"))
            await until(lambda: typing_shown(chat, 1), "supporter 1's lookup to start")
            await open_petition_as_counts_load(chat, 2)
            with WriteLockHeld(chat.storage.path):
                postcodes.release.set()
                await until(
                    lambda: services.asked("members-api.parliament.uk"), "the MP to be found"
                )
                await petition_arrives_meanwhile(chat, petitions, 2, waiting=1)
            await until(lambda: len(messages_to(chat, 1)) > before, "the MP")
        finally:
            await chat.app.stop()
    assert "Your MP is <b>Jane Example</b>" in messages_to(chat, 1)[-1]


class SlowRead:
    """An organiser's large read (at 100,000 supporters /stats takes about 150 ms) or chart (a
    few hundred milliseconds to draw) made as slow as the test likes: it blocks whichever thread
    runs it until the test lets it go, or for `HELD_SECONDS` at most, so that work blocking the
    event loop fails the test, not hangs."""

    HELD_SECONDS = 30

    def __init__(self, read) -> None:
        self.read = read
        self.started = threading.Event()
        self.release = threading.Event()
        self.done = False

    def __call__(self, *args, **kwargs):
        self.started.set()
        self.release.wait(self.HELD_SECONDS)
        self.done = True
        return self.read(*args, **kwargs)


@pytest.mark.parametrize(
    ("command", "reader"),
    [("/stats", "gather_stats"), ("/export", "export_csvs"), ("/stats", "actions_chart")],
)
async def test_an_organisers_large_read_holds_up_no_supporter(chat, monkeypatch, command, reader):
    """While the organiser's figures are being read (or their chart drawn), a supporter's /help
    is answered; the figures follow once that is done. On the event loop, /help would wait."""
    slow = SlowRead(getattr(handlers.stats, reader))
    monkeypatch.setattr(handlers.stats, reader, slow)
    await organiser_work_holds_up_no_supporter(chat, slow, command)


async def test_drawing_the_hashtag_chart_holds_up_no_supporter(tmp_path, api, monkeypatch):
    slow = SlowRead(handlers.trends.trends_chart)
    monkeypatch.setattr(handlers.trends, "trends_chart", slow)
    settings = make_settings(tmp_path, x_bearer_token="test-bearer")
    async with running_bot(settings, api) as chat:
        await organiser_work_holds_up_no_supporter(chat, slow, "/trends")


async def test_laying_out_the_solidarity_cards_holds_up_no_supporter(chat, monkeypatch):
    slow = SlowRead(solidarity.cards_pdf)
    monkeypatch.setattr(solidarity, "cards_pdf", slow)
    subscribe(chat.storage, 5)
    card = chat.storage.add_solidarity_message(5, "You are not alone", "Ana", "en")
    chat.storage.moderate_solidarity(card, "approved", ORGANISER_ID)
    await organiser_work_holds_up_no_supporter(chat, slow, "/moderate pdf")


async def organiser_work_holds_up_no_supporter(chat, slow: SlowRead, command: str) -> None:
    """The organiser's `command` starts `slow`; a supporter's /help sent meanwhile is answered
    before it ends, and the organiser hears the result once it does."""
    await chat.send(ORGANISER_ID, "/start")
    await chat.app.start()
    try:
        await chat.app.update_queue.put(chat.updates.message(ORGANISER_ID, command))
        await until(slow.started.is_set, "the organiser's work to start")
        await chat.app.update_queue.put(chat.updates.message(2, "/help"))
        await until(lambda: messages_to(chat, 2), "an answer to /help")
        assert not slow.done, "the supporter's /help waited for the organiser's work"
        organiser_heard = len(chat.api.sent(ORGANISER_ID))
        slow.release.set()
        await until(lambda: len(chat.api.sent(ORGANISER_ID)) > organiser_heard, "the result")
    finally:
        slow.release.set()
        await chat.app.stop()


async def test_a_supporter_is_answered_while_a_large_broadcast_is_being_prepared(
    chat, monkeypatch
):
    """Starting a broadcast writes its recipients a slice of supporters at a time, and serves
    supporters between slices: a /help arriving once the first slice is written is answered
    while the broadcast is still preparing. (At 100,000 supporters a slice is 5,000; here it is
    one, so that 300 supporters make as many slices.) Written in one statement, the recipients
    would all be there before /help."""
    monkeypatch.setattr(delivery, "PREPARE_SLICE", 1)
    recipients = range(100, 400)
    for user_id in recipients:
        subscribe(chat.storage, user_id)
    broadcast_id = create_broadcast(chat.storage, texts={"en": "Day 5"}, created_by=ORGANISER_ID)
    at_the_answer: list[str] = []
    chat.api.on_call = lambda call: call.chat_id == 2 and at_the_answer.append(
        chat.storage.broadcast_status(broadcast_id)
    )
    help_update = chat.updates.message(2, "/help")
    after_slices(chat.storage, 1, lambda: chat.app.update_queue.put_nowait(help_update))
    await chat.app.start()
    try:
        report = await asyncio.wait_for(broadcasts.start(chat.app, broadcast_id), GIVE_UP_SECONDS)
        await until(lambda: messages_to(chat, 2), "an answer to /help")
    finally:
        await chat.app.stop()
    assert at_the_answer[0] == delivery.PREPARING
    assert (report.status, report.sent, report.total) == ("done", len(recipients), len(recipients))
    assert all(len(received(chat, user_id)) == 1 for user_id in recipients)
