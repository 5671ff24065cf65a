"""Drive the real Application through the offline Bot API, as a supporter would."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from telegram.ext import Application

from bot.app.build import build_application
from bot.app.offline import Call, OfflineBotAPI, UpdateFactory
from bot.campaign import Campaign
from bot.config import Settings

ORGANISER_ID = 4242

GIVE_UP_SECONDS = 120  # guards against a hang; not an assertion about speed


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_path": tmp_path / "bot.db",
        "organiser_ids": frozenset({ORGANISER_ID}),
        "paid_broadcasts": True,
        "broadcast_rate": 1000,
        "user_updates_per_minute": 1000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the moment of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Chat:
    """One running bot and the fake Telegram under it."""

    def __init__(self, app: Application, api: OfflineBotAPI) -> None:
        self.app = app
        self.api = api
        self.updates = UpdateFactory(app.bot, api)

    @property
    def storage(self):
        return self.app.bot_data.storage

    async def send(self, user_id: int, text: str, language_code: str | None = "en") -> list[Call]:
        """A supporter types `text`; returns what the bot sent back."""
        before = len(self.api.calls)
        await self.app.process_update(self.updates.message(user_id, text, language_code))
        return [call for call in self.api.calls[before:] if call.chat_id == user_id]

    async def press(
        self,
        user_id: int,
        data: str,
        language_code: str | None = "en",
        message_id: int | None = None,
        pressed_ago: float = 0.0,
    ) -> list[Call]:
        """A supporter taps a button carrying `data` (on the newest message showing it, unless
        `message_id` says which), `pressed_ago` seconds ago; returns what the bot sent back."""
        before = len(self.api.calls)
        update = self.updates.callback(
            user_id,
            data,
            message_id=message_id or self.message_with(user_id, data),
            language_code=language_code,
            pressed_ago=pressed_ago,
        )
        await self.app.process_update(update)
        return self.api.calls[before:]

    def message_with(self, user_id: int, data: str) -> int:
        """The newest message in the chat still showing a button with `data`; 1 (an old message
        the bot no longer knows) when none does, as for a crafted or stale button."""
        for message_id, buttons in self.api.keyboards(user_id):
            if any(button.get("callback_data") == data for button in buttons):
                return message_id
        return 1

    async def answered(self, user_id: int, seconds: float = 5.0) -> bool:
        """Whether the bot, running on its own (polling, a webhook), writes to `user_id` within
        `seconds`."""
        for _ in range(int(seconds / 0.05)):
            if self.api.sent(user_id):
                return True
            await asyncio.sleep(0.05)
        return False

    def texts(self, user_id: int) -> list[str]:
        return [call.text for call in self.api.sent(user_id)]

    def last_text(self, user_id: int) -> str:
        return self.api.last(user_id).text

    def buttons(self, user_id: int) -> list[dict]:
        """Buttons of the newest message in this chat still showing any (an edit without a
        keyboard takes its buttons away, as in Telegram)."""
        shown = self.api.keyboards(user_id)
        return shown[0][1] if shown else []

    def button_data(self, user_id: int) -> list[str]:
        return [
            button["callback_data"] for button in self.buttons(user_id) if "callback_data" in button
        ]


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings,
    api: OfflineBotAPI | None = None,
    campaign: Campaign | None = None,
    lookups: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Chat]:
    """The real Application, initialised as `run_polling` would, on a fake network (and with
    `campaign` instead of the settings' campaign file, and `lookups` answering the outside
    services, if given)."""
    api = api or OfflineBotAPI()
    # The offline API answers at once and has no per-chat limit: pacing each chat to a message
    # a second would only make the suite wait. The overall rate is kept.
    app = build_application(
        settings, campaign=campaign, request=api, lookups=lookups, telegram_limits=False
    )
    await app.initialize()
    await app.post_init(app)
    try:
        yield Chat(app, api)
    finally:
        await app.shutdown()
        await app.post_shutdown(app)


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


def tags_in(html: str) -> set[str]:
    """The HTML tags in a message, to prove text from a person was escaped."""
    collector = _TagCollector()
    collector.feed(html)
    return collector.tags


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait, on the event loop, for `condition` to hold; fail the test after GIVE_UP_SECONDS."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)
