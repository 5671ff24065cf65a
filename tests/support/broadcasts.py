"""Builders for broadcast tests: supporters as onboarding leaves them, an organiser composing,
and what reached whom."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from telegram import Update

from bot.consent import UPDATES, WHATS_NEXT
from scheduler import broadcasts
from tests.support.harness import ORGANISER_ID

WORDING = "opt-in-v1"


def subscribe(
    storage,
    user_id: int,
    language: str = "en",
    *,
    opted_in: bool = True,
    actions: tuple[str, ...] = (),
    constituency: tuple[str, str] | None = None,
) -> None:
    """A supporter as onboarding leaves them: a language, their choice about campaign updates
    (and what comes next, so these tests hold after the campaign too), maybe actions."""
    storage.ensure_supporter(user_id, language)
    storage.set_consents(user_id, {UPDATES: opted_in, WHATS_NEXT: opted_in}, WORDING)
    for kind in actions:
        storage.record_action(user_id, kind, constituency[0] if constituency else None)
    if constituency:
        storage.set_constituency(user_id, *constituency)


def message_update(chat, user_id: int, **fields) -> Update:
    """A private message with any fields Telegram sends (entities, photo, caption, sticker)."""
    update = chat.updates.message(user_id, "placeholder").to_dict()
    del update["message"]["text"]
    update["message"].update(fields)
    return Update.de_json(update, chat.app.bot)


async def deliver(chat, update: Update) -> list:
    before = len(chat.api.calls)
    await chat.app.process_update(update)
    return chat.api.calls[before:]


async def compose(chat, body: str = "Day 5: write to your MP", entities: list | None = None):
    """/broadcast and the first (English) version."""
    await chat.send(ORGANISER_ID, "/broadcast")
    fields = {"text": body}
    if entities:
        fields["entities"] = entities
    await deliver(chat, message_update(chat, ORGANISER_ID, **fields))


async def finish(chat) -> None:
    """Wait for the broadcasts running in the background."""
    await asyncio.gather(*broadcasts.running(chat.app))


def received(chat, user_id: int) -> list:
    """Broadcast messages a supporter received (sends to their chat)."""
    return [call for call in chat.api.sent(user_id) if call.method in {"sendMessage", "sendPhoto"}]


def after_slices(storage, slices: int, then: Callable[[], None]) -> None:
    """`then` runs once `slices` slices of recipients are written (each commits on its own)."""
    prepare = storage.prepare_deliveries
    written = itertools.count(1)

    def prepare_and_count(*args: object) -> bool:
        more = prepare(*args)
        if next(written) == slices:
            then()
        return more

    storage.prepare_deliveries = prepare_and_count


class HeldPreparation:
    """Holds a broadcast's run after the first slice of its recipients is written, while it is
    still preparing, until `release()`: a large broadcast's state while supporters keep the bot
    busy between its slices.

    The run waits where it waits for the database between slices (`Storage.writable`), in the
    run's own task (`scheduler.broadcasts.start` names it), so supporters' updates are not held.
    """

    def __init__(self, storage) -> None:
        self.held = asyncio.Event()
        self._released = asyncio.Event()
        writable = storage.writable

        async def held_between_slices() -> None:
            task = asyncio.current_task()
            if task is not None and task.get_name().startswith(broadcasts.JOB_PREFIX):
                self.held.set()
                await self._released.wait()
            await writable()

        storage.writable = held_between_slices

    async def reached(self) -> None:
        await asyncio.wait_for(self.held.wait(), timeout=30)  # a safety net, not a timing

    def release(self) -> None:
        self._released.set()
