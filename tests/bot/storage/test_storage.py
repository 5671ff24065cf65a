from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from bot.storage import Storage
from bot.storage.migrations import migrations


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
    storage.set_opt_in(1, True, "v1")
    other = Storage.open(tmp_path / "t.db")
    assert other.is_subscribed(1)


def test_purge_erases_every_supporter_after_retention(tmp_path):
    storage = Storage.open(tmp_path / "t.db")
    for user_id in range(5):
        storage.ensure_supporter(user_id, "en")
        storage.record_action(user_id, "petition_signed")
    assert storage.purge_personal_data() == 5
    assert storage.personal_data(3) == {}
    assert storage.db.execute("SELECT count(*) FROM actions").fetchone()[0] == 0
