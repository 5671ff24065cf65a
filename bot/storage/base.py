"""The connection, its settings and the primitives every area of storage builds on."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar
from urllib.parse import quote

from sqlite_utils import Database

from bot import backups
from bot.storage.migrations import migrations

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# How long a statement on the event loop's connection waits for a lock another connection holds
# before giving up with "database is locked": about the longest issue 11 lets anything hold the
# loop. Updates, jobs and batches first wait for the lock off the loop (`writable`), so only a
# lock taken in the middle of one meets this bound.
EVENT_LOOP_BUSY_TIMEOUT_MS = 50
# The first bytes of every SQLite database file (sqlite.org/fileformat.html, 1.3).
SQLITE_HEADER = b"SQLite format 3\x00"
# How long one checkpoint waits for other connections' reads and writes to end before giving up.
# While it waits, nobody can write: the bot's writes on the event loop would wait with it, so it
# is short, and a checkpoint that could not finish is tried again later.
CHECKPOINT_WAIT_SECONDS = 0.05


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime | None = None) -> str:
    return (moment or utcnow()).astimezone(dt.UTC).isoformat(timespec="seconds")


def not_stopped_since(moment: str, alias: str = "s") -> str:
    """SQL: the supporter `alias` has not sent /stop since the SQL timestamp `moment` (their yes
    to a lobby day, their letter): what the news and follow-ups their own action set up need
    (bot.consent). A /stop in the same second counts as after it: silence, where in doubt."""
    return f"({alias}.stopped_at IS NULL OR {alias}.stopped_at < {moment})"


# A follow-up still owed its question: no answer yet, or "not yet" (bot.mps.REPLY_NOT_YET), which
# leaves the question to come.
FOLLOWUP_OWED = "(f.outcome IS NULL OR f.outcome = 'not_yet')"


def followup_clause(condition: str = "1", alias: str = "s") -> str:
    """SQL: the supporter `alias` has a follow-up `f` in the broadcast given as the parameter
    (mp_followups.broadcast_id), meeting the SQL `condition`."""
    return (
        "EXISTS (SELECT 1 FROM mp_followups f WHERE f.broadcast_id = ?"
        f" AND f.user_id = {alias}.user_id AND {condition})"
    )


class DatabaseUnusable(Exception):
    """The database file cannot be opened, read and written; the message says why, in one line
    an operator can act on."""

    @classmethod
    def at(cls, path: Path, error: Exception) -> DatabaseUnusable:
        """The one line for `path`, with what went wrong and what the file must be, or, when
        another program holds its lock, what to do about that."""
        if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
            return cls(
                f"cannot use {path} as the database: another program is using it (a sqlite3 "
                f"shell, a backup, another copy of the bot) and held its lock for over "
                f"{BUSY_TIMEOUT_MS // 1000} seconds. Close that program, then start again."
            )
        return cls(
            f"cannot use {path} as the database ({error}). It must be an SQLite file that "
            "the user running the bot can read and write, in a folder it can write to."
        )


def constituency_name_of(code: str) -> str:
    """SQL for the name of the constituency whose GSS code is the SQL expression `code` (used
    three times): as supporters' postcode lookups gave it, else the MP cache's, else a lobby
    RSVP's; NULL when none knows it."""
    return (
        f"coalesce((SELECT constituency_name FROM supporters WHERE constituency_code = {code}"
        "  AND constituency_name IS NOT NULL LIMIT 1),"
        f" (SELECT constituency_name FROM mps WHERE constituency_code = {code} LIMIT 1),"
        f" (SELECT constituency_name FROM lobby_rsvps WHERE constituency_code = {code} LIMIT 1))"
    )


