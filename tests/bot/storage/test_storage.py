from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

from sqlite_utils import Database

from bot.consent import DAILY_PROMPT
from bot.storage import Storage
from bot.storage.migrations import migrations
from tests.support.harness import GIVE_UP_SECONDS, until


def test_a_new_database_is_wal_with_every_migration_applied(tmp_path):
    storage = Storage.open(tmp_path / "new.db")
    assert storage.db.journal_mode == "wal"
    assert not migrations.pending(storage.db)
    assert storage.integrity() == "ok"


def test_an_old_database_upgrades_in_place_keeping_its_supporters(tmp_path):
    path = tmp_path / "old.db"
    first_three = [m.name for m in migrations._migrations][:3]
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before=[m.name for m in migrations._migrations][3])
    assert [m.name for m in migrations.applied(old)] == first_three
    old["supporters"].insert(
        {
            "user_id": 7,
            "language": "es",
            "created_at": "2026-11-20T10:00:00+00:00",
            "referral_code": "abc",
        }
    )
    old.close()
    storage = Storage.open(path)
    assert not migrations.pending(storage.db)
    assert storage.get_supporter(7)["language"] == "es"
    assert storage.integrity() == "ok"


def test_ensure_supporter_creates_once_with_a_unique_referral_code(tmp_path):
    storage = Storage.open(tmp_path / "t.db")
    first, created = storage.ensure_supporter(1, "pt", "ref-x")
    again, created_again = storage.ensure_supporter(1, "en", None)
    other, _ = storage.ensure_supporter(2, "en")
    assert created and not created_again
    assert again["language"] == "pt"
    assert first["referral_code"] != other["referral_code"]


def test_committed_writes_are_visible_to_a_second_connection(tmp_path):
    storage = Storage.open(tmp_path / "t.db")
    storage.ensure_supporter(1, "en")
    storage.set_consents(1, {DAILY_PROMPT: True}, "v1")
    other = Storage.open(tmp_path / "t.db")
    assert other.may_receive(1, DAILY_PROMPT)


def test_purge_erases_every_supporter_after_retention(tmp_path):
    storage = Storage.open(tmp_path / "t.db")
    for user_id in range(5):
        storage.ensure_supporter(user_id, "en")
        storage.record_action(user_id, "petition_signed")
    assert storage.purge_personal_data() == 5
    assert storage.personal_data(3) == {}
    assert storage.db.execute("SELECT count(*) FROM actions").fetchone()[0] == 0


def test_lobby_reminders_sent_before_the_upgrade_are_not_sent_again(tmp_path):
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before="0016_lobby_deliveries")
    old["lobby_events"].insert(
        {
            "id": 1,
            "title": '{"en": "Mass lobby"}',
            "place": '{"en": "Westminster"}',
            "starts_at": "2026-11-26T11:00:00+00:00",
            "rsvp_deadline": "2026-11-26T11:00:00+00:00",
            "hashtag": "#masslobby",
            "status": "open",
            "fallback_at": "2026-11-26T08:00:00+00:00",
        }
    )
    old["lobby_rsvps"].insert(
        {
            "event_id": 1,
            "user_id": 7,
            "status": "yes",
            "created_at": "2026-11-20T10:00:00+00:00",
            "updated_at": "2026-11-20T10:00:00+00:00",
            "eve_sent_at": "2026-11-25T18:00:01+00:00",
        }
    )
    old.close()
    storage = Storage.open(path)
    done = {
        moment
        for moment in ("eve", "morning", "fallback", "outcome")
        if storage.lobby_moment_done(1, moment)
    }
    assert done == {"eve", "fallback"}
    assert storage.get_rsvp(1, 7)["status"] == "yes"
    assert storage.get_lobby_event(1)["revision"] == 0
    assert storage.integrity() == "ok"


