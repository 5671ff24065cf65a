"""Backups of the database, and files only the bot's user can read.

The database holds supporters' Telegram ids, so it, its `-wal` and `-shm` files (SQLite gives
them the database file's mode) and every backup are created with mode 0600, in folders of mode
0700. A backup is SQLite's online backup, consistent even while the bot writes. Backups sit in
`backups/` beside the database unless told otherwise, named `<database>-<UTC time>.db`;
`rotate` keeps the newest few of those. The copy taken automatically before a schema migration
is named `<database>-<UTC time>-before-<migration>.db` and is never rotated away. A copy bears
its name only once it is complete; what a copy cut off half-way left behind is deleted by the
next backup into that folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
SQLITE_SIDE_FILES = ("-wal", "-shm")
STAMP_FORMAT = "%Y%m%d-%H%M%S"
BEFORE = "-before-"
PARTIAL = ".partial"  # a copy still being written, or cut off: never a backup
# What SQLite writes beside a copy while it fills it (the copy is not in WAL mode).
PARTIAL_SIDE_FILES = ("-journal",)


class BackupBusy(Exception):
    """Another backup is being written to the same file right now."""


class NotABackup(Exception):
    """The destination is the database itself, or one of SQLite's files beside it: writing
    the copy there would put it in place of the live database and lose what the bot writes."""


def create_private(path: Path) -> None:
    """Create `path` (and missing folders) readable only by this user; tighten it (and SQLite's
    side files) if it already exists more open, e.g. from a version that did not do this."""
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if candidate.stat().st_mode & 0o777 != PRIVATE_FILE:
                candidate.chmod(PRIVATE_FILE)


def default_folder(database: Path) -> Path:
    return database.parent / "backups"


def backup_name(database: Path, at: dt.datetime, before: str | None = None) -> str:
    """`stepup-20261205-093000.db`, or `stepup-20261205-093000-before-0013_x.db`."""
    name = f"{database.stem}-{at.astimezone(dt.UTC).strftime(STAMP_FORMAT)}"
    return f"{name}{BEFORE}{before}.db" if before else f"{name}.db"


def copy_database(source: sqlite3.Connection, destination: Path) -> None:
    """Write a consistent copy of the open database `source` to `destination` (mode 0600).

    The copy is written beside it as `<destination>.partial` and takes its name only once
    complete: a copy cut off half-way (kill -9, a full disk, the machine stopping) would be an
    empty database that looked like a backup and counted among those `rotate` keeps. The
    partial copy is locked while it is written, so what copies that died left behind (copies
    of supporters' data that no rotation or purge would ever delete) can be told from a copy
    under way, and is deleted first. Raises BackupBusy when another backup is writing to
    `destination` now.
    """
    remove_leftovers(destination.parent)
    partial = destination.with_name(f"{destination.name}{PARTIAL}")
    create_private(partial)
    with open(partial, "rb") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupBusy(f"another backup is being written to {destination}") from None
        target = sqlite3.connect(partial)
        try:
            with target:
                source.backup(target)
        except BaseException:
            partial.unlink()  # a copy that failed (a full disk) is no backup
            raise
        finally:
            target.close()
        os.replace(partial, destination)


def remove_leftovers(folder: Path) -> None:
    """Delete the partial copies in `folder` that no backup is writing any more (each locked
    while written: one nobody holds was cut off), and their journals."""
    for partial in folder.glob(f"*.db{PARTIAL}"):
        with contextlib.suppress(FileNotFoundError), open(partial, "rb") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a backup under way
            for path in (partial, *(Path(f"{partial}{side}") for side in PARTIAL_SIDE_FILES)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def backup(database: Path, destination: Path) -> None:
    """Copy the database file at `database` to `destination` while the bot may be writing.
    Raises NotABackup when `destination` is the database or its -wal or -shm file (by any
    path, a link included), BackupBusy when another backup is writing it now."""
    live = [database, *(Path(f"{database}{suffix}") for suffix in SQLITE_SIDE_FILES)]
    if any(_same_file(path, destination) for path in live):
        raise NotABackup(f"{destination} is the database itself; give another file or a folder")
    source = sqlite3.connect(database)
    try:
        copy_database(source, destination)
    finally:
        source.close()


def _same_file(one: Path, other: Path) -> bool:
    if one.exists() and other.exists():
        return os.path.samefile(one, other)
    return one.resolve() == other.resolve()


def rotated(folder: Path, database: Path) -> list[Path]:
    """The regular backups of `database` in `folder`, newest first (those taken before a
    migration are not among them)."""
    found = [path for path in folder.glob(f"{database.stem}-*.db") if BEFORE not in path.name]
    # Written in the same instant, the names (their UTC time) decide.
    return sorted(found, key=lambda path: (path.stat().st_mtime, path.name), reverse=True)


def rotate(folder: Path, database: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` regular backups of `database` in `folder`; returns the
    deleted ones."""
    old = rotated(folder, database)[keep:]
    for path in old:
        path.unlink()
    return old
