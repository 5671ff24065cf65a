"""The delivery engine sending through a real bot to a loopback Bot API, on a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot
from telegram.error import InvalidToken
from telegram.ext import ExtBot
from telegram.request import BaseRequest

from bot import delivery
from bot.app.request import AiohttpRequest
from bot.consent import UPDATES, Rules
from bot.delivery import (
    Audience,
    LinkButton,
    ProgressSnapshot,
    Sending,
    create_broadcast,
    requeue_unfinished,
)
from bot.ratelimit import PriorityRateLimiter
from bot.storage import Storage
from tests.support.bot_api import TOKEN, FakeBotApi
from tests.support.broadcasts import after_slices

WORDING = "opt-in-v1"
# The engine's own behaviour, apart from consent rules: a campaign that never ends, and a daily
# cap no test here reaches (tests/test_consent.py covers both).
RULES = Rules(
    ends_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC), daily_cap=1000, zone=ZoneInfo("Europe/London")
)
run_broadcast = functools.partial(delivery.run_broadcast, rules=RULES)
enqueue = functools.partial(delivery.enqueue, rules=RULES)


@pytest.fixture
async def loopback() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@contextlib.asynccontextmanager
async def limited_bot(
    loopback: FakeBotApi,
    read_timeout: float = 5.0,
    max_retries: int = 3,
    request: BaseRequest | None = None,
) -> AsyncIterator[ExtBot]:
    """The bot as the Application builds it: every send goes through our rate limiter."""
    limiter = PriorityRateLimiter(1000, paid_broadcasts=True, max_retries=max_retries)
    request = request or AiohttpRequest(read_timeout=read_timeout)
    async with ExtBot(
        TOKEN, base_url=loopback.base_url, rate_limiter=limiter, request=request
    ) as bot:
        yield bot


@contextlib.asynccontextmanager
async def bare_bot(loopback: FakeBotApi) -> AsyncIterator[ExtBot]:
    """A limiter that never retries: a 429 reaches the engine itself."""
    async with limited_bot(loopback, max_retries=0) as bot:
        yield bot


@pytest.fixture
async def bot(loopback) -> AsyncIterator[Bot]:
    async with limited_bot(loopback) as bot:
        yield bot


def add_supporters(
    storage: Storage,
    user_ids: range | list[int],
    *,
    language: str = "en",
    opted_in: bool = True,
    constituency: str | None = None,
    actions: tuple[str, ...] = (),
) -> list[int]:
    for user_id in user_ids:
        storage.ensure_supporter(user_id, language)
        if opted_in:
            storage.set_consents(user_id, {UPDATES: True}, WORDING)
        if constituency:
            storage.set_constituency(user_id, constituency, f"Constituency {constituency}")
        for kind in actions:
            storage.record_action(user_id, kind)
    return list(user_ids)


def statuses(storage: Storage, broadcast_id: int) -> dict[int, str]:
    rows = storage.db.query(
        "SELECT user_id, status FROM deliveries WHERE broadcast_id = ?", [broadcast_id]
    )
    return {row["user_id"]: row["status"] for row in rows}


def broadcast(storage: Storage, **fields: object) -> int:
    fields.setdefault("texts", {"en": "<b>Day 3</b>: write to your MP"})
    return create_broadcast(storage, **fields)


async def test_every_opted_in_supporter_gets_the_message_exactly_once(storage, loopback, bot):
    recipients = add_supporters(storage, range(1, 31))
    add_supporters(storage, [100, 101], opted_in=False)
    add_supporters(storage, [102])
    storage.mark_blocked(102)
    broadcast_id = broadcast(storage)

    report = await run_broadcast(bot, storage, broadcast_id, sending=Sending(batch_size=7))

    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)
    assert (report.status, report.sent, report.total, report.not_sent) == ("done", 30, 30, 0)
    assert storage.broadcast_summary(broadcast_id) == {"sent": 30}
    assert loopback.sends(1)[0].params["text"] == "<b>Day 3</b>: write to your MP"
    assert loopback.sends(1)[0].params["parse_mode"] == "HTML"


@pytest.mark.parametrize("paid", [True, False], ids=["paid", "free"])
async def test_with_paid_broadcasts_on_every_message_is_sent_as_one(storage, loopback, bot, paid):
    add_supporters(storage, range(1, 11))

    await run_broadcast(
        bot, storage, broadcast(storage), sending=Sending.at_rate(30, paid_broadcasts=paid)
    )

    sends = loopback.sends()
    assert len(sends) == 10
    assert all(("allow_paid_broadcast" in send.params) is paid for send in sends)
    assert {send.params.get("allow_paid_broadcast", "true") for send in sends} == {"true"}
    # and, like everything the bot sends, without a link preview
    assert {send.params["link_preview_options"] for send in sends} == {'{"is_disabled": true}'}


async def test_a_finished_broadcast_is_never_sent_again(storage, loopback, bot):
    add_supporters(storage, range(1, 6))
    broadcast_id = broadcast(storage)
    await run_broadcast(bot, storage, broadcast_id)

    report = await run_broadcast(bot, storage, broadcast_id)

    assert report.status == "done"
    assert set(loopback.delivered.values()) == {1}


async def test_each_supporter_reads_their_own_language_falling_back_to_english(
    storage, loopback, bot
):
    add_supporters(storage, [1], language="en")
    add_supporters(storage, [2], language="pt")
    add_supporters(storage, [3], language="es")
    broadcast_id = broadcast(
        storage,
        texts={"en": "Sign today", "pt": "Assine hoje"},
        buttons={
            "en": LinkButton("Sign", "https://example.org/en"),
            "pt": LinkButton("Assinar", "https://example.org/pt"),
        },
    )

    await run_broadcast(bot, storage, broadcast_id)

    def seen(chat_id: int) -> tuple[str, list]:
        params = loopback.sends(chat_id)[0].params
        return params["text"], json.loads(params["reply_markup"])["inline_keyboard"]

    assert seen(2) == ("Assine hoje", [[{"text": "Assinar", "url": "https://example.org/pt"}]])
    assert seen(3) == ("Sign today", [[{"text": "Sign", "url": "https://example.org/en"}]])


async def test_a_photo_broadcast_sends_the_text_as_its_caption(storage, loopback, bot):
    add_supporters(storage, [1])
    broadcast_id = broadcast(storage, photo_file_id="AgACAgQAAxkBAAIB")

    await run_broadcast(bot, storage, broadcast_id)

    [request] = loopback.sends(1)
    assert request.method == "sendPhoto"
    assert (request.params["photo"], request.params["caption"]) == (
        "AgACAgQAAxkBAAIB",
        "<b>Day 3</b>: write to your MP",
    )


async def test_a_supporter_who_blocked_the_bot_is_marked_blocked_and_never_tried_again(
    storage, loopback, bot
):
    add_supporters(storage, range(1, 6))
    loopback.blocked.add(3)

    first = await run_broadcast(bot, storage, broadcast(storage))
    second = await run_broadcast(bot, storage, broadcast(storage))

    assert (first.sent, first.blocked, second.total) == (4, 1, 4)
    assert len(loopback.sends(3)) == 1
    assert storage.get_supporter(3)["blocked_at"] is not None
    assert not storage.may_receive(3, UPDATES)


async def test_someone_who_blocked_the_bot_before_their_turn_is_skipped_as_blocked(
    storage, loopback, bot
):
    """Found out by another message after this one fixed its recipients: not tried, and the
    report says they had blocked the bot, not that they unsubscribed."""
    add_supporters(storage, range(1, 4))
    broadcast_id = broadcast(storage)
    await enqueue(storage, broadcast_id)
    storage.mark_blocked(2)

    report = await run_broadcast(bot, storage, broadcast_id)

    assert loopback.sends(2) == []
    assert (report.sent, report.skipped, report.skipped_for) == (2, 1, {"blocked": 1})


async def test_a_bad_request_for_one_recipient_does_not_stop_the_run(storage, loopback, bot):
    add_supporters(storage, range(1, 11))
    loopback.bad.add(4)
    broadcast_id = broadcast(storage)

    report = await run_broadcast(bot, storage, broadcast_id, sending=Sending(batch_size=3))

    assert (report.sent, report.failed, report.status) == (9, 1, "done")
    assert statuses(storage, broadcast_id)[4] == "failed"
    assert len(loopback.sends(4)) == 1


async def test_a_timeout_is_recorded_as_unknown_and_not_retried(storage, loopback):
    add_supporters(storage, range(1, 6))
    loopback.slow[2] = 10.0  # delivered, but the answer comes after the bot gave up
    broadcast_id = broadcast(storage)

    async with limited_bot(loopback, read_timeout=0.3) as bot:
        report = await run_broadcast(bot, storage, broadcast_id)

    assert (report.sent, report.unknown, report.status) == (4, 1, "done")
    assert statuses(storage, broadcast_id)[2] == "unknown"
    assert len(loopback.sends(2)) == 1


async def test_server_errors_mean_not_sent_and_the_recipients_are_tried_again(
    storage, loopback, bot
):
    """D9: a 500 or a proxy's 502 is a definite "not sent", unlike a timeout: nobody is lost
    to an outage of Telegram's servers, and nobody gets the message twice."""
    recipients = add_supporters(storage, range(1, 13))
    loopback.server_errors = 6  # the first batch and one more fail: two pauses, then it's back
    broadcast_id = broadcast(storage)

    report = await run_broadcast(bot, storage, broadcast_id, sending=Sending(batch_size=5))

    assert (report.sent, report.unknown, report.failed, report.status) == (12, 0, 0, "done")
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)
    assert {request.status for request in loopback.sends()} == {200, 500, 502}