async def test_a_large_read_sees_what_was_committed_and_cannot_write(storage):
    """`Storage.read` runs an organiser's read on a connection of its own, off the event loop:
    it sees every committed supporter, and being read-only it can never change the data."""
    storage.ensure_supporter(7, "es")

    def supporters_then_try_to_write(snapshot: Storage) -> list[int]:
        seen = [row["user_id"] for row in snapshot.rows("SELECT user_id FROM supporters")]
        try:
            snapshot.ensure_supporter(8, "en")
        except sqlite3.OperationalError as refused:
            assert "readonly" in str(refused)
        return seen

    assert await storage.read(supporters_then_try_to_write) == [7]
    assert storage.get_supporter(8) is None


async def test_a_write_waits_for_another_connections_lock_without_holding_the_event_loop(storage):
    """`Storage.writing`, as the writes after every update use it on the bot's connection:
    while another connection (a `stepup-bot` command, another bot process) holds the write
    lock, the event loop goes on (a clock on it keeps ticking, never stopped for long) and the
    write waits, then lands once the lock is let go. Waiting on the loop, the clock would stop
    for SQLite's whole 5 s busy timeout."""
    storage.for_event_loop()
    holder = sqlite3.connect(storage.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    ticks, longest_gap = 0, 0.0

    async def clock() -> None:
        nonlocal ticks, longest_gap
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            ticks += 1
            longest_gap = max(longest_gap, time.monotonic() - last)
            last = time.monotonic()

    async def write() -> None:
        async with storage.writing() as db:
            db.execute("INSERT INTO flags (key, value) VALUES ('written', 'yes')")

    ticking = asyncio.create_task(clock())
    writer = asyncio.create_task(write())
    try:
        await until(lambda: ticks >= 20, "the clock to tick while the lock is held")
        assert not writer.done()
        holder.execute("ROLLBACK")
        await asyncio.wait_for(writer, GIVE_UP_SECONDS)
    finally:
        ticking.cancel()
        holder.close()
    assert storage.get_flag("written") == "yes"
    assert longest_gap < 2.5  # the loop waited at most its 50 ms bound, not SQLite's 5 s


async def test_a_write_that_fails_half_way_leaves_nothing_and_the_next_one_lands(storage):
    """A block under `Storage.writing` that raises is rolled back whole, and the connection is
    ready for the next transaction (the writes after an update keep what failed and try again
    with the next one)."""
    with contextlib.suppress(RuntimeError):
        async with storage.writing() as db:
            db.execute("INSERT INTO flags (key, value) VALUES ('half', 'yes')")
            raise RuntimeError("the disk filled up")
    async with storage.writing() as db:
        db.execute("INSERT INTO flags (key, value) VALUES ('whole', 'yes')")
    assert storage.get_flag("half") is None
    assert storage.get_flag("whole") == "yes"


def test_conversations_and_message_ids_survive_the_move_to_without_rowid_tables(tmp_path):
    """Migration 0023 rebuilds the two tables written after nearly every update: a supporter's
    journey and the messages /forget would delete are all still there after the upgrade, the
    messages in the order they were sent, and new ones are written alongside."""
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before="0023_chat_state_without_rowid")
    old["conversations"].insert({"name": "mp", "key": "[7, 7]", "state": '"name"'})
    sent = [(7, 12, "2026-12-05T10:00:01+00:00"), (7, 11, "2026-12-05T10:00:00+00:00")]
    old["chat_messages"].insert_all(
        {"chat_id": chat, "message_id": message, "at": at} for chat, message, at in sent
    )
    old.close()
    storage = Storage.open(path)
    assert storage.load_conversations("mp") == {(7, 7): "name"}
    storage.record_chat_messages([(7, 13)])
    rows = storage.personal_data(7)["chat_messages"]
    assert [row["message_id"] for row in rows] == [11, 12, 13]
    for table in ("conversations", "chat_messages"):
        (schema,) = storage.db.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", [table]
        ).fetchone()
        assert schema.endswith("WITHOUT ROWID")
    assert storage.integrity() == "ok"
