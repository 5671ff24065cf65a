"""Consent by kind (P2, P7): who gets a daily prompt, an organiser's broadcast, or anything after
the campaign; the daily cap; and existing consents moved honestly by the migration."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import time_machine
from sqlite_utils import Database

from bot import delivery
from bot.consent import (
    DAILY_PROMPT,
    UPDATES,
    WHATS_NEXT,
    Rules,
    hears_from_campaign,
    stop_everything,
)
from bot.storage import Storage
from bot.storage.migrations import migrations
from tests.support.legacy import OLD_WORDING, before_consent_by_kind

LONDON = ZoneInfo("Europe/London")
WORDING = "consent-test-v1"
ONGOING = Rules(ends_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC), daily_cap=1, zone=LONDON)
OVER = Rules(ends_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), daily_cap=1, zone=LONDON)


def person(storage: Storage, user_id: int, **choices: bool) -> int:
    storage.ensure_supporter(user_id, "en")
    storage.set_consents(user_id, choices, WORDING)
    return user_id


def reached(chat, text: str) -> set[int]:
    return {call.chat_id for call in chat.api.sent() if call.text == text}


async def send(chat, text: str, rules: Rules, kind: str = "broadcast") -> delivery.DeliveryReport:
    broadcast_id = delivery.create_broadcast(chat.storage, texts={"en": text}, kind=kind)
    return await delivery.run_broadcast(chat.app.bot, chat.storage, broadcast_id, rules=rules)


async def test_broadcasts_reach_only_those_who_agreed_to_campaign_updates(chat):
    """P7: a yes to the daily prompt is not a yes to organisers' broadcasts."""
    daily_only = person(chat.storage, 1, **{DAILY_PROMPT: True})
    updates = person(chat.storage, 2, **{UPDATES: True})
    both = person(chat.storage, 3, **{DAILY_PROMPT: True, UPDATES: True})
    person(chat.storage, 4, **{DAILY_PROMPT: False, UPDATES: False})
    await send(chat, "An update", ONGOING)
    assert reached(chat, "An update") == {updates, both}
    await send(chat, "Today's prompt", ONGOING, kind="daily_prompt")
    assert reached(chat, "Today's prompt") == {daily_only, both}
    assert delivery.reach(chat.storage, delivery.Audience(), ONGOING) == 2


async def test_a_second_broadcast_the_same_day_is_held_back_by_the_daily_cap(chat):
    """P7: at most BROADCASTS_PER_DAY organiser broadcasts a person a day; the prompt is apart."""
    person(chat.storage, 1, **{DAILY_PROMPT: True, UPDATES: True})
    await send(chat, "Prompt", ONGOING, kind="daily_prompt")
    first = await send(chat, "First update", ONGOING)
    second = await send(chat, "Second update", ONGOING)
    assert (first.sent, second.sent, second.skipped) == (1, 0, 1)
    assert reached(chat, "Prompt") == reached(chat, "First update") == {1}
    assert reached(chat, "Second update") == set()
    (held,) = [row for row in chat.storage.personal_data(1)["deliveries"] if row["error"]]
    assert held["error"] == "daily cap"


async def test_those_counted_as_held_back_before_sending_are_those_the_cap_holds_back(chat):
    """The confirmation screen's count (delivery.held_back) is what the cap then does."""
    for user_id, language in ((1, "en"), (2, "pt"), (3, "pt")):
        chat.storage.ensure_supporter(user_id, language)
        chat.storage.set_consents(user_id, {DAILY_PROMPT: True, UPDATES: True}, WORDING)
    portuguese = delivery.Audience(languages=("pt",))
    first = delivery.create_broadcast(chat.storage, texts={"en": "To pt"}, audience=portuguese)
    await delivery.run_broadcast(chat.app.bot, chat.storage, first, rules=ONGOING)
    await send(chat, "Prompt", ONGOING, kind="daily_prompt")  # not an update: not counted
    assert delivery.held_back(chat.storage, delivery.Audience(), ONGOING) == 2
    english = delivery.Audience(languages=("en",))
    assert delivery.held_back(chat.storage, english, ONGOING) == 0
    assert delivery.held_back(chat.storage, delivery.Audience(), ONGOING, "daily_prompt") == 0
    report = await send(chat, "To everyone", ONGOING)
    assert (report.sent, report.capped) == (1, 2)


async def test_the_cap_counts_days_in_the_campaigns_time_zone(chat):
    person(chat.storage, 1, **{UPDATES: True})
    with time_machine.travel(dt.datetime(2026, 12, 1, 23, 30, tzinfo=LONDON), tick=False):
        await send(chat, "Late on the 1st", ONGOING)
    with time_machine.travel(dt.datetime(2026, 12, 2, 0, 30, tzinfo=LONDON), tick=False):
        await send(chat, "Early on the 2nd", ONGOING)
        await send(chat, "Later on the 2nd", ONGOING)
    assert reached(chat, "Late on the 1st") == reached(chat, "Early on the 2nd") == {1}
    assert reached(chat, "Later on the 2nd") == set()


async def test_a_higher_cap_lets_that_many_through(chat):
    person(chat.storage, 1, **{UPDATES: True})
    two_a_day = Rules(ends_at=ONGOING.ends_at, daily_cap=2, zone=LONDON)
    for text in ("One", "Two", "Three"):
        await send(chat, text, two_a_day)
    assert [len(reached(chat, text)) for text in ("One", "Two", "Three")] == [1, 1, 0]