# PTB's own RetryAfter warns about its retry_after type on construction; nothing of ours.
@pytest.mark.parametrize("make_bot", [limited_bot, bare_bot], ids=["rate-limiter", "no-limiter"])
async def test_after_a_429_nothing_is_sent_until_retry_after_has_passed(
    storage, loopback, make_bot
):
    recipients = add_supporters(storage, range(1, 21))
    loopback.flood[1] = 1
    batch_size = 5

    async with make_bot(loopback) as bot:
        report = await run_broadcast(
            bot, storage, broadcast(storage), sending=Sending(batch_size=batch_size)
        )

    assert report.sent == 20
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)
    [flooded_at] = loopback.floods
    during_wait = [r for r in loopback.sends() if flooded_at < r.at < flooded_at + 1]
    # Only sends already on the wire when the 429 came back (the rest of its batch) may arrive
    # while the wait is on; every one of them is refused by flood control.
    assert len(during_wait) == loopback.early <= batch_size - 1
    assert all(request.status == 429 for request in during_wait)


async def test_a_supporter_who_stops_during_the_run_gets_nothing_more(storage, loopback, bot):
    add_supporters(storage, range(1, 21))
    broadcast_id = broadcast(storage)

    def stop_last_supporter(chat_id: int | str) -> None:
        if chat_id == 1:
            storage.set_consents(20, {UPDATES: False}, WORDING)

    loopback.on_message = stop_last_supporter

    report = await run_broadcast(bot, storage, broadcast_id, sending=Sending(batch_size=5))

    assert loopback.delivered[20] == 0
    assert statuses(storage, broadcast_id)[20] == "skipped"
    assert (report.sent, report.skipped) == (19, 1)


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience(), {1, 2, 3, 4, 5}),
        (Audience(languages=("pt",)), {2, 3}),
        (Audience(languages=("pt", "es")), {2, 3, 4}),
        (Audience(missing_action="mp_letter_sent"), {1, 2, 4}),
        (Audience(done_action="petition_signed", missing_action="mp_letter_sent"), {2}),
        (Audience(constituency_code="E14000639"), {4, 5}),
    ],
    ids=["everyone", "portuguese", "two-languages", "not-written", "signed-not-written", "place"],
)
async def test_a_broadcast_reaches_exactly_its_audience(storage, loopback, bot, audience, expected):
    add_supporters(storage, [1], language="en")
    add_supporters(storage, [2], language="pt", actions=("petition_signed",))
    add_supporters(storage, [3], language="pt", actions=("petition_signed", "mp_letter_sent"))
    add_supporters(storage, [4], language="es", constituency="E14000639")
    add_supporters(storage, [5], constituency="E14000639", actions=("mp_letter_sent",))
    add_supporters(storage, [6], language="pt", opted_in=False, actions=("petition_signed",))

    report = await run_broadcast(bot, storage, broadcast(storage, audience=audience))

    assert set(loopback.delivered) == expected
    assert report.total == len(expected)


