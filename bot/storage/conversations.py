"""Conversation state and user_data, written through after every update (`bot.app.persistence`)."""

from __future__ import annotations

import json

from bot.storage.base import Store


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

    def save_json_row(self, table: str, key_column: str, key: int, data: dict | None) -> None:
        if not data:
            self.db.execute(f"DELETE FROM [{table}] WHERE [{key_column}] = ?", [key])
            return
        self.db.execute(
            f"INSERT OR REPLACE INTO [{table}] ([{key_column}], data) VALUES (?, ?)",
            [key, json.dumps(data)],
        )
