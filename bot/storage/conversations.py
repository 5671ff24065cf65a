"""Conversation state and user_data, written through after every update (`bot.app.persistence`),
and which updates were handled to the end."""

from __future__ import annotations

import datetime as dt
import json

from bot.storage.base import Store, stamp


class ConversationStore(Store):
    """Conversation states and user_data for `bot.app.persistence`."""

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

    def save_json_row(self, table: str, key_column: str, key: int, encoded: str | None) -> None:
        """Keep `encoded` (JSON) as the row's data, or drop the row for None."""
        if encoded is None:
            self.db.execute(f"DELETE FROM [{table}] WHERE [{key_column}] = ?", [key])
            return
        self.db.execute(
            f"INSERT OR REPLACE INTO [{table}] ([{key_column}], data) VALUES (?, ?)",
            [key, encoded],
        )

    # --- updates handled ------------------------------------------------------------------------

    def note_handled(self, update_ids: list[int], at: str) -> None:
        """The updates were handled to the end and their effects saved, at `at` (`stamp`)."""
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO handled_updates (update_id, at) VALUES (?, ?)",
            [(update_id, at) for update_id in update_ids],
        )

    def was_handled(self, update_id: int) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM handled_updates WHERE update_id = ?", [update_id]
            ).fetchone()
        )

    def highest_handled(self) -> int:
        """The highest update id noted handled, 0 if none."""
        return self.db.execute("SELECT max(update_id) FROM handled_updates").fetchone()[0] or 0

    def prune_handled_updates(self, before: dt.datetime) -> None:
        """Forget the ids of updates handled before `before`; Telegram gives an unconfirmed
        update again at the next start, within a day at most (it keeps them 24 hours)."""
        self.db.execute("DELETE FROM handled_updates WHERE at < ?", [stamp(before)])