async def test_a_run_that_died_with_sends_in_flight_resumes_and_serves_everyone(
    storage, loopback, bot
):
    recipients = add_supporters(storage, range(1, 41))
    broadcast_id = broadcast(storage)
    await enqueue(storage, broadcast_id)
    # What a process killed mid-batch leaves behind: 8 rows claimed, outcomes never written.
    in_flight = storage.claim_deliveries(broadcast_id, 8)

    [unfinished] = requeue_unfinished(storage)
    report = await run_broadcast(bot, storage, unfinished, sending=Sending(batch_size=10))

    assert len(in_flight) == 8
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)
    assert (report.status, report.sent, report.not_sent) == ("done", 40, 0)


async def test_only_broadcasts_left_running_are_resumed_not_finished_cancelled_or_unstarted(
    storage, loopback, bot
):
    add_supporters(storage, range(1, 4))
    await run_broadcast(bot, storage, broadcast(storage))
    cancelled = broadcast(storage)
    storage.cancel_broadcast(cancelled)
    broadcast(storage)
    loopback.delivered.clear()

    assert requeue_unfinished(storage) == []
    assert not loopback.delivered


async def test_cancelling_stops_the_run_after_the_current_batch(storage, loopback, bot):
    add_supporters(storage, range(1, 31))
    broadcast_id = broadcast(storage)
    loopback.on_message = lambda chat_id: storage.cancel_broadcast(broadcast_id)

    report = await run_broadcast(bot, storage, broadcast_id, sending=Sending(batch_size=5))
    again = await run_broadcast(bot, storage, broadcast_id, sending=Sending(batch_size=5))

    assert sum(loopback.delivered.values()) == 5
    assert (report.status, report.sent, report.not_sent) == ("cancelled", 5, 25)
    assert again.sent == 5