def test_two_broadcasts_sending_at_once_cannot_both_pass_the_cap(storage):
    """Claims take the write lock: the one that claims a person first sends, the other skips."""
    person(storage, 1, **{UPDATES: True})
    first = delivery.create_broadcast(storage, texts={"en": "A"})
    second = delivery.create_broadcast(storage, texts={"en": "B"})
    for broadcast_id in (first, second):
        asyncio.run(delivery.enqueue(storage, broadcast_id, ONGOING))
    cap = (1, ONGOING.day_start(dt.datetime.now(dt.UTC)))
    assert storage.claim_deliveries(first, 10, cap) == [(1, "en")]
    assert storage.claim_deliveries(second, 10, cap) == []
    assert storage.broadcast_summary(second) == {"skipped": 1}


async def test_nothing_is_sent_after_the_campaign_without_a_yes_to_what_comes_next(chat):
    """P7: after the last day, only those who agreed to hear what comes next get anything."""
    person(chat.storage, 1, **{UPDATES: True})
    person(chat.storage, 2, **{UPDATES: True, WHATS_NEXT: True})
    person(chat.storage, 3, **{WHATS_NEXT: True})
    await send(chat, "Next steps", OVER)
    assert reached(chat, "Next steps") == {2, 3}
    assert not hears_from_campaign(chat.storage, 1, OVER, dt.datetime.now(dt.UTC))
    assert hears_from_campaign(chat.storage, 1, ONGOING, dt.datetime.now(dt.UTC))


async def test_a_broadcast_that_runs_past_the_end_checks_each_send_against_the_end(chat):
    person(chat.storage, 1, **{UPDATES: True})
    broadcast_id = delivery.create_broadcast(chat.storage, texts={"en": "Late"})
    await delivery.enqueue(chat.storage, broadcast_id, ONGOING)  # recipients fixed before the end
    report = await delivery.run_broadcast(chat.app.bot, chat.storage, broadcast_id, rules=OVER)
    assert (report.sent, report.skipped) == (0, 1)


def test_the_campaign_ends_at_midnight_after_its_last_day_in_its_time_zone(campaign, settings):
    rules = Rules.of(campaign, settings)
    last_evening = dt.datetime.combine(campaign.end_date, dt.time(23, 59), tzinfo=LONDON)
    assert not rules.over(last_evening)
    assert rules.over(last_evening + dt.timedelta(minutes=1))
    assert rules.daily_cap == settings.broadcasts_per_day == 1


def test_a_choice_is_recorded_only_when_it_changes(storage):
    """A second /stop, or a double tap, is not a new decision: no new row."""
    person(storage, 1, **{DAILY_PROMPT: True})
    assert storage.set_consents(1, {DAILY_PROMPT: False}, WORDING) == [DAILY_PROMPT]
    assert storage.set_consents(1, {DAILY_PROMPT: False}, WORDING) == []
    rows = storage.personal_data(1)["consents"]
    assert [(row["subject"], row["granted"]) for row in rows] == [
        (DAILY_PROMPT, 1),
        (DAILY_PROMPT, 0),
    ]


def test_nothing_is_recorded_for_someone_who_never_started(storage):
    assert storage.set_consents(99, {UPDATES: True}, WORDING) == []
    assert storage.personal_data(99) == {}


def test_the_migration_moves_existing_consents_honestly(tmp_path):
    """A yes to the old daily-prompt question stays a yes to the daily prompt, and is not a yes
    to campaign updates or to anything after the campaign."""
    path = tmp_path / "old.db"
    before_consent_by_kind(path, {1: [True], 2: []})
    old = Database(sqlite3.connect(path))
    assert "updates_opted_in" not in old["supporters"].columns_dict  # truly the old schema
    old.close()
    storage = Storage.open(path)
    assert storage.consents(1) == {DAILY_PROMPT: True, UPDATES: False, WHATS_NEXT: False}
    assert storage.consents(2) == {DAILY_PROMPT: False, UPDATES: False, WHATS_NEXT: False}
    [kept] = storage.personal_data(1)["consents"]
    assert kept["wording_version"] == OLD_WORDING
    storage.close()


def test_the_migration_takes_three_noes_as_a_stop_and_anything_else_as_none(tmp_path):
    """Old records cannot tell /stop from three separate noes: whoever has every choice at no
    counts as having sent /stop at their latest decision (silence, where in doubt)."""
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before="0018_stopped_at")
    for user_id, updates in ((1, 0), (2, 1), (3, 0)):
        old["supporters"].insert(
            {
                "user_id": user_id,
                "language": "en",
                "created_at": "2026-11-25T09:00:00+00:00",
                "referral_code": str(user_id),
                "opted_in": 0,
                "updates_opted_in": updates,
            }
        )
    for user_id, granted, at in (
        (1, 1, "2026-11-25T09:00:00+00:00"),
        (1, 0, "2026-11-27T10:00:00+00:00"),
        (2, 1, "2026-11-25T09:00:00+00:00"),
    ):
        old["consents"].insert(
            {
                "user_id": user_id,
                "subject": UPDATES,
                "granted": granted,
                "wording_version": "v1",
                "at": at,
            }
        )
    old.close()
    storage = Storage.open(path)
    stopped = {uid: storage.get_supporter(uid)["stopped_at"] for uid in (1, 2, 3)}
    assert stopped == {1: "2026-11-27T10:00:00+00:00", 2: None, 3: None}  # 3 never answered
    storage.close()


def test_only_stop_is_a_stop_and_a_yes_afterwards_undoes_it(storage):
    person(storage, 1, **{UPDATES: True})
    storage.set_consents(1, {UPDATES: False}, WORDING)  # one kind turned off
    assert storage.get_supporter(1)["stopped_at"] is None
    stop_everything(storage, 1, WORDING)
    assert storage.get_supporter(1)["stopped_at"] is not None
    storage.set_consents(1, {DAILY_PROMPT: True}, WORDING)  # back, saying yes to something
    assert storage.get_supporter(1)["stopped_at"] is None
