"""Conversation state and user_data in SQLite (not pickle), so journeys survive restarts.

Only what journeys need is stored: conversation states and user_data. bot_data holds live
services and chat_data is unused, so neither is persisted. python-telegram-bot hands over each
changed value separately; they are kept here and written together, with the ids of the
update's messages (for /forget), in one transaction by `commit`, which the application calls
once its persistence is updated (after each update, and on python-telegram-bot's own timer).
A write lock another connection may hold is waited for off the event loop (`Storage.writing`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from telegram.ext import BasePersistence, PersistenceInput

from bot.storage import Storage, stamp

logger = logging.getLogger(__name__)

USER_DATA = ("user_data", "user_id")
# Update ids remembered in memory as handled: far more than a restart or a webhook retry can
# give again, at about 100 bytes each.
RECENTLY_HANDLED = 10_000


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
        # remember the JSON last written and skip identical writes. JSON, not the dict: it is
        # what gets written, a snapshot no later change can reach, and cheaper to compare than
        # a dict is to copy deeply.
        self._written: dict[int, str] = {}
        # What `commit` writes next: user_data as JSON (None: drop it), conversation states,
        # and (chat id, message id) pairs of messages /forget will delete.
        self._user_data: dict[int, str | None] = {}
        self._conversations: dict[tuple[str, str], object | None] = {}
        self._messages: list[tuple[int, int]] = []
        self._handled: list[int] = []
        # The latest update ids handled in this run, and the highest handled id not among them
        # (None until read from the database): see `was_handled`.
        self._recent: dict[int, None] = {}
        self._floor: int | None = None

    @property
    def storage(self) -> Storage:
        """The database opens when the application first asks for its state."""
        if self._storage is None:
            self._storage = Storage.open(self.path).for_event_loop()
        return self._storage

    def close(self) -> None:
        if self._storage is not None:
            self._storage.close()
            self._storage = None

    async def get_user_data(self) -> dict[int, dict]:
        user_data = self.storage.load_json_rows(*USER_DATA)
        self._written = {user_id: json.dumps(data) for user_id, data in user_data.items()}
        return user_data

    async def update_user_data(self, user_id: int, data: dict) -> None:
        encoded = json.dumps(data) if data else None
        if self._written.get(user_id) == encoded:
            return
        if encoded is None:
            self._written.pop(user_id, None)
        else:
            self._written[user_id] = encoded
        self._user_data[user_id] = encoded

    async def drop_user_data(self, user_id: int) -> None:
        """After /forget: their data goes, and nothing of theirs still waiting for a commit
        (kept after a failed one) is written after their erasure."""
        self._written.pop(user_id, None)
        self._user_data[user_id] = None
        self._conversations = {
            (name, key): state
            for (name, key), state in self._conversations.items()
            if user_id not in key
        }
        self._messages = [(chat, message) for chat, message in self._messages if chat != user_id]

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        """Our user_data is only changed through the application, so there is nothing to pull."""

    async def get_conversations(self, name: str) -> dict:
        return self.storage.load_conversations(name)

    async def update_conversation(self, name: str, key: tuple, new_state: object | None) -> None:
        self._conversations[name, key] = new_state  # a state is a string: nothing to copy

    def note_messages(self, messages: list[tuple[int, int]]) -> None:
        """Remember (chat id, message id) pairs for the next `commit`, so /forget can delete
        those messages."""
        self._messages.extend(messages)

    def noted_messages(self, chat_id: int) -> list[int]:
        """The ids of messages in `chat_id` noted and not written yet (a commit the database
        refused, or the update still running), for /forget to delete with the written ones."""
        return [message for chat, message in self._messages if chat == chat_id]

    def note_handled(self, update_id: int) -> None:
        """Remember the update as handled to the end, for the next `commit`
        (`handlers.gate.once`)."""
        self._handled.append(update_id)
        floor = self._handled_floor()
        self._recent[update_id] = None
        if len(self._recent) > RECENTLY_HANDLED:
            oldest = next(iter(self._recent))
            del self._recent[oldest]
            self._floor = max(floor, oldest)

    def was_handled(self, update_id: int) -> bool:
        """Whether the update was handled to the end before (`handlers.gate.once`). Telegram
        numbers updates in order, so one above every id handled before this run and not among
        those handled since cannot have been: only the rest (given again after a restart, or
        after a week without updates, when Telegram starts again from a random number) are
        looked up in the database."""
        if update_id in self._recent:
            return True
        return update_id <= self._handled_floor() and self.storage.was_handled(update_id)

    def _handled_floor(self) -> int:
        if self._floor is None:
            self._floor = self.storage.highest_handled()
        return self._floor

    async def commit(self) -> None:
        """Write everything handed over since the last commit in one transaction. If the
        database refuses (a lock held past the busy timeout, a full disk), it is logged and kept
        for the next commit: nothing a person did is lost."""
        if not (self._user_data or self._conversations or self._messages or self._handled):
            return
        writes: tuple = ({}, {}, [], [])
        try:
            async with self.storage.writing():
                # Taken once the transaction holds the lock, not before: what /forget erases
                # while this waits for it must not be written after.
                writes = self._user_data, self._conversations, self._messages, self._handled
                self._user_data, self._conversations, self._messages, self._handled = {}, {}, [], []
                self._write(*writes)
        except sqlite3.Error as error:
            logger.warning("Could not save conversation state yet, will try again: %s", error)
            user_data, conversations, messages, handled = writes
            self._user_data = user_data | self._user_data
            self._conversations = conversations | self._conversations
            self._messages = messages + self._messages
            self._handled = handled + self._handled

    def _write(
        self,
        user_data: dict[int, str | None],
        conversations: dict[tuple[str, str], object | None],
        messages: list[tuple[int, int]],
        handled: list[int],
    ) -> None:
        for user_id, data in user_data.items():
            self.storage.save_json_row(*USER_DATA, user_id, data)
        for (name, key), state in conversations.items():
            self.storage.save_conversation(name, key, state)
        now = stamp()
        if messages:
            self.storage.record_chat_messages(messages, now)
        if handled:
            self.storage.note_handled(handled, now)

    async def flush(self) -> None:
        """At shutdown: whatever is not yet written."""
        await self.commit()

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