async def test_a_scheduled_broadcast_waits_until_it_is_run(storage, loopback, bot):
    add_supporters(storage, range(1, 4))
    when = dt.datetime(2025, 11, 25, 9, 0, tzinfo=dt.UTC)
    broadcast_id = broadcast(storage, scheduled_for=when)

    assert storage.scheduled_broadcasts() == [(broadcast_id, "2025-11-25T09:00:00+00:00")]
    assert requeue_unfinished(storage) == []
    report = await run_broadcast(bot, storage, broadcast_id)

    assert (report.status, report.sent) == ("done", 3)
    assert storage.scheduled_broadcasts() == []


async def test_the_organiser_sees_progress_while_it_runs(storage, loopback, bot):
    add_supporters(storage, range(1, 11))
    loopback.blocked.add(5)
    snapshots: list[ProgressSnapshot] = []

    async def remember(snapshot: ProgressSnapshot) -> None:
        snapshots.append(snapshot)

    broadcast_id = broadcast(storage)
    await run_broadcast(
        bot,
        storage,
        broadcast_id,
        sending=Sending(batch_size=4),
        on_progress=remember,
        progress_every=0,
    )

    assert [snapshot.done for snapshot in snapshots] == [4, 8, 10]
    last = snapshots[-1]
    assert (last.broadcast_id, last.sent, last.blocked, last.total) == (broadcast_id, 9, 1, 10)
    assert last.rate > 0
    assert last.seconds_left == 0


