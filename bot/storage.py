"""Every SQL statement the bot runs, as named methods on `Storage`.

One connection per process, used from the event loop thread only; calls are short. Multi-step
writes that read first take the write lock up front (`BEGIN IMMEDIATE`) so two processes never
interleave a read-then-write. Timestamps are ISO-8601 UTC strings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from sqlite_utils import Database

from bot import backups
from bot.migrations import migrations

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# Where each table keeps rows about one supporter; /forget and /mydata read these. deliveries has
# no user_id index (it would slow the start of every broadcast): its primary key finds a
# person's rows one broadcast at a time.
PERSONAL_ROWS = {
    "supporters": "user_id = ?",
    "consents": "user_id = ?",
    "actions": "user_id = ?",
    "mp_followups": "user_id = ?",
    "solidarity_messages": "user_id = ?",
    "deliveries": "broadcast_id IN (SELECT id FROM broadcasts) AND user_id = ?",
    "user_data": "user_id = ?",
}


def audience_filter(
    languages: tuple[str, ...],
    done_actions: tuple[str, ...],
    missing_actions: tuple[str, ...],
    constituency_code: str | None,
) -> tuple[str, list[Any]]:
    """The WHERE clause (over `supporters s`) choosing a broadcast's recipients: subscribed and
    not blocked (P2), narrowed by each filter given: done any of `done_actions`, none of
    `missing_actions`. Counting and sending share it."""
    where = ["s.opted_in = 1", "s.blocked_at IS NULL"]
    params: list[Any] = []
    if languages:
        where.append(f"s.language IN ({', '.join('?' * len(languages))})")
        params.extend(languages)
    for kinds, test in ((done_actions, "EXISTS"), (missing_actions, "NOT EXISTS")):
        if kinds:
            marks = ", ".join("?" * len(kinds))
            did = f"SELECT 1 FROM actions a WHERE a.user_id = s.user_id AND a.kind IN ({marks})"
            where.append(f"{test} ({did})")
            params.extend(kinds)
    if constituency_code:
        where.append("s.constituency_code = ?")
        params.append(constituency_code)
    return " AND ".join(where), params


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime | None = None) -> str:
    return (moment or utcnow()).astimezone(dt.UTC).isoformat(timespec="seconds")


class Storage:
    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: Path | str) -> Storage:
        """Open (creating if needed, readable only by this user) and migrate the database at
        `path`. An existing database with migrations pending is backed up first, beside it in
        backups/ (see bot.backups), so an upgrade that goes wrong can be undone."""
        path = Path(path)
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
        return cls(db)

    @classmethod
    def open_readonly(cls, path: Path) -> Storage:
        """Open an existing database only to read it: nothing is created or migrated (another
        process, e.g. `stepup-bot health`, looking at a running bot's database). Raises
        sqlite3.OperationalError when there is no database to open."""
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        return cls(Database(conn))

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def immediate(self) -> Iterator[Database]:
        """A transaction holding the write lock from its first statement."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

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

    def integrity(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]

    def checkpoint(self) -> None:
        """Fold the WAL back into the main file and truncate it to zero bytes."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- supporters -------------------------------------------------------------------------

    def get_supporter(self, user_id: int) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM supporters WHERE user_id = ?", [user_id])
        return rows[0] if rows else None

    def ensure_supporter(
        self, user_id: int, language: str, referral_source: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """The supporter's row, creating it on first contact. Returns (row, created)."""
        with self.immediate():
            existing = self.get_supporter(user_id)
            if existing:
                return existing, False
            row = {
                "user_id": user_id,
                "language": language,
                "created_at": stamp(),
                "referral_source": referral_source,
                "referral_code": secrets.token_urlsafe(6),
                "opted_in": 0,
            }
            self.insert("supporters", row)
        return self.get_supporter(user_id) or row, True

    def set_language(self, user_id: int, language: str) -> None:
        self.db.execute("UPDATE supporters SET language = ? WHERE user_id = ?", [language, user_id])

    def set_constituency(self, user_id: int, code: str, name: str) -> None:
        self.db.execute(
            "UPDATE supporters SET constituency_code = ?, constituency_name = ? WHERE user_id = ?",
            [code, name, user_id],
        )

    def set_opt_in(self, user_id: int, granted: bool, wording_version: str) -> None:
        """Record a daily-prompt consent decision and when, with the wording it answered."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE supporters SET opted_in = ? WHERE user_id = ?", [int(granted), user_id]
            )
            self.insert(
                "consents",
                {
                    "user_id": user_id,
                    "subject": "daily_prompt",
                    "granted": int(granted),
                    "wording_version": wording_version,
                    "at": stamp(),
                },
            )

    def has_consent_decision(self, user_id: int) -> bool:
        """Whether the supporter has answered the daily-prompt question (yes or no) yet."""
        query = "SELECT 1 FROM consents WHERE user_id = ? LIMIT 1"
        return self.db.execute(query, [user_id]).fetchone() is not None

    def mark_blocked(self, user_id: int) -> None:
        """The supporter blocked the bot: nothing is sent to them again."""
        self.db.execute(
            "UPDATE supporters SET blocked_at = ?, opted_in = 0 WHERE user_id = ?",
            [stamp(), user_id],
        )

    def unblock(self, user_id: int) -> None:
        """They wrote to us again, so they have unblocked the bot."""
        self.db.execute(
            "UPDATE supporters SET blocked_at = NULL WHERE user_id = ? AND blocked_at IS NOT NULL",
            [user_id],
        )

    def is_subscribed(self, user_id: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM supporters WHERE user_id = ? AND opted_in = 1 AND blocked_at IS NULL",
            [user_id],
        ).fetchone()
        return row is not None

    # --- actions ----------------------------------------------------------------------------

    def record_action(self, user_id: int, kind: str, constituency_code: str | None = None) -> None:
        row = {
            "user_id": user_id,
            "kind": kind,
            "at": stamp(),
            "constituency_code": constituency_code,
        }
        self.insert("actions", row)

    def done_actions(self, user_id: int) -> set[str]:
        rows = self.db.execute(
            "SELECT DISTINCT kind FROM actions WHERE user_id = ?", [user_id]
        ).fetchall()
        return {kind for (kind,) in rows}

    # --- privacy ----------------------------------------------------------------------------

    def personal_data(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row about this supporter, table by table (for /mydata)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for table, where in PERSONAL_ROWS.items():
            rows = self.rows(f"SELECT * FROM [{table}] WHERE {where}", [user_id])
            if rows:
                found[table] = rows
        found.update(self._conversation_rows(user_id))
        return found

    def _conversation_rows(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Conversations whose key (a JSON list of chat and user ids) names this supporter."""
        candidates = self.rows(
            "SELECT * FROM conversations WHERE key LIKE ? OR key LIKE ? OR key = ?",
            [f"[{user_id},%", f"%, {user_id}]", f"[{user_id}]"],
        )
        rows = [row for row in candidates if user_id in json.loads(row["key"])]
        return {"conversations": rows} if rows else {}

    def forget(self, user_id: int) -> None:
        """Erase everything about the supporter, then checkpoint so the WAL keeps no copy."""
        with self.immediate():
            for table, where in PERSONAL_ROWS.items():
                self.db.execute(f"DELETE FROM [{table}] WHERE {where}", [user_id])
            for row in self._conversation_rows(user_id).get("conversations", []):
                self.db.execute(
                    "DELETE FROM conversations WHERE name = ? AND key = ?",
                    [row["name"], row["key"]],
                )
            self.db.execute("DELETE FROM chat_data WHERE chat_id = ?", [user_id])
            self.db.execute("DELETE FROM chat_messages WHERE chat_id = ?", [user_id])
        self.checkpoint()

    def purge_personal_data(self) -> int:
        """Erase every supporter (the retention period is over). Returns how many."""
        (count,) = self.db.execute("SELECT count(*) FROM supporters").fetchone()
        with self.immediate():
            for table in (*PERSONAL_ROWS, "conversations", "chat_data", "chat_messages"):
                self.db.execute(f"DELETE FROM [{table}]")
        self.checkpoint()
        return count

    def record_chat_messages(self, messages: list[tuple[int, int]]) -> None:
        """Remember (chat id, message id) pairs, so /forget can delete those messages."""
        now = stamp()
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO chat_messages (chat_id, message_id, at) VALUES (?, ?, ?)",
                [(chat_id, message_id, now) for chat_id, message_id in messages],
            )

    def chat_messages_since(self, chat_id: int, since: dt.datetime) -> list[int]:
        rows = self.db.execute(
            "SELECT message_id FROM chat_messages WHERE chat_id = ? AND at >= ? "
            "ORDER BY message_id",
            [chat_id, stamp(since)],
        ).fetchall()
        return [message_id for (message_id,) in rows]

    def prune_chat_messages(self, before: dt.datetime) -> None:
        """Message ids older than Telegram's deletion window are no use to /forget."""
        self.db.execute("DELETE FROM chat_messages WHERE at < ?", [stamp(before)])

    # --- conversation persistence -----------------------------------------------------------

    def load_conversations(self, name: str) -> dict[tuple, object]:
        rows = self.db.execute(
            "SELECT key, state FROM conversations WHERE name = ?", [name]
        ).fetchall()
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    def save_conversation(self, name: str, key: tuple, state: object | None) -> None:
        encoded_key = json.dumps(list(key))
        if state is None:
            self.db.execute(
                "DELETE FROM conversations WHERE name = ? AND key = ?", [name, encoded_key]
            )
            return
        # Written after nearly every update: plain SQL, as upsert() introspects the table each call.
        self.db.execute(
            "INSERT OR REPLACE INTO conversations (name, key, state) VALUES (?, ?, ?)",
            [name, encoded_key, json.dumps(state)],
        )

    def load_json_rows(self, table: str, key_column: str) -> dict[int, dict]:
        rows = self.db.execute(f"SELECT [{key_column}], data FROM [{table}]").fetchall()
        return {key: json.loads(data) for key, data in rows}

    def save_json_row(self, table: str, key_column: str, key: int, data: dict | None) -> None:
        if not data:
            self.db.execute(f"DELETE FROM [{table}] WHERE [{key_column}] = ?", [key])
            return
        self.db.execute(
            f"INSERT OR REPLACE INTO [{table}] ([{key_column}], data) VALUES (?, ?)",
            [key, json.dumps(data)],
        )

    # --- flags ------------------------------------------------------------------------------

    def get_flag(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM flags WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_flag(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM flags WHERE key = ?", [key])
        else:
            self.db["flags"].upsert({"key": key, "value": value}, pk="key")

    # --- outside services -------------------------------------------------------------------

    def note_service_failure(self, service: str, detail: str) -> int:
        """Count one more failure in a row of an outside service (a recovery not yet reported is
        forgotten: the outage goes on); returns how many in a row."""
        with self.immediate():
            self.db.execute(
                "INSERT INTO service_outages (service, failures, detail, since)"
                " VALUES (?, 1, ?, ?) ON CONFLICT (service) DO UPDATE SET"
                " failures = failures + 1, detail = excluded.detail, recovered_at = NULL",
                [service, detail, stamp()],
            )
            query = "SELECT failures FROM service_outages WHERE service = ?"
            return self.db.execute(query, [service]).fetchone()[0]

    def note_service_success(self, service: str) -> int:
        """The service answered. Failures not yet reported are forgotten; a reported outage is
        marked over, for its recovery alert. Returns how many failures in a row this ended."""
        query = "SELECT failures, reported_at, recovered_at FROM service_outages WHERE service = ?"
        row = self.db.execute(query, [service]).fetchone()
        if row is None:
            return 0  # the usual case: one read, no write
        failures, reported_at, recovered_at = row
        if reported_at is None:
            self.db.execute("DELETE FROM service_outages WHERE service = ?", [service])
        elif recovered_at is None:
            self.db.execute(
                "UPDATE service_outages SET recovered_at = ? WHERE service = ?", [stamp(), service]
            )
        else:
            return 0  # already over, its recovery not yet reported
        return failures

    def outages_to_report(self, failures_for_outage: int) -> list[dict[str, Any]]:
        """Outages organisers have not heard of (at least `failures_for_outage` failures in a
        row), and reported ones now over."""
        return self.rows(
            "SELECT * FROM service_outages WHERE (reported_at IS NULL AND failures >= ?)"
            " OR (reported_at IS NOT NULL AND recovered_at IS NOT NULL) ORDER BY since",
            [failures_for_outage],
        )

    def mark_outage_reported(self, service: str) -> None:
        self.db.execute(
            "UPDATE service_outages SET reported_at = ? WHERE service = ?", [stamp(), service]
        )

    def close_outage(self, service: str) -> None:
        self.db.execute("DELETE FROM service_outages WHERE service = ?", [service])

    # --- solidarity -------------------------------------------------------------------------

    def add_solidarity_message(
        self, user_id: int, body: str, signature: str | None, language: str
    ) -> int:
        """Queue a supporter's message for moderation; returns its id."""
        row = {
            "user_id": user_id,
            "body": body,
            "signature": signature,
            "language": language,
            "status": "pending",
            "created_at": stamp(),
        }
        return self.insert("solidarity_messages", row)

    def next_pending_solidarity(self) -> dict[str, Any] | None:
        """The oldest message waiting for moderation (without its author's id)."""
        rows = list(
            self.rows(
                "SELECT id, body, signature, language, created_at FROM solidarity_messages"
                " WHERE status = 'pending' ORDER BY id LIMIT 1"
            )
        )
        return rows[0] if rows else None

    def solidarity_counts(self) -> dict[str, int]:
        """How many messages are in each status (pending, approved, rejected)."""
        rows = self.db.execute(
            "SELECT status, count(*) FROM solidarity_messages GROUP BY status"
        ).fetchall()
        return dict(rows)

    def moderate_solidarity(self, message_id: int, status: str, organiser_id: int) -> str | None:
        """Approve or reject a pending message. Returns the status it had before, so 'pending'
        means this decision took effect; None when there is no such message (its author may
        have used /forget)."""
        with self.immediate():
            row = self.db.execute(
                "SELECT status FROM solidarity_messages WHERE id = ?", [message_id]
            ).fetchone()
            if row and row[0] == "pending":
                self.db.execute(
                    "UPDATE solidarity_messages SET status = ?, moderated_by = ?, moderated_at = ?"
                    " WHERE id = ?",
                    [status, organiser_id, stamp(), message_id],
                )
        return row[0] if row else None

    def approved_solidarity_messages(self) -> list[dict[str, Any]]:
        """Approved messages, oldest first, with only what is printed: body, signature, language."""
        return list(
            self.rows(
                "SELECT body, signature, language FROM solidarity_messages"
                " WHERE status = 'approved' ORDER BY id"
            )
        )

    # --- mps and petition -------------------------------------------------------------------

    def save_mp(self, row: dict[str, Any]) -> None:
        """Cache an MP (`bot.mps.MP.as_row()`) under its constituency key. A sync knows no GSS
        code, so a missing code keeps the one an earlier postcode lookup stored."""
        if row.get("constituency_code") is None:
            row = {key: value for key, value in row.items() if key != "constituency_code"}
        self.db["mps"].upsert({**row, "updated_at": stamp()}, pk="constituency_key")

    def mp_for_constituency(self, constituency_key: str) -> dict[str, Any] | None:
        """The cached MP row (with `updated_at`) for a key from bot.mps.constituency_key."""
        rows = list(self.rows("SELECT * FROM mps WHERE constituency_key = ?", [constituency_key]))
        return rows[0] if rows else None

    def mp_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM mps").fetchone()[0]

    # --- mp follow-ups ----------------------------------------------------------------------

    def record_mp_letter(
        self, user_id: int, kind: str, constituency_code: str | None, follow_up_at: dt.datetime
    ) -> int | None:
        """The supporter sent their letter: the action `kind` and a follow-up question due at
        `follow_up_at`, written together. While a follow-up is still waiting to be asked another
        "I've sent it" records nothing (None), so a double tap counts once."""
        with self.immediate():
            waiting = self.db.execute(
                "SELECT 1 FROM mp_followups WHERE user_id = ? AND asked_at IS NULL", [user_id]
            ).fetchone()
            if waiting:
                return None
            self.record_action(user_id, kind, constituency_code)
            row = {
                "user_id": user_id,
                "constituency_code": constituency_code,
                "sent_at": stamp(),
                "due_at": stamp(follow_up_at),
            }
            return self.insert("mp_followups", row)

    def due_mp_followups(self, now: dt.datetime) -> list[dict[str, Any]]:
        """Follow-ups due and not yet asked (id, user_id, language). Left out: supporters who
        blocked the bot, and those whose latest consent decision after sending the letter was
        "no" (/stop promises no more reminders)."""
        return list(
            self.rows(
                "SELECT f.id, f.user_id, s.language FROM mp_followups f"
                " JOIN supporters s ON s.user_id = f.user_id"
                " WHERE f.due_at <= ? AND f.asked_at IS NULL AND s.blocked_at IS NULL"
                " AND coalesce((SELECT c.granted FROM consents c WHERE c.user_id = f.user_id"
                "   AND c.at > f.sent_at ORDER BY c.id DESC LIMIT 1), 1) = 1"
                " ORDER BY f.due_at, f.id",
                [stamp(now)],
            )
        )

    def claim_mp_followup(self, followup_id: int) -> bool:
        """Mark a follow-up asked, before the question is sent, so it is asked at most once
        whatever happens to the process. False if it was already asked."""
        return bool(
            self.db.execute(
                "UPDATE mp_followups SET asked_at = ? WHERE id = ? AND asked_at IS NULL",
                [stamp(), followup_id],
            ).rowcount
        )

    def answer_mp_followup(
        self, followup_id: int, user_id: int, outcome: str, changeable: str
    ) -> bool:
        """Record the answer to the supporter's own, asked follow-up. Only an unanswered one, or
        one answered `changeable` ("not yet"), takes an answer; False when nothing matched."""
        return bool(
            self.db.execute(
                "UPDATE mp_followups SET outcome = ?, answered_at = ?"
                " WHERE id = ? AND user_id = ? AND asked_at IS NOT NULL"
                " AND (outcome IS NULL OR outcome = ?)",
                [outcome, stamp(), followup_id, user_id, changeable],
            ).rowcount
        )

    # --- delivery ---------------------------------------------------------------------------

    def create_broadcast(
        self,
        *,
        kind: str,
        texts: dict[str, str],
        audience: dict[str, Any],
        buttons: dict[str, dict[str, str]] | None = None,
        photo_file_id: str | None = None,
        created_by: int | None = None,
        scheduled_for: dt.datetime | None = None,
        campaign_day: int | None = None,
    ) -> int:
        """Store a broadcast: 'scheduled' when it has a time, otherwise a 'draft'."""
        row = {
            "kind": kind,
            "created_by": created_by,
            "created_at": stamp(),
            "audience": json.dumps(audience),
            "texts": json.dumps(texts),
            "buttons": json.dumps(buttons) if buttons else None,
            "photo_file_id": photo_file_id,
            "status": "scheduled" if scheduled_for else "draft",
            "scheduled_for": stamp(scheduled_for) if scheduled_for else None,
            "campaign_day": campaign_day,
        }
        return self.insert("broadcasts", row)

    def get_broadcast(self, broadcast_id: int) -> dict[str, Any] | None:
        """The broadcast row with its JSON columns (audience, texts, buttons) decoded."""
        rows = self.rows("SELECT * FROM broadcasts WHERE id = ?", [broadcast_id])
        if not rows:
            return None
        row = rows[0]
        for column in ("audience", "texts", "buttons"):
            row[column] = json.loads(row[column]) if row[column] else {}
        return row

    def broadcast_status(self, broadcast_id: int) -> str | None:
        row = self.db.execute(
            "SELECT status FROM broadcasts WHERE id = ?", [broadcast_id]
        ).fetchone()
        return row[0] if row else None

    def start_deliveries(
        self,
        broadcast_id: int,
        *,
        languages: tuple[str, ...] = (),
        done_actions: tuple[str, ...] = (),
        missing_actions: tuple[str, ...] = (),
        constituency_code: str | None = None,
    ) -> int | None:
        """Mark a draft or scheduled broadcast running and write one pending delivery per eligible
        recipient, in one transaction and inside SQLite (recipients never become a Python list).
        Returns the number of recipients, or None if it had already started or ended."""
        where, params = audience_filter(languages, done_actions, missing_actions, constituency_code)
        now = stamp()
        with self.immediate():
            started = self.db.execute(
                "UPDATE broadcasts SET status = 'running', started_at = ? "
                "WHERE id = ? AND status IN ('draft', 'scheduled')",
                [now, broadcast_id],
            ).rowcount
            if not started:
                return None
            self.db.execute(
                "INSERT OR IGNORE INTO deliveries (broadcast_id, user_id, status, updated_at) "
                f"SELECT ?, s.user_id, 'pending', ? FROM supporters s WHERE {where}",
                [broadcast_id, now, *params],
            )
            total = self.db.execute(
                "SELECT count(*) FROM deliveries WHERE broadcast_id = ?", [broadcast_id]
            ).fetchone()[0]
            self.db.execute("UPDATE broadcasts SET total = ? WHERE id = ?", [total, broadcast_id])
        return total

    def claim_deliveries(self, broadcast_id: int, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` pending recipients as (user id, language), now marked 'sending': from
        here until their outcome is written they count as in flight."""
        with self.immediate():
            rows = self.db.execute(
                "SELECT d.user_id, coalesce(s.language, 'en') FROM deliveries d "
                "LEFT JOIN supporters s ON s.user_id = d.user_id "
                "WHERE d.broadcast_id = ? AND d.status = 'pending' ORDER BY d.rowid LIMIT ?",
                [broadcast_id, limit],
            ).fetchall()
            now = stamp()
            self.db.conn.executemany(
                "UPDATE deliveries SET status = 'sending', updated_at = ? "
                "WHERE broadcast_id = ? AND user_id = ?",
                [(now, broadcast_id, user_id) for user_id, _ in rows],
            )
        return rows

    def record_deliveries(
        self, broadcast_id: int, outcomes: list[tuple[int, str, int | None, str | None]]
    ) -> None:
        """Write a batch's outcomes (user id, status, message id, error) in one transaction; a
        'blocked' outcome also marks the supporter blocked."""
        now = stamp()
        with self.immediate():
            self.db.conn.executemany(
                "UPDATE deliveries SET status = ?, message_id = ?, error = ?, updated_at = ? "
                "WHERE broadcast_id = ? AND user_id = ?",
                [
                    (status, message_id, error, now, broadcast_id, user_id)
                    for user_id, status, message_id, error in outcomes
                ],
            )
            for user_id, status, _, _ in outcomes:
                if status == "blocked":
                    self.mark_blocked(user_id)

    def requeue_in_flight(self, broadcast_id: int) -> int:
        """Put rows a dead process left 'sending' back to pending; returns how many (each may or
        may not have reached Telegram before the process died)."""
        return self.db.execute(
            "UPDATE deliveries SET status = 'pending', updated_at = ? "
            "WHERE broadcast_id = ? AND status = 'sending'",
            [stamp(), broadcast_id],
        ).rowcount

    def finish_broadcast(self, broadcast_id: int) -> bool:
        """Mark a running broadcast done, only once no recipient is pending or in flight."""
        return bool(
            self.db.execute(
                "UPDATE broadcasts SET status = 'done', finished_at = ? "
                "WHERE id = ? AND status = 'running' AND NOT EXISTS (SELECT 1 FROM deliveries "
                "  WHERE broadcast_id = ? AND status IN ('pending', 'sending'))",
                [stamp(), broadcast_id, broadcast_id],
            ).rowcount
        )

    def cancel_broadcast(self, broadcast_id: int) -> bool:
        """Stop a draft, scheduled or running broadcast; a running one stops after its batch."""
        return bool(
            self.db.execute(
                "UPDATE broadcasts SET status = 'cancelled', finished_at = ? "
                "WHERE id = ? AND status IN ('draft', 'scheduled', 'running')",
                [stamp(), broadcast_id],
            ).rowcount
        )

    def running_broadcasts(self) -> list[int]:
        rows = self.db.execute("SELECT id FROM broadcasts WHERE status = 'running' ORDER BY id")
        return [broadcast_id for (broadcast_id,) in rows.fetchall()]

    def scheduled_broadcasts(self) -> list[tuple[int, str]]:
        """(id, scheduled_for) of every broadcast waiting for its time, earliest first."""
        return self.db.execute(
            "SELECT id, scheduled_for FROM broadcasts WHERE status = 'scheduled' "
            "ORDER BY scheduled_for, id"
        ).fetchall()

    def broadcast_summary(self, broadcast_id: int) -> dict[str, int]:
        """How many deliveries of a broadcast are in each status (pending, sending, sent, ...)."""
        rows = self.db.execute(
            "SELECT status, count(*) FROM deliveries WHERE broadcast_id = ? GROUP BY status",
            [broadcast_id],
        ).fetchall()
        return dict(rows)

    # --- broadcast composer -----------------------------------------------------------------

    def count_audience(
        self,
        *,
        languages: tuple[str, ...] = (),
        done_actions: tuple[str, ...] = (),
        missing_actions: tuple[str, ...] = (),
        constituency_code: str | None = None,
    ) -> int:
        """How many supporters a broadcast to this audience would reach if it started now: the
        same selection as `start_deliveries` (subscribed, and every filter given)."""
        where, params = audience_filter(languages, done_actions, missing_actions, constituency_code)
        query = f"SELECT count(*) FROM supporters s WHERE {where}"
        return self.db.execute(query, params).fetchone()[0]

    def supporter_constituencies(self) -> dict[str, str]:
        """GSS code -> name of every constituency a supporter's postcode lookup gave (a few
        hundred at most: read through the constituency index)."""
        rows = self.db.execute(
            "SELECT constituency_code, max(constituency_name) FROM supporters"
            " WHERE constituency_code IS NOT NULL GROUP BY constituency_code"
        ).fetchall()
        return {code: name or code for code, name in rows}

    def open_broadcasts(self, kind: str) -> list[int]:
        """Ids of broadcasts of `kind` being sent, then those waiting for their time (soonest
        first)."""
        rows = self.db.execute(
            "SELECT id FROM broadcasts WHERE kind = ? AND status IN ('running', 'scheduled')"
            " ORDER BY status = 'scheduled', scheduled_for, id",
            [kind],
        ).fetchall()
        return [broadcast_id for (broadcast_id,) in rows]

    # --- daily prompts ----------------------------------------------------------------------

    # The outside posts a daily run makes, and the daily_runs column holding each one's status.
    DAILY_POST_COLUMNS: ClassVar[dict[str, str]] = {"channel": "channel_status", "x": "x_status"}

    def daily_run(self, campaign_date: str) -> dict[str, Any] | None:
        """The run for a local campaign date (ISO), if its prompt was prepared."""
        rows = list(self.rows("SELECT * FROM daily_runs WHERE campaign_date = ?", [campaign_date]))
        return rows[0] if rows else None

    def add_daily_run(self, campaign_date: str, day: int, broadcast_id: int) -> None:
        """Record the date's prompt; call inside `immediate()` after finding no run for it."""
        self.insert(
            "daily_runs",
            {
                "campaign_date": campaign_date,
                "day": day,
                "broadcast_id": broadcast_id,
                "created_at": stamp(),
            },
        )

    def claim_daily_post(self, campaign_date: str, target: str) -> bool:
        """Mark the date's channel or X post 'posting' if nobody has tried it yet; True if this
        caller may now make it. One statement, so two callers never both win."""
        column = self.DAILY_POST_COLUMNS[target]
        return bool(
            self.db.execute(
                f"UPDATE daily_runs SET {column} = 'posting' "
                f"WHERE campaign_date = ? AND {column} IS NULL",
                [campaign_date],
            ).rowcount
        )

    def record_daily_post(self, campaign_date: str, target: str, status: str) -> None:
        column = self.DAILY_POST_COLUMNS[target]
        self.db.execute(
            f"UPDATE daily_runs SET {column} = ? WHERE campaign_date = ?", [status, campaign_date]
        )

    def reopen_daily_posts(self, campaign_date: str) -> None:
        """Let the date's posts that failed, or were in flight when a process died, be tried
        again (once, by the caller, at start-up)."""
        for column in self.DAILY_POST_COLUMNS.values():
            self.db.execute(
                f"UPDATE daily_runs SET {column} = NULL "
                f"WHERE campaign_date = ? AND {column} IN ('posting', 'failed')",
                [campaign_date],
            )

    def unfinished_daily_broadcasts(self, before: str) -> list[int]:
        """Daily prompts of dates before `before` (ISO) that never finished sending."""
        rows = self.db.execute(
            "SELECT r.broadcast_id FROM daily_runs r JOIN broadcasts b ON b.id = r.broadcast_id "
            "WHERE r.campaign_date < ? AND b.status IN ('draft', 'scheduled', 'running') "
            "ORDER BY r.campaign_date",
            [before],
        ).fetchall()
        return [broadcast_id for (broadcast_id,) in rows]

    # --- tracking ---------------------------------------------------------------------------

    def save_hashtag_counts(self, source: str, hashtag: str, counts: dict[str, int]) -> None:
        """Store counts per hour; an hour counted again replaces its earlier, partial value."""
        rows = [
            {"source": source, "hashtag": hashtag, "hour": hour, "count": count}
            for hour, count in counts.items()
        ]
        self.db["hashtag_counts"].upsert_all(rows, pk=("source", "hashtag", "hour"))

    def last_counted_hour(self, source: str, hashtag: str) -> str | None:
        return self.db.execute(
            "SELECT max(hour) FROM hashtag_counts WHERE source = ? AND hashtag = ?",
            [source, hashtag],
        ).fetchone()[0]

    def save_hashtag_posts(self, source: str, hashtag: str, posts: list[dict[str, Any]]) -> int:
        """Store posts found under `hashtag`: one row per post, with its latest engagement.
        Returns how many posts were new."""
        new = 0
        with self.db.atomic():
            for post in posts:
                row = {**post, "source": source, "hashtag": hashtag}
                inserted = self.db.execute(
                    "INSERT OR IGNORE INTO hashtag_posts (source, post_id, hashtag, author, text,"
                    " url, created_at, likes, reposts, replies, quotes) VALUES (:source, :post_id,"
                    " :hashtag, :author, :text, :url, :created_at, :likes, :reposts, :replies,"
                    " :quotes)",
                    row,
                ).rowcount
                if not inserted:
                    self.db.execute(
                        "UPDATE hashtag_posts SET likes = :likes, reposts = :reposts,"
                        " replies = :replies, quotes = :quotes"
                        " WHERE source = :source AND post_id = :post_id",
                        row,
                    )
                self.db.execute(
                    "INSERT OR IGNORE INTO hashtag_post_tags (source, post_id, hashtag)"
                    " VALUES (:source, :post_id, :hashtag)",
                    row,
                )
                new += inserted
        return new

    def recount_hashtag_hours(self, source: str, hashtag: str, since_hour: str) -> int:
        """Hourly counts computed from stored posts, for a source with no counts endpoint, from
        `since_hour` on. Hours use stamp()'s format, so an hour is its first 13 characters.
        Returns how many hours were written."""
        return self.db.execute(
            """
            INSERT INTO hashtag_counts (source, hashtag, hour, count)
            SELECT tags.source, tags.hashtag,
                   substr(posts.created_at, 1, 13) || ':00:00+00:00' AS hour, count(*)
            FROM hashtag_post_tags AS tags JOIN hashtag_posts AS posts USING (source, post_id)
            WHERE tags.source = ? AND tags.hashtag = ? AND posts.created_at >= ?
            GROUP BY hour
            ON CONFLICT (source, hashtag, hour) DO UPDATE SET count = excluded.count
            """,
            [source, hashtag, since_hour],
        ).rowcount

    def tracking_checkpoint(self, source: str, hashtag: str) -> str | None:
        row = self.db.execute(
            "SELECT since_id FROM tracking_checkpoints WHERE source = ? AND hashtag = ?",
            [source, hashtag],
        ).fetchone()
        return row[0] if row else None

    def save_tracking_checkpoint(self, source: str, hashtag: str, since_id: str | None) -> None:
        """Where the next search for `hashtag` starts, and (updated_at) when it was refreshed."""
        self.db["tracking_checkpoints"].upsert(
            {"source": source, "hashtag": hashtag, "since_id": since_id, "updated_at": stamp()},
            pk=("source", "hashtag"),
        )

    def tracking_refreshed_at(self, source: str) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT hashtag, updated_at FROM tracking_checkpoints WHERE source = ?", [source]
        ).fetchall()
        return dict(rows)

    def tracking_requests_made(self, source: str, day: str) -> int:
        row = self.db.execute(
            "SELECT requests FROM tracking_requests WHERE source = ? AND day = ?", [source, day]
        ).fetchone()
        return row[0] if row else 0

    def take_tracking_request(self, source: str, day: str, budget: int) -> bool:
        """Count one request against the day's budget before it is made; False once it is spent."""
        with self.immediate():
            made = self.tracking_requests_made(source, day)
            if made >= budget:
                return False
            self.db["tracking_requests"].upsert(
                {"source": source, "day": day, "requests": made + 1}, pk=("source", "day")
            )
        return True

    def raise_tracking_alert(self, source: str, problem: str, detail: str) -> bool:
        """Record a problem with a source. True the first time, when it is to be reported; False
        while the same problem persists."""
        now = stamp()
        with self.db.atomic():
            inserted = self.db.execute(
                "INSERT OR IGNORE INTO tracking_alerts"
                " (source, problem, detail, first_seen, reported_at) VALUES (?, ?, ?, ?, ?)",
                [source, problem, detail, now, now],
            ).rowcount
            if not inserted:
                self.db.execute(
                    "UPDATE tracking_alerts SET detail = ? WHERE source = ? AND problem = ?",
                    [detail, source, problem],
                )
        return bool(inserted)

    def clear_tracking_alerts(self, source: str) -> None:
        self.db.execute("DELETE FROM tracking_alerts WHERE source = ?", [source])

    def tracking_alerts(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM tracking_alerts ORDER BY first_seen, source")

    def hashtag_daily_counts(self, since_hour: str) -> list[dict[str, Any]]:
        """Counts per source, hashtag and UTC day, from `since_hour` on."""
        return list(
            self.rows(
                "SELECT source, hashtag, substr(hour, 1, 10) AS day, sum(count) AS count"
                " FROM hashtag_counts WHERE hour >= ? GROUP BY source, hashtag, day",
                [since_hour],
            )
        )

    def top_hashtag_posts(self, since: str, limit: int) -> list[dict[str, Any]]:
        """The most engaged posts created since `since` (likes, reposts, replies and quotes)."""
        return list(
            self.rows(
                "SELECT * FROM hashtag_posts WHERE created_at >= ?"
                " ORDER BY likes + reposts + replies + quotes DESC, created_at DESC LIMIT ?",
                [since, limit],
            )
        )

    # --- stats ------------------------------------------------------------------------------
    # Totals only, never a row about one person. Days are UTC days ('YYYY-MM-DD'), compared with
    # stamp()'s ISO strings; every query here walks an index (0011_stats_indexes), so /stats
    # stays fast at 100,000 supporters and 1,000,000 actions (bench/bench_database.py).

    # Each day from :first to :last inclusive, so days with nothing count as zero.
    _DAYS = (
        "WITH RECURSIVE days(day) AS (SELECT date(:first) UNION ALL"
        " SELECT date(day, '+1 day') FROM days WHERE day < date(:last))"
    )

    def supporters_by_language(self) -> dict[str, tuple[int, int]]:
        """Per language: (supporters, subscribed: opted in to the daily prompt and not blocked)."""
        rows = self.db.execute(
            "SELECT language, count(*), total(opted_in = 1 AND blocked_at IS NULL)"
            " FROM supporters GROUP BY language"
        ).fetchall()
        return {language: (count, int(subscribed)) for language, count, subscribed in rows}

    def first_supporter_day(self) -> str | None:
        row = self.db.execute("SELECT substr(min(created_at), 1, 10) FROM supporters").fetchone()
        return row[0]

    def new_supporters_per_day(self, first: str, last: str) -> dict[str, int]:
        """Supporters who joined on each day from `first` to `last`."""
        rows = self.db.execute(
            f"{self._DAYS} SELECT day, (SELECT count(*) FROM supporters"
            "  WHERE created_at >= day AND created_at < date(day, '+1 day')) FROM days",
            {"first": first, "last": last},
        ).fetchall()
        return dict(rows)

    def actions_per_day(self, kinds: tuple[str, ...], first: str, last: str) -> dict[str, dict]:
        """kind -> day -> how many actions of that kind on that day, from `first` to `last`.
        One index range count per kind and day: no sorting of a million rows."""
        rows = self.db.execute(
            f"{self._DAYS}, kinds(kind) AS (SELECT value FROM json_each(:kinds))"
            " SELECT kind, day, (SELECT count(*) FROM actions a WHERE a.kind = kinds.kind"
            "  AND a.at >= day AND a.at < date(day, '+1 day')) FROM kinds, days",
            {"first": first, "last": last, "kinds": json.dumps(kinds)},
        ).fetchall()
        per_kind: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        for kind, day, count in rows:
            per_kind[kind][day] = count
        return per_kind

    def people_who_did(self, kinds: tuple[str, ...]) -> int:
        """How many supporters did at least one action of these kinds."""
        each_kind = " UNION ".join(
            ["SELECT DISTINCT user_id FROM actions WHERE kind = ?"] * len(kinds)
        )
        return self.db.execute(f"SELECT count(*) FROM ({each_kind})", kinds).fetchone()[0]

    def actions_by_constituency(self, kind: str, limit: int | None = None) -> list[dict[str, Any]]:
        """(code, name, count) of each constituency's actions of `kind`, most first; the name is
        the one supporters' postcode lookups gave, else the MP cache's."""
        return list(
            self.rows(
                "SELECT counted.code, counted.count, coalesce("
                "  (SELECT constituency_name FROM supporters WHERE constituency_code = counted.code"
                "   AND constituency_name IS NOT NULL LIMIT 1),"
                "  (SELECT constituency_name FROM mps WHERE constituency_code = counted.code"
                "   LIMIT 1)) AS name"
                " FROM (SELECT constituency_code AS code, count(*) AS count FROM actions"
                "  WHERE kind = ? AND constituency_code IS NOT NULL GROUP BY constituency_code"
                "  ORDER BY count DESC, code LIMIT ?) AS counted"
                " ORDER BY counted.count DESC, counted.code",
                [kind, -1 if limit is None else limit],
            )
        )

    def mp_replies_by_constituency(self) -> dict[str, dict[str, int]]:
        """constituency code -> reported outcome -> how many supporters reported it."""
        rows = self.db.execute(
            "SELECT constituency_code, outcome, count(*) FROM mp_followups"
            " WHERE outcome IS NOT NULL AND constituency_code IS NOT NULL"
            " GROUP BY constituency_code, outcome"
        ).fetchall()
        replies: dict[str, dict[str, int]] = {}
        for code, outcome, count in rows:
            replies.setdefault(code, {})[outcome] = count
        return replies

    def referral_sources(self) -> dict[str, int]:
        """How many supporters arrived through each deep-link source ('ref-<code>', 'mp', ...)."""
        rows = self.db.execute(
            "SELECT referral_source, count(*) FROM supporters"
            " WHERE referral_source IS NOT NULL GROUP BY referral_source"
        ).fetchall()
        return dict(rows)

    def broadcast_outcomes(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The latest broadcasts first (id, kind, created_at, status, total), each with its
        `deliveries` per status."""
        rows = list(
            self.rows(
                "SELECT id, kind, created_at, status, total FROM broadcasts"
                " ORDER BY id DESC LIMIT ?",
                [-1 if limit is None else limit],
            )
        )
        return [{**row, "deliveries": self.broadcast_summary(row["id"])} for row in rows]

    def solidarity_message_counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, count(*) FROM solidarity_messages GROUP BY status"
        ).fetchall()
        return dict(rows)
