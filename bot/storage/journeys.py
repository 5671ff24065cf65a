"""The journeys' records: solidarity messages, the MP cache and the "did your MP reply?"
follow-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.storage.base import Store, not_stopped_since, stamp
from bot.storage.supporters import agreed


class JourneyStore(Store):
    """Solidarity messages, the MP cache and MP follow-ups."""

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
        """Approve or reject a pending message. A rejected message keeps only its status (for
        the counts): its words, signature and author are deleted at once, as /privacy says.
        Returns the status it had before, so 'pending' means this decision took effect; None
        when there is no such message (its author may have used /forget)."""
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
                if status == "rejected":
                    self.db.execute(
                        "UPDATE solidarity_messages SET body = NULL, signature = NULL,"
                        " user_id = NULL WHERE id = ?",
                        [message_id],
                    )
        return row[0] if row else None

    def approved_solidarity_messages(self) -> list[dict[str, Any]]:
        """Approved messages, oldest first, with their id and only what is printed: body,
        signature, language. Printed ones too, so a lost PDF can be made again."""
        return list(
            self.rows(
                "SELECT id, body, signature, language FROM solidarity_messages"
                " WHERE status = 'approved' ORDER BY id"
            )
        )

    def mark_printed(self, message_ids: list[int]) -> None:
        """These messages went out in a PDF for the refuges: note when, and drop their author,
        so nothing links a printed card to a person (/privacy says so)."""
        now = stamp()
        with self.db.atomic():
            self.db.conn.executemany(
                "UPDATE solidarity_messages SET printed_at = ?, user_id = NULL"
                " WHERE id = ? AND printed_at IS NULL",
                [(now, message_id) for message_id in message_ids],
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

    def due_mp_followups(self, now: dt.datetime, consent: str | None) -> list[dict[str, Any]]:
        """Follow-ups due and not yet asked (id, user_id, language) to those who said yes to
        `consent` (a bot.consent subject; None: no choice needed). Left out: supporters who
        blocked the bot, and those who sent /stop after sending the letter (saying no to one
        kind of message is not /stop: bot.consent)."""
        return list(
            self.rows(
                "SELECT f.id, f.user_id, s.language FROM mp_followups f"
                " JOIN supporters s ON s.user_id = f.user_id"
                " WHERE f.due_at <= ? AND f.asked_at IS NULL AND s.blocked_at IS NULL"
                f" AND {agreed(consent)} AND {not_stopped_since('f.sent_at')}"
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
        """Record the answer to the supporter's own follow-up, asked or not yet asked (a reply
        reported before the question is due). Only an unanswered one, or one answered
        `changeable` ("not yet"), takes an answer; False when nothing matched. A final answer
        given early means the question is never asked; "not yet" leaves it to come."""
        asked = None if outcome == changeable else stamp()
        return bool(
            self.db.execute(
                "UPDATE mp_followups SET outcome = ?, answered_at = ?,"
                " asked_at = coalesce(asked_at, ?)"
                " WHERE id = ? AND user_id = ? AND (outcome IS NULL OR outcome = ?)",
                [outcome, stamp(), asked, followup_id, user_id, changeable],
            ).rowcount
        )

    def open_mp_followup(self, user_id: int, changeable: str) -> int | None:
        """The id of the supporter's latest follow-up whose reply is still to be reported
        (unanswered, or answered `changeable`), asked or not; None if there is none."""
        row = self.db.execute(
            "SELECT id FROM mp_followups WHERE user_id = ? AND (outcome IS NULL OR outcome = ?)"
            " ORDER BY id DESC LIMIT 1",
            [user_id, changeable],
        ).fetchone()
        return row[0] if row else None