async def test_a_failing_progress_callback_does_not_stop_delivery(storage, loopback, bot):
    add_supporters(storage, range(1, 6))

    async def broken(snapshot: ProgressSnapshot) -> None:
        raise RuntimeError("message to edit was deleted")

    report = await run_broadcast(
        bot,
        storage,
        broadcast(storage),
        sending=Sending(batch_size=2),
        on_progress=broken,
        progress_every=0,
    )

    assert report.sent == 5


class RefusedOnce(AiohttpRequest):
    """The first send goes to a port nobody listens on: refused, it never reached Telegram."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = False

    async def do_request(self, url: str, method: str, *args, **kwargs):
        if url.endswith("/sendMessage") and not self.refused:
            self.refused = True
            url = "http://127.0.0.1:9/bot/sendMessage"  # the discard port: nothing listens
        return await super().do_request(url, method, *args, **kwargs)


async def test_a_send_that_never_left_is_tried_again(storage, loopback):
    add_supporters(storage, range(1, 4))
    async with limited_bot(loopback, request=RefusedOnce()) as bot:
        report = await run_broadcast(bot, storage, broadcast(storage))

    assert (report.sent, report.unknown) == (3, 0)
    assert set(loopback.delivered.values()) == {1}


def test_a_broadcast_needs_an_english_text_to_fall_back_on(storage):
    with pytest.raises(ValueError, match="'en'"):
        create_broadcast(storage, texts={"pt": "Olá"})


async def test_a_revoked_token_stops_the_run_without_failing_anyone(storage, loopback, bot):
    recipients = add_supporters(storage, range(1, 21))
    broadcast_id = broadcast(storage)
    good_token, loopback.token = loopback.token, "revoked"

    with pytest.raises(InvalidToken):
        await run_broadcast(bot, storage, broadcast_id, sending=Sending(batch_size=5))

    assert "failed" not in statuses(storage, broadcast_id).values()
    loopback.token = good_token
    [unfinished] = requeue_unfinished(storage)
    report = await run_broadcast(bot, storage, unfinished, sending=Sending(batch_size=5))
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)
    assert (report.status, report.sent) == ("done", 20)


async def test_an_audience_missing_solidarity_skips_those_who_posted_or_wrote(
    storage, loopback, bot
):
    add_supporters(storage, range(1, 5))
    storage.record_action(1, "solidarity_posted")
    storage.record_action(2, "solidarity_written")
    broadcast_id = broadcast(storage, audience=Audience(missing_action="solidarity_written"))

    await run_broadcast(bot, storage, broadcast_id)

    assert set(loopback.delivered) == {3, 4}


async def test_a_shutdown_records_the_batch_in_flight_and_the_rest_goes_out_at_the_next_start(
    storage, loopback, bot
):
    """D11: the run stops after its batch, nothing is left in flight, nobody gets it twice."""
    recipients = add_supporters(storage, range(1, 31))
    broadcast_id = broadcast(storage)
    sending = Sending(batch_size=5)
    loopback.on_message = lambda _: sending.stopping.set()  # SIGTERM as the first one arrives

    stopped = await run_broadcast(bot, storage, broadcast_id, sending=sending)

    assert (stopped.status, stopped.sent, stopped.not_sent) == ("running", 5, 25)
    assert "sending" not in storage.broadcast_summary(broadcast_id)
    loopback.on_message = None
    [unfinished] = requeue_unfinished(storage)
    report = await run_broadcast(bot, storage, unfinished)
    assert (report.status, report.sent) == ("done", 30)
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)


async def test_a_shutdown_does_not_wait_out_a_long_429(storage, loopback):
    """A run paused for Telegram's retry_after is cancelled after the grace period; what it had
    claimed is sent at the next start, once."""
    recipients = add_supporters(storage, range(1, 11))
    broadcast_id = broadcast(storage)
    loopback.flood[1] = 3600
    sending = Sending(batch_size=5)
    async with bare_bot(loopback) as bot:
        run = asyncio.create_task(run_broadcast(bot, storage, broadcast_id, sending=sending))
        while not loopback.floods:
            await asyncio.sleep(0.01)
        await sending.stop(grace=0.1)
        stopped = await run
        assert stopped.status == "running"

        loopback.flood_until = 0.0  # the hour has passed by the next start
        [unfinished] = requeue_unfinished(storage)
        report = await run_broadcast(bot, storage, unfinished)
    assert (report.status, report.sent) == ("done", 10)
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)


# --- preparing: the recipients written a slice of supporters at a time -------------------------


class Died(BaseException):
    """The process dying (kill -9) between two slices of a broadcast's preparation."""


