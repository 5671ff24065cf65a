"""Conversation state and user_data in SQLite (not pickle), so journeys survive restarts.

Only what journeys need is stored: conversation states and user_data. bot_data holds live
services and chat_data is unused, so neither is persisted. Each write first waits, off the
event loop, for a write lock another connection may hold (`Storage.writable`): PTB also saves
on a timer of its own, outside any update.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

from telegram.ext import BasePersistence, PersistenceInput

from bot.storage import Storage

USER_DATA = ("user_data", "user_id")


class SQLitePersistence(BasePersistence[dict, dict, dict]):
    def __init__(self, path: Path) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=60,
        )
        self.path = path
        self._storage: Storage | None = None
        # PTB asks to save a user's data after each of their updates; most are unchanged, so
        # remember what was last written and skip identical writes.
        self._written: dict[int, dict] = {}

    @property
    def storage(self) -> Storage:
        """The database opens when the application first asks for its state."""
        if self._storage is None:
            self._storage = Storage.open(self.path)
        return self._storage

    def close(self) -> None:
        if self._storage is not None:
            self._storage.close()
            self._storage = None

    async def get_user_data(self) -> dict[int, dict]:
        self._written = self.storage.load_json_rows(*USER_DATA)
        return deepcopy(self._written)

    async def update_user_data(self, user_id: int, data: dict) -> None:
        if self._written.get(user_id, {}) == data:
            return
        await self.storage.writable()
        self.storage.save_json_row(*USER_DATA, user_id, data)
        self._written[user_id] = deepcopy(data)

    async def drop_user_data(self, user_id: int) -> None:
        await self.storage.writable()
        self.storage.save_json_row(*USER_DATA, user_id, None)
        self._written.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        """Our user_data is only changed through the application, so there is nothing to pull."""

    async def get_conversations(self, name: str) -> dict:
        return self.storage.load_conversations(name)

    async def update_conversation(self, name: str, key: tuple, new_state: object | None) -> None:
        await self.storage.writable()
        self.storage.save_conversation(name, key, deepcopy(new_state))

    async def flush(self) -> None:
        """Every write above is already committed."""

    # chat_data, bot_data and callback_data are switched off in store_data; PTB never calls
    # these, but BasePersistence requires them.
    async def get_chat_data(self) -> dict[int, dict]:
        return {}

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        """Not persisted."""

    async def update_bot_data(self, data: dict) -> None:
        """Not persisted."""

    async def update_callback_data(self, data: object) -> None:
        """Not persisted."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not persisted."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        """Not persisted."""

    async def refresh_bot_data(self, bot_data: dict) -> None:
        """Not persisted."""