class Store:
    """The connection and the few primitives every area uses; see the package docstring."""

    def __init__(self, db: Database) -> None:
        self.db = db
        (_, _, file), *_ = db.execute("PRAGMA database_list").fetchall()
        self.path = Path(file)
        self._probe: sqlite3.Connection | None = None

    @classmethod
    def open(cls, path: Path | str) -> Self:
        """Open (creating if needed, readable only by this user) and migrate the database at
        `path`. An existing database with migrations pending is backed up first, beside it in
        backups/ (see bot.backups), so an upgrade that goes wrong can be undone.

        Raises DatabaseUnusable when the file or its folder cannot be created, read or written
        (e.g. a backup restored as root: creating it opens it for writing), or the file is not
        an SQLite database.
        """
        path = Path(path)
        try:
            return cls(cls._connect(path))
        except (OSError, sqlite3.Error) as error:
            raise DatabaseUnusable.at(path, error) from None

    @classmethod
    def check_usable(cls, path: Path | str) -> None:
        """Raise DatabaseUnusable, as `open` would, when `path` cannot be the database (a
        folder, a file that is not SQLite or not readable and writable, a folder that does not
        exist or it cannot be created in), without creating, migrating or changing anything,
        not even SQLite's -wal and -shm files (which opening a WAL database would): every
        `stepup-bot` command checks this before it does anything."""
        path = Path(path)
        try:
            if path.is_dir():
                raise IsADirectoryError(f"{path} is a folder, not a file")
            if path.exists():
                if not os.access(path, os.R_OK | os.W_OK):
                    raise PermissionError(f"{path} is not readable and writable by this user")
                with path.open("rb") as file:
                    header = file.read(len(SQLITE_HEADER))
                if header and header != SQLITE_HEADER:  # SQLite takes an empty file as new
                    raise sqlite3.DatabaseError("file is not a database")
            elif not path.absolute().parent.is_dir():  # a typo, or a volume not mounted
                raise FileNotFoundError(f"there is no folder {path.absolute().parent}")
            elif not os.access(path.absolute().parent, os.W_OK | os.X_OK):
                raise PermissionError(f"cannot create a file in {path.absolute().parent}")
        except (OSError, sqlite3.Error) as error:
            raise DatabaseUnusable.at(path, error) from None

    @staticmethod
    def _connect(path: Path) -> Database:
        backups.create_private(path)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Deleted rows are overwritten with zeros, so /forget leaves nothing readable behind.
        db.execute("PRAGMA secure_delete = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        pending = migrations.pending(db)
        if pending and migrations.applied(db):
            name = backups.backup_name(path, utcnow(), before=pending[0].name)
            destination = backups.default_folder(path) / name
            backups.copy_database(conn, destination)
            logger.info("Backed up the database to %s before upgrading its schema", destination)
        migrations.apply(db)
        return db

    @classmethod
    def open_readonly(cls, path: Path) -> Self:
        """Open an existing database only to read it: nothing is created or migrated (another
        process, e.g. `stepup-bot health`, looking at a running bot's database). Raises
        sqlite3.OperationalError when there is no database to open."""
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        return cls(Database(conn))

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
        self.db.close()

    async def writable(self) -> None:
        """Return once no other connection holds the write lock (`stepup-bot mps sync`, a
        checkpoint waiting for a backup to finish reading, another bot process), waiting for it
        in a worker thread, at most the busy timeout, rather than on the event loop, where every
        supporter would wait with it. Call it before the writes of an update or a batch; it
        costs a few microseconds when the lock is free. The writes themselves stay on the loop,
        in order, on the one connection."""
        if self._write_lock_free():
            return
        await asyncio.to_thread(self._wait_for_write_lock)

    async def read(self, reader: Callable[..., T], *args: Any) -> T:
        """`reader(storage, *args)` in a worker thread, on a read-only connection of its own,
        for the organisers' large reads (/stats, /export, audiences, a lobby day's dashboard):
        at 100,000 supporters they take 50-150 ms, which on the event loop every supporter
        would wait out. WAL lets it read while the loop's connection writes; it sees the database as
        committed when it starts. Raises what `reader` raises, and sqlite3.Error."""

        def in_thread() -> T:
            storage = type(self).open_readonly(self.path)
            try:
                return reader(storage, *args)
            finally:
                storage.close()

        return await asyncio.to_thread(in_thread)

    def _write_lock_free(self) -> bool:
        if self._probe is None:
            self._probe = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            self._probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        self._probe.execute("ROLLBACK")
        return True

    def _wait_for_write_lock(self) -> None:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass  # still locked after the busy timeout: the write itself will say so
        finally:
            conn.close()

    def immediate(self) -> _Transaction:
        """A transaction holding the write lock from its first statement, for a read-then-write
        (why: see the package docstring): `with storage.immediate() as db:`."""
        return _Transaction(self)

    def for_event_loop(self) -> Self:
        """This storage, its statements waiting at most EVENT_LOOP_BUSY_TIMEOUT_MS for another
        connection's lock: for the one connection the event loop uses."""
        self.db.execute(f"PRAGMA busy_timeout = {EVENT_LOOP_BUSY_TIMEOUT_MS}")
        return self

    def writing(self) -> _Transaction:
        """`immediate`, for the writes after every update (`async with storage.writing() as
        db:`): if another connection holds the write lock past the busy timeout
        (`for_event_loop`: 50 ms), it is waited for in a worker thread, not on the event loop.
        Costs nothing more than BEGIN IMMEDIATE when the lock is free, the usual case. Raises
        sqlite3.Error as the writes do; the transaction is then rolled back."""
        return _Transaction(self)

    # sqlite-utils' query() wraps every SELECT in a savepoint and insert() looks the table up
    # in sqlite_master each call; on the per-update path that was most of our SQL time, so
    # reads and inserts go through these two instead.

    def rows(self, sql: str, params: list[Any] | tuple = ()) -> list[dict[str, Any]]:
        """The rows of a SELECT, as dicts."""
        cursor = self.db.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row; returns its rowid."""
        columns = ", ".join(f"[{name}]" for name in row)
        marks = ", ".join("?" * len(row))
        sql = f"INSERT INTO [{table}] ({columns}) VALUES ({marks})"
        return self.db.execute(sql, list(row.values())).lastrowid

    def constituency_name(self, code: str | None) -> str | None:
        """The name of the constituency with GSS `code`, as a postcode lookup gave it; None
        for no code, or one no lookup named (the Members API publishes no codes)."""
        if code is None:
            return None
        (name,) = self.db.execute(f"SELECT {constituency_name_of('?')}", [code] * 3).fetchone()
        return name

    def integrity(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]

    def checkpoint(self, wait_seconds: float = CHECKPOINT_WAIT_SECONDS) -> bool:
        """Fold the WAL back into the main file and truncate it to zero bytes. Returns False when
        another connection (a backup, `stepup-bot stats`) still reads an older snapshot after
        `wait_seconds`: until a later checkpoint completes, rows deleted since the last one can
        still be read from the files.

        It runs on a connection of its own, so it may be called from a worker thread while the
        bot's connection stays with the event loop.
        """
        conn = sqlite3.connect(self.path, timeout=wait_seconds)
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
        return busy == 0

    def fold_wal(self) -> None:
        """Copy what the WAL holds into the database file as far as readers allow, waiting for
        nobody (a PASSIVE checkpoint), on a connection of its own: call it from a worker
        thread before a run of large writes, so that none of their commits on the event loop
        finds the WAL past SQLite's automatic checkpoint size (1,000 pages) and does this copy
        itself while every supporter waits (20-130 ms at 100,000 supporters)."""
        conn = sqlite3.connect(self.path, timeout=0)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()

    # --- flags ------------------------------------------------------------------------------

    def get_flag(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM flags WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_flag(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM flags WHERE key = ?", [key])
        else:
            self.db["flags"].upsert({"key": key, "value": value}, pk="key")


class _Transaction:
    """BEGIN IMMEDIATE, then COMMIT, or ROLLBACK if the block (or the commit) raises; as a plain
    and an async context manager (`Store.immediate`, `Store.writing`). A class rather than
    contextlib's generators, and straight on the sqlite3 connection: it runs after every
    update, where those layers cost more than the statements."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> Database:
        self._store.db.conn.execute("BEGIN IMMEDIATE")
        return self._store.db

    async def __aenter__(self) -> Database:
        conn = self._store.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            await asyncio.to_thread(self._store._wait_for_write_lock)
            conn.execute("BEGIN IMMEDIATE")
        return self._store.db

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        conn = self._store.db.conn
        if kind is None:
            try:
                conn.execute("COMMIT")
                return
            except BaseException:
                self._roll_back()
                raise
        self._roll_back()

    async def __aexit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.__exit__(kind, *rest)

    def _roll_back(self) -> None:
        conn = self._store.db.conn
        if conn.in_transaction:
            conn.execute("ROLLBACK")