async def test_a_crash_half_way_through_preparing_serves_everyone_once_after_the_restart(
    storage, loopback, bot, monkeypatch
):
    """Killed with a third of its recipients written, the broadcast carries on at the next
    start from where it stopped: nobody is left out, nobody gets it twice."""
    monkeypatch.setattr(delivery, "PREPARE_SLICE", 10)
    recipients = add_supporters(storage, range(1, 31))
    broadcast_id = broadcast(storage)

    def die() -> None:
        raise Died

    after_slices(storage, 1, die)
    with pytest.raises(Died):
        await run_broadcast(bot, storage, broadcast_id)
    storage.close()

    restarted = Storage.open(storage.path)
    try:
        assert restarted.broadcast_summary(broadcast_id) == {"pending": 10}
        [unfinished] = requeue_unfinished(restarted)
        report = await run_broadcast(bot, restarted, unfinished)
    finally:
        restarted.close()
    assert (report.status, report.sent, report.total) == ("done", 30, 30)
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)


async def test_a_shutdown_while_preparing_stops_and_the_next_start_finishes_it(
    storage, loopback, bot, monkeypatch
):
    monkeypatch.setattr(delivery, "PREPARE_SLICE", 10)
    recipients = add_supporters(storage, range(1, 31))
    broadcast_id = broadcast(storage)
    sending = Sending()
    after_slices(storage, 2, sending.stopping.set)

    stopped = await run_broadcast(bot, storage, broadcast_id, sending=sending)

    assert (stopped.status, stopped.sent, stopped.not_sent) == ("preparing", 0, 20)
    assert not loopback.delivered
    [unfinished] = requeue_unfinished(storage)
    report = await run_broadcast(bot, storage, unfinished)
    assert (report.status, report.sent, report.total) == ("done", 30, 30)
    assert dict(loopback.delivered) == dict.fromkeys(recipients, 1)


async def test_a_broadcast_cancelled_while_preparing_writes_no_more_and_sends_nothing(
    storage, loopback, bot, monkeypatch
):
    monkeypatch.setattr(delivery, "PREPARE_SLICE", 10)
    add_supporters(storage, range(1, 31))
    broadcast_id = broadcast(storage)
    after_slices(storage, 1, lambda: storage.cancel_broadcast(broadcast_id))

    report = await run_broadcast(bot, storage, broadcast_id)

    assert (report.status, report.sent, report.not_sent) == ("cancelled", 0, 10)
    assert not loopback.delivered
    assert requeue_unfinished(storage) == []


async def test_preparing_in_slices_chooses_the_audience_and_the_total_as_one_statement_would(
    storage, loopback, bot, monkeypatch
):
    """Slices of three supporters, the audience those who speak Portuguese: the slice bounds
    fall among people outside it, and the total counts only those inside."""
    monkeypatch.setattr(delivery, "PREPARE_SLICE", 3)
    portuguese = add_supporters(storage, [2, 3, 7, 11, 12, 13, 20], language="pt")
    add_supporters(storage, [1, 4, 5, 6, 8, 9, 10, 14], language="es")
    add_supporters(storage, [15], language="pt", opted_in=False)
    broadcast_id = broadcast(storage, audience=Audience(languages=("pt",)))

    assert await enqueue(storage, broadcast_id) == len(portuguese)
    assert await enqueue(storage, broadcast_id) is None  # already running

    report = await run_broadcast(bot, storage, broadcast_id)
    assert (report.status, report.total) == ("done", len(portuguese))
    assert dict(loopback.delivered) == dict.fromkeys(portuguese, 1)
