"""Supporters, their consents and actions, and what /mydata shows and /forget erases."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any, NamedTuple

from bot.campaign import DEFAULT_LANGUAGE
from bot.storage.base import FOLLOWUP_OWED, Store, followup_clause, not_stopped_since, stamp
from bot.storage.lobby import LOBBY_REACHES, STOPPED, going_clause, left_reach

# What a person can agree to hear from us, each a separate choice (see bot.consent).
DAILY_PROMPT = "daily_prompt"
UPDATES = "campaign_updates"
WHATS_NEXT = "whats_next"
# Each consent subject's current answer, kept on the supporter's row so audiences read an index;
# the consents table keeps every decision with its time and wording.
CONSENT_COLUMNS = {
    DAILY_PROMPT: "opted_in",
    UPDATES: "updates_opted_in",
    WHATS_NEXT: "whats_next_opted_in",
}


# Why a message was not sent to someone at their turn (deliveries.error of a 'skipped' row, said
# in the organiser's report): erased (/forget), blocked the bot, no longer agreed to this kind of
# message, no longer in the lobby-day audience it was for (bot.storage.lobby.LEFT_REACH), or,
# for "Did your MP reply?", answered already (on the MP screen) or /stop since the letter.
ERASED, BLOCKED, UNSUBSCRIBED, ANSWERED = "erased", "blocked", "unsubscribed", "answered"
STOPPED_SINCE_LETTER = f"NOT {not_stopped_since('f.sent_at')}"


def agreed(subject: str | None, alias: str = "s") -> str:
    """SQL: the supporter `alias` said yes to `subject` (a bot.consent subject); true for None,
    a message that needs no choice (see bot.consent)."""
    return f"{alias}.{CONSENT_COLUMNS[subject]} = 1" if subject else "1"

# Where each table keeps rows about one supporter; /forget and /mydata read these. deliveries has
# no user_id index (it would slow the start of every broadcast): its primary key finds a
# person's rows one broadcast at a time.
PERSONAL_ROWS = {
    "supporters": "user_id = ?",
    "consents": "user_id = ?",
    "actions": "user_id = ?",
    "mp_followups": "user_id = ?",
    "solidarity_messages": "user_id = ?",
    "lobby_rsvps": "user_id = ?",
    "lobby_stories": "user_id = ?",
    "deliveries": "broadcast_id IN (SELECT id FROM broadcasts) AND user_id = ?",
    "user_data": "user_id = ?",
    "chat_messages": "chat_id = ?",  # bots talk to people in private chats, whose id is theirs
    "organiser_languages": "user_id = ?",
}
# /mydata lists each table's rows in the order they happened.
PERSONAL_ORDER = {
    "consents": "at",
    "actions": "at",
    "mp_followups": "sent_at",
    "solidarity_messages": "created_at",
    "lobby_rsvps": "coalesce(updated_at, created_at)",
    "lobby_stories": "created_at",
    "deliveries": "updated_at",
    "chat_messages": "at",
}
# What orders rows of the same moment: their rowid, but chat_messages has none (WITHOUT ROWID).
TIEBREAK = {"chat_messages": "message_id"}



class Standing(NamedTuple):
    """A supporter as every update of theirs needs them (`SupporterStore.standing`)."""

    language: str
    blocked: bool

class SupporterStore(Store):
    """Supporters, consents, actions, and what /mydata shows and /forget erases."""

    # --- supporters -------------------------------------------------------------------------

    def get_supporter(self, user_id: int) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM supporters WHERE user_id = ?", [user_id])
        return rows[0] if rows else None

    def standing(self, user_id: int) -> Standing | None:
        """What every update of a supporter needs (`handlers.gate.know_supporter`), without
        reading their whole row: their language and whether Telegram last said they blocked
        the bot. None for someone without a row."""
        row = self.db.conn.execute(
            "SELECT language, blocked_at IS NOT NULL FROM supporters WHERE user_id = ?",
            [user_id],
        ).fetchone()
        return Standing(row[0], bool(row[1])) if row else None

    def language_of(self, user_id: int | None) -> str:
        """The language the person chose (`chosen_language`); the default for someone who
        never chose one (an organiser reached only by a job)."""
        chosen = self.chosen_language(user_id) if user_id is not None else None
        return chosen or DEFAULT_LANGUAGE

    def chosen_language(self, user_id: int) -> str | None:
        """The language the person chose as a supporter or, without a supporter row, as an
        organiser (`set_organiser_language`); None if neither."""
        (chosen,) = self.db.execute(
            "SELECT coalesce((SELECT language FROM supporters WHERE user_id = ?),"
            " (SELECT language FROM organiser_languages WHERE user_id = ?))",
            [user_id, user_id],
        ).fetchone()
        return chosen

    def set_organiser_language(self, user_id: int, language: str | None) -> None:
        """The language an organiser without a supporter row chose for their own commands and
        messages; None once it has moved to their supporter row (they sent /start). Keeping
        it makes them neither a supporter nor a recipient of anything."""
        if language is None:
            self.db.execute("DELETE FROM organiser_languages WHERE user_id = ?", [user_id])
            return
        self.db["organiser_languages"].upsert(
            {"user_id": user_id, "language": language, "chosen_at": stamp()}, pk="user_id"
        )

    def drop_organiser_languages(self, organisers: frozenset[int]) -> None:
        """Erase the language of anyone no longer among `organisers` (ORGANISER_IDS): only an
        organiser can use it, or reach the buttons that erase it."""
        marks = ", ".join("?" * len(organisers))
        self.db.execute(
            f"DELETE FROM organiser_languages WHERE user_id NOT IN ({marks})", list(organisers)
        )

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

    def consents(self, user_id: int) -> dict[str, bool]:
        """Each consent subject -> whether the person has said yes to it (no when never asked,
        and for someone with no row)."""
        columns = ", ".join(CONSENT_COLUMNS.values())
        row = self.db.execute(
            f"SELECT {columns} FROM supporters WHERE user_id = ?", [user_id]
        ).fetchone()
        return {subject: bool(row and row[i]) for i, subject in enumerate(CONSENT_COLUMNS)}

    def set_consents(
        self, user_id: int, choices: dict[str, bool], wording_version: str, *, stop: bool = False
    ) -> list[str]:
        """Record the person's choices (subject -> yes or no), each with the time and the
        wording it answered. A choice the same as the last one recorded for its subject writes
        nothing, so a repeated /stop or a double tap adds no row. With `stop` (/stop), also
        when they said it, which ends what their own actions set up (bot.consent); a yes to
        anything afterwards undoes that. Nothing is written for someone with no row. Returns
        the subjects whose record changed."""
        changed = []
        with self.immediate():
            if (
                self.db.execute("SELECT 1 FROM supporters WHERE user_id = ?", [user_id]).fetchone()
                is None
            ):
                return changed
            if stop:
                self.db.execute(
                    "UPDATE supporters SET stopped_at = ? WHERE user_id = ?", [stamp(), user_id]
                )
            elif any(choices.values()):
                self.db.execute(
                    "UPDATE supporters SET stopped_at = NULL WHERE user_id = ?", [user_id]
                )
            for subject, granted in choices.items():
                latest = self.db.execute(
                    "SELECT granted FROM consents WHERE user_id = ? AND subject = ?"
                    " ORDER BY id DESC LIMIT 1",
                    [user_id, subject],
                ).fetchone()
                if latest is not None and bool(latest[0]) == granted:
                    continue
                self.db.execute(
                    f"UPDATE supporters SET {CONSENT_COLUMNS[subject]} = ? WHERE user_id = ?",
                    [int(granted), user_id],
                )
                self.insert(
                    "consents",
                    {
                        "user_id": user_id,
                        "subject": subject,
                        "granted": int(granted),
                        "wording_version": wording_version,
                        "at": stamp(),
                    },
                )
                changed.append(subject)
        return changed

    def has_consent_decision(self, user_id: int, subject: str | None = None) -> bool:
        """Whether the supporter has answered a question about messages (yes or no) yet; given
        `subject`, a question about that kind of message."""
        query = "SELECT 1 FROM consents WHERE user_id = ?"
        params: list[object] = [user_id]
        if subject is not None:
            query += " AND subject = ?"
            params.append(subject)
        return self.db.execute(f"{query} LIMIT 1", params).fetchone() is not None

    def may_receive(
        self, user_id: int, subject: str | None, lobby: tuple[int, str] | None = None
    ) -> bool:
        """Whether a message may go to the person now (`refusal` finds no reason against)."""
        return self.refusal(user_id, subject, lobby) is None

    def refusal(
        self,
        user_id: int,
        subject: str | None,
        lobby: tuple[int, str] | None = None,
        followups_of: int | None = None,
    ) -> str | None:
        """Why a message may not go to the person now (None: it may): they have no row
        (ERASED), blocked the bot (BLOCKED), have not said yes to `subject` (UNSUBSCRIBED;
        None: needs no choice); given `lobby` as (event id, a bot.lobby audience), are no
        longer in that audience (bot.storage.lobby.left_reach says how); given the broadcast
        `followups_of` that asks their "Did your MP reply?", have answered it already
        (ANSWERED) or sent /stop since their letter (STOPPED). Checked again for every message
        at the moment it is sent (D5, P7)."""
        columns, params = ["s.blocked_at IS NULL", agreed(subject)], []
        if lobby:
            event_id, reach = lobby
            columns += [LOBBY_REACHES[reach], going_clause()]
            params += [event_id, event_id]
        if followups_of:
            columns += [followup_clause(FOLLOWUP_OWED), followup_clause(STOPPED_SINCE_LETTER)]
            params += [followups_of, followups_of]
        row = self.db.execute(
            f"SELECT {', '.join(columns)} FROM supporters s WHERE s.user_id = ?",
            [*params, user_id],
        ).fetchone()
        if row is None:
            return ERASED
        unblocked, said_yes, *around = row
        if not unblocked:
            return BLOCKED
        if not said_yes:
            return UNSUBSCRIBED
        if lobby and not around[0]:
            return left_reach(lobby[1], going=bool(around[1]))
        if followups_of:
            owed, stopped = around[-2:]
            return ANSWERED if not owed else STOPPED if stopped else None
        return None

    def mark_blocked(self, user_id: int) -> None:
        """The supporter blocked the bot: nothing is sent to them again until they write to us.
        Their choices stay as they made them."""
        self.db.execute(
            "UPDATE supporters SET blocked_at = ? WHERE user_id = ?", [stamp(), user_id]
        )

    def unblock(self, user_id: int) -> None:
        """They wrote to us again, so they have unblocked the bot."""
        self.db.execute(
            "UPDATE supporters SET blocked_at = NULL WHERE user_id = ? AND blocked_at IS NOT NULL",
            [user_id],
        )

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
        """Every row about this supporter, table by table, each in time order (for /mydata);
        each delivery with its broadcast's `kind` (daily prompt or campaign update) and
        `broadcast_status` (a pending one is not coming once it is 'cancelled'), each action
        with its `constituency_name` (None if no lookup ever named it), each lobby RSVP and
        story with its event's `event_title` ({language: title}) and `event_status`, each MP
        follow-up with what became of the broadcast asking it (`_followup_delivery`). All read
        in one transaction: one snapshot, and one read lock rather than one per statement."""
        with self.db.atomic():
            return self._personal_data(user_id)

    def _personal_data(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for table, where in PERSONAL_ROWS.items():
            order = PERSONAL_ORDER.get(table, "rowid")
            tiebreak = TIEBREAK.get(table, "rowid")
            rows = self.rows(
                f"SELECT * FROM [{table}] WHERE {where} ORDER BY {order}, {tiebreak}", [user_id]
            )
            if rows:
                found[table] = rows
        for delivery in found.get("deliveries", []):
            delivery["kind"], delivery["broadcast_status"] = self.db.execute(
                "SELECT kind, status FROM broadcasts WHERE id = ?", [delivery["broadcast_id"]]
            ).fetchone()
        for followup in found.get("mp_followups", []):
            followup.update(self._followup_delivery(followup))
        for action in found.get("actions", []):
            action["constituency_name"] = self.constituency_name(action["constituency_code"])
        for lobby_row in found.get("lobby_rsvps", []) + found.get("lobby_stories", []):
            title, lobby_row["event_status"] = self.db.execute(
                "SELECT title, status FROM lobby_events WHERE id = ?", [lobby_row["event_id"]]
            ).fetchone()
            lobby_row["event_title"] = json.loads(title)
        found.update(self._conversation_rows(user_id))
        return found

    def _followup_delivery(self, followup: dict[str, Any]) -> dict[str, Any]:
        """What became of the broadcast asking an MP follow-up (None for one not put in any):
        `broadcast_status` (bot.delivery's: 'preparing', 'running', 'done'...), and the
        supporter's delivery in it, `delivery_status` ('pending', 'sent', 'skipped'...; None
        while not written, or if they were left out of its recipients), `delivery_error` (why
        it was skipped) and `delivered_at`, when that outcome was recorded."""
        row = self.db.execute(
            "SELECT b.status, d.status, d.error, d.updated_at FROM broadcasts b"
            " LEFT JOIN deliveries d ON d.broadcast_id = b.id AND d.user_id = ? WHERE b.id = ?",
            [followup["user_id"], followup["broadcast_id"]],
        ).fetchone()
        keys = ("broadcast_status", "delivery_status", "delivery_error", "delivered_at")
        return dict(zip(keys, row or (None,) * len(keys), strict=True))

    def _conversation_rows(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Conversations whose key (a JSON list of chat and user ids) names this supporter."""
        candidates = self.rows(
            "SELECT * FROM conversations WHERE key LIKE ? OR key LIKE ? OR key = ?",
            [f"[{user_id},%", f"%, {user_id}]", f"[{user_id}]"],
        )
        rows = [row for row in candidates if user_id in json.loads(row["key"])]
        return {"conversations": rows} if rows else {}

    def forget(self, user_id: int) -> None:
        """Erase everything about the supporter. Their bytes leave the files (overwritten by
        secure_delete) once a `checkpoint()` completes: call it next, off the event loop."""
        with self.immediate():
            for table, where in PERSONAL_ROWS.items():
                self.db.execute(f"DELETE FROM [{table}] WHERE {where}", [user_id])
            for row in self._conversation_rows(user_id).get("conversations", []):
                self.db.execute(
                    "DELETE FROM conversations WHERE name = ? AND key = ?",
                    [row["name"], row["key"]],
                )
            self.db.execute("DELETE FROM chat_data WHERE chat_id = ?", [user_id])

    def purge_personal_data(self) -> int:
        """Erase every supporter (the retention period is over); `checkpoint()` next, as after
        `forget`. Returns how many."""
        (count,) = self.db.execute("SELECT count(*) FROM supporters").fetchone()
        with self.immediate():
            for table in (*PERSONAL_ROWS, "conversations", "chat_data"):
                self.db.execute(f"DELETE FROM [{table}]")
        return count

    def record_chat_messages(self, messages: list[tuple[int, int]], at: str | None = None) -> None:
        """Remember (chat id, message id) pairs, sent at `at` (`stamp`, now if not given), so
        /forget can delete those messages. Inside a transaction (an update's commit) they are
        part of it; sqlite-utils' savepoint for a nested `atomic` has a new name each time, so
        SQLite would compile it after every update."""
        at = at or stamp()
        rows = [(chat_id, message_id, at) for chat_id, message_id in messages]
        sql = "INSERT OR IGNORE INTO chat_messages (chat_id, message_id, at) VALUES (?, ?, ?)"
        if self.db.conn.in_transaction:
            self.db.conn.executemany(sql, rows)
            return
        with self.db.atomic():
            self.db.conn.executemany(sql, rows)

    def claim_shared_chat_notice(self, chat_id: int) -> bool:
        """Whether the group or channel `chat_id` is yet to be told "message me privately";
        True once per chat ever (it is recorded as told in the same statement)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO shared_chats_told (chat_id, told_at) VALUES (?, ?)",
            [chat_id, stamp()],
        )
        return cursor.rowcount == 1

    def chat_messages_since(self, chat_id: int, since: dt.datetime) -> list[int]:
        """The ids of the bot's messages in this private chat since `since`, for /forget to
        delete: those recorded as they were sent, and those the delivery engine sent (daily
        prompts, broadcasts, a lobby day's messages, "Did your MP reply?")."""
        rows = self.db.execute(
            "SELECT message_id FROM chat_messages WHERE chat_id = ? AND at >= ?"
            " UNION SELECT message_id FROM deliveries WHERE broadcast_id IN"
            " (SELECT id FROM broadcasts) AND user_id = ? AND message_id IS NOT NULL"
            " AND updated_at >= ? ORDER BY message_id",
            [chat_id, stamp(since), chat_id, stamp(since)],
        ).fetchall()
        return [message_id for (message_id,) in rows]

    def prune_chat_messages(self, before: dt.datetime) -> None:
        """Message ids older than Telegram's deletion window are no use to /forget."""
        self.db.execute("DELETE FROM chat_messages WHERE at < ?", [stamp(before)])
