"""P8 and S4: the database, its WAL files and its backups are readable only by the bot's user;
backups rotate; an old database is backed up before its schema is upgraded."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot import backups
from bot.storage import Storage
from bot.storage.migrations import migrations


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture(autouse=True)
def permissive_umask():
    """A umask like most servers': files readable by everyone unless the bot says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_database_and_its_wal_files_are_readable_only_by_the_bot(tmp_path):
    path = tmp_path / "data" / "bot.db"
    storage = Storage.open(path)
    storage.ensure_supporter(1, "en")
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    assert wal.exists() and shm.exists()
    assert [mode(path), mode(wal), mode(shm)] == [0o600, 0o600, 0o600]
    assert mode(path.parent) == 0o700
    storage.close()


def test_a_database_left_readable_by_an_older_version_is_tightened(tmp_path):
    path = tmp_path / "bot.db"
    Storage.open(path).close()
    path.chmod(0o644)
    Storage.open(path).close()
    assert mode(path) == 0o600


def test_a_backup_is_a_private_consistent_copy(tmp_path):
    storage = Storage.open(tmp_path / "bot.db")
    storage.ensure_supporter(7, "pt")
    copy = tmp_path / "backups" / "copy.db"
    backups.backup(tmp_path / "bot.db", copy)
    assert mode(copy) == 0o600
    assert Storage.open(copy).get_supporter(7)["language"] == "pt"


# Copies the database a page at a time, and is killed (SIGKILL, as `kill -9`) after the first.
DIES_HALF_WAY = """
import os, signal, sqlite3, sys
from pathlib import Path
from bot import backups

class DyingSource:
    def __init__(self, path):
        self.connection = sqlite3.connect(path)

    def backup(self, target):
        def progress(status, remaining, total):
            os.kill(os.getpid(), signal.SIGKILL)
        self.connection.backup(target, pages=1, progress=progress)

backups.copy_database(DyingSource(sys.argv[1]), Path(sys.argv[2]))
"""


@pytest.mark.parametrize("written_to", ["stepup.db", "./stepup.db", "link.db", "stepup.db-wal"])
def test_a_backup_never_replaces_the_live_database(tmp_path, written_to):
    """`stepup-bot backup stepup.db` (or a link to it, or its WAL) is refused: the copy would
    take the live database's place, and what the bot wrote after it would be lost."""
    database = tmp_path / "stepup.db"
    storage = Storage.open(database)
    storage.ensure_supporter(1, "en")
    (tmp_path / "link.db").symlink_to(database)
    before = database.stat().st_ino
    with pytest.raises(backups.NotABackup, match="is the database itself"):
        backups.backup(database, tmp_path / written_to)
    storage.ensure_supporter(2, "en")
    storage.close()
    assert database.stat().st_ino == before
    assert Database(database).execute("SELECT count(*) FROM supporters").fetchone()[0] == 2


def test_a_backup_killed_half_way_leaves_nothing_that_passes_for_a_backup(tmp_path):
    database = tmp_path / "stepup.db"
    storage = Storage.open(database)
    for user_id in range(1, 300):
        storage.ensure_supporter(user_id, "en")
    storage.close()
    folder = backups.default_folder(database)
    destination = folder / backups.backup_name(database, dt.datetime.now(dt.UTC))
    killed = subprocess.run(
        [sys.executable, "-c", DIES_HALF_WAY, str(database), str(destination)],
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    assert not destination.exists()
    assert backups.rotated(folder, database) == []  # it never takes the place of a good one
    assert sorted(path.suffix for path in folder.iterdir()) == [".partial", ".partial-journal"]
    backups.backup(database, destination)
    assert list(folder.iterdir()) == [destination]  # the cut-off copy is gone, not kept
    assert Storage.open(destination).get_supporter(299) is not None


def test_a_copy_being_written_is_left_alone_and_not_written_twice(tmp_path):
    database = tmp_path / "stepup.db"
    Storage.open(database).close()
    folder = backups.default_folder(database)
    under_way = folder / "stepup-20261205-023000.db"
    backups.create_private(under_way.with_name(f"{under_way.name}.partial"))
    with open(f"{under_way}.partial", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as the other backup holds it while it writes
        backups.backup(database, folder / "stepup-20261205-023001.db")
        assert Path(f"{under_way}.partial").exists()
        with pytest.raises(backups.BackupBusy):
            backups.backup(database, under_way)
    assert not under_way.exists()


def test_rotation_keeps_the_newest_and_every_copy_taken_before_a_migration(tmp_path):
    database, folder = tmp_path / "stepup.db", tmp_path / "backups"
    folder.mkdir()
    start = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    names = [backups.backup_name(database, start + dt.timedelta(days=n)) for n in range(5)]
    before = backups.backup_name(database, start, before="0013_service_outages")
    for written, name in enumerate([before, *names]):  # oldest first
        (folder / name).touch()
        os.utime(folder / name, (1_000_000 + written, 1_000_000 + written))
    (folder / "other.db").touch()  # not a backup of this database
    deleted = backups.rotate(folder, database, keep=2)
    assert sorted(path.name for path in deleted) == names[:3]
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == sorted([*names[3:], before, "other.db"])


def old_database(path: Path) -> str:
    """A database one migration behind, with a supporter; returns the pending migration."""
    latest = migrations.pending(Database(memory=True))[-1].name
    with contextlib.closing(sqlite3.connect(path)) as conn:
        migrations.apply(Database(conn), stop_before=latest)
        Storage(Database(conn)).ensure_supporter(7, "es")
    return latest


def test_an_old_database_is_backed_up_before_its_schema_is_upgraded(tmp_path):
    path = tmp_path / "bot.db"
    pending = old_database(path)
    upgraded = Storage.open(path)
    assert not migrations.pending(upgraded.db)
    [copy] = (tmp_path / "backups").iterdir()
    assert copy.name.endswith(f"-before-{pending}.db")
    assert mode(copy) == 0o600
    saved = Storage(Database(sqlite3.connect(copy)))
    assert [m.name for m in migrations.pending(saved.db)] == [pending]  # the schema as it was
    assert saved.get_supporter(7)["language"] == "es"


def test_a_new_or_current_database_is_not_backed_up(tmp_path):
    Storage.open(tmp_path / "bot.db").close()
    Storage.open(tmp_path / "bot.db").close()
    assert not (tmp_path / "backups").exists()
