"""Updates from different people side by side, each person's in the order they came.

python-telegram-bot handles one update at a time unless told otherwise, so a lookup that hangs
for one supporter makes everyone wait. `PersonUpdateProcessor` runs different people's updates
concurrently and chains each person's updates one after the other, as their conversations
(python-telegram-bot's `ConversationHandler` keeps one state per person) and the write-through
of their state (`handlers.persist_now`) need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import ratelimit

# python-telegram-bot's own semaphore is taken before our per-person chaining, so a person with
# many updates queued would hold its slots while waiting for their own turn. Its bound is set
# far above ours so it never does; ours is taken once it is the person's turn.
_OUTER_BOUND = 1_000_000


def person_of(update: object) -> Hashable | None:
    """Whose update this is: the user, or the chat when there is no user (a channel post);
    None for updates about nobody in particular (a poll's new results)."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


class PersonUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` updates at work at once; one person's never overlap
    and run in arrival order, so a slow step delays only the person it serves. `ready`, if
    given, is awaited when it is an update's turn, before it runs (the database's write lock:
    `Store.writable`)."""

    def __init__(
        self,
        max_concurrent_updates: int,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(_OUTER_BOUND)
        self.bound = max_concurrent_updates
        self.ready = ready
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        # The last update of each person with one in progress: the next one waits for it.
        self._tails: dict[Hashable, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        person = person_of(update)
        if person is None:
            async with self._slots:
                await self._run(coroutine)
            return
        # Claim the place in this person's line before the first await: arrival order.
        before = self._tails.get(person)
        mine = asyncio.get_running_loop().create_future()
        self._tails[person] = mine
        try:
            if before is not None:
                await asyncio.shield(before)
            async with self._slots:
                await self._run(coroutine)
        finally:
            mine.set_result(None)
            if self._tails.get(person) is mine:
                del self._tails[person]

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        if self.ready is not None:
            await self.ready()
        ratelimit.new_update()  # each update runs in a task of its own: this one's answers
        await coroutine

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close: the Application waits for the updates in progress itself."""
