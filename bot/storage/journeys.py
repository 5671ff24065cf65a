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

    def queue_solidarity_message(
        self, user_id: int, body: str, signature: str | None, language: str, kind: str
    ) -> int | None:
        """A supporter's Send: the message queued for moderation and the action `kind`, written
        together; returns the message's id. The same words and signature of theirs still
        waiting are not queued again (None): a Send handled a second time (Telegram gives the
        press again after a crash before its confirmation, or the crash came before the
        journey's state was saved) counts once."""
        with self.immediate():
            waiting = self.db.execute(
                "SELECT 1 FROM solidarity_messages WHERE user_id = ? AND status = 'pending'"
                " AND body = ? AND signature IS ?",
                [user_id, body, signature],
            ).fetchone()
            if waiting:
                return None
            message_id = self.add_solidarity_message(user_id, body, signature, language)
            self.record_action(user_id, kind)
            return message_id

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
        `follow_up_at`, written together; returns the follow-up's id. While a follow-up is
        still waiting to be asked, another "I've sent it" for the same constituency records
        nothing (None), so a press handled twice counts once; a letter to another
        constituency's MP counts, and the one question waiting moves to it (its MP is the one
        to ask about, say after a first letter found from the wrong postcode)."""
        with self.immediate():
            waiting = self.db.execute(
                "SELECT id, constituency_code FROM mp_followups"
                " WHERE user_id = ? AND asked_at IS NULL",
                [user_id],
            ).fetchone()
            if waiting and waiting[1] == constituency_code:
                return None
            self.record_action(user_id, kind, constituency_code)
            if waiting:
                # A "not yet" reported early was about the other MP: it goes too.
                self.db.execute(
                    "UPDATE mp_followups SET constituency_code = ?, sent_at = ?, due_at = ?,"
                    " outcome = NULL, answered_at = NULL WHERE id = ?",
                    [constituency_code, stamp(), stamp(follow_up_at), waiting[0]],
                )
                return waiting[0]
            row = {
                "user_id": user_id,
                "constituency_code": constituency_code,
                "sent_at": stamp(),
                "due_at": stamp(follow_up_at),
            }
            return self.insert("mp_followups", row)

    def mp_followups_due(self, now: dt.datetime, consent: str | None) -> bool:
        """Whether any follow-up has come due at `now` for `ask_mp_followups` to ask."""
        where, params = _due(now, consent)
        return self.db.execute(f"SELECT 1 {where} LIMIT 1", params).fetchone() is not None

    def ask_mp_followups(self, broadcast_id: int, now: dt.datetime, consent: str | None) -> int:
        """Put every follow-up due at `now` and not asked yet in the broadcast that asks it
        (call in the transaction that creates it), marked asked: those of supporters who said
        yes to `consent` (a bot.consent subject; None: no choice needed), have not blocked
        the bot and have not sent /stop since sending the letter (saying no to one kind of
        message is not /stop: bot.consent). Returns how many."""
        where, params = _due(now, consent)
        return self.db.execute(
            "UPDATE mp_followups SET broadcast_id = ?, asked_at = ?"
            f" WHERE id IN (SELECT f.id {where})",
            [broadcast_id, stamp(now), *params],
        ).rowcount

    def mp_followup_asked_in(self, broadcast_id: int, user_id: int) -> int | None:
        """The id of the supporter's follow-up the broadcast asks, None if it asks them none."""
        row = self.db.execute(
            "SELECT id FROM mp_followups WHERE broadcast_id = ? AND user_id = ?",
            [broadcast_id, user_id],
        ).fetchone()
        return row[0] if row else None

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


def _due(now: dt.datetime, consent: str | None) -> tuple[str, list[Any]]:
    """SQL from FROM on: the follow-ups `f` due at `now`, not asked yet, of supporters `s` who
    may be asked (see JourneyStore.ask_mp_followups); and its parameters."""
    return (
        "FROM mp_followups f JOIN supporters s ON s.user_id = f.user_id"
        " WHERE f.due_at <= ? AND f.asked_at IS NULL AND s.blocked_at IS NULL"
        f" AND {agreed(consent)} AND {not_stopped_since('f.sent_at')}",
        [stamp(now)],
    )
