"""`stepup-bot try`: chat with the real bot in a terminal, with no token and no network.

The same Application and handlers as in production run over the offline Bot API with a
temporary database. You are user 1, an organiser, so the organiser commands work too.

Everything a message carries is shown: its text as plain text with each link's address; every
button of every message still on screen, each with a number to press it (a number means one
button for the whole session, never another, and works while its message keeps that keyboard);
link buttons with their address; copy buttons with the text they copy; the notice or pop-up a
press answers with; pictures and files, saved under FILES with their path printed. Type a
button's number to press it, anything else to send it as a message, /quit to leave. With
`sample_data`, the postcode and MP lookups are answered from `bot.app.samples`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app.build import ORGANISER_COMMANDS, build_application
from bot.app.offline import Call, OfflineBotAPI, UpdateFactory
from bot.app.samples import sample_lookups, sample_postcodes
from bot.campaign import Campaign
from bot.config import Settings
from messages.i18n import plain

CONSOLE_USER = 1
QUIT = {"/quit", "/exit"}
FILES = Path("try-files")
LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
# Method -> (what a person sees, the parameter holding it).
ATTACHMENTS = {"sendPhoto": ("picture", "photo"), "sendDocument": ("file", "document")}
# python-telegram-bot's name for bytes sent without one; their first bytes say what they are.
UNNAMED = "application.octet-stream"
SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"%PDF-": ".pdf", b"\xff\xd8\xff": ".jpg"}


def file_name(filename: str, content: bytes, kind: str) -> str:
    """The name to save a sent file under: its own, or for unnamed bytes `kind` and the
    extension their signature says (a chart is a PNG)."""
    if filename != UNNAMED:
        return Path(filename).name
    extension = next((ext for start, ext in SIGNATURES.items() if content.startswith(start)), "")
    return f"{kind}{extension}"


def terminal_text(html: str) -> str:
    """Telegram HTML as terminal text, each link followed by its address."""
    return plain(LINK.sub(lambda link: f"{link.group(2)} ({link.group(1)})", html))


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # its callback data
    message_id: int  # the message it is under


class Console:
    """Shows what the bot sends, and knows which button each number presses."""

    def __init__(self, files: Path) -> None:
        self.files = files
        self.buttons: dict[int, Button] = {}  # the buttons on screen, by number
        self.numbered = 0  # numbers given so far; never given twice
        self._saved = itertools.count(1)

    def show(self, call: Call) -> None:
        """Print one call the bot made, if a person would see it."""
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            kind = "pop-up" if call.params.get("show_alert") in (True, "true") else "notice"
            print(f"\n   ({kind}) {call.params['text']}")
        elif call.method == "deleteMessage":
            self._forget(int(call.params["message_id"]))
        elif call.method.startswith(("send", "edit")) and isinstance(call.result, dict):
            self._show_message(call, int(call.result["message_id"]))

    def _show_message(self, call: Call, message_id: int) -> None:
        self._show_attachment(call)
        heading = "(edited)\n" if call.method.startswith("edit") else ""
        if call.text:
            print(f"\n{heading}{terminal_text(call.text)}")
        if call.method.startswith("edit") or call.buttons:
            self._forget(message_id)  # an edit without a keyboard removes the old one
        for button in call.buttons:
            print(f"   {self._label(button, message_id)}")

    def _label(self, button: dict[str, Any], message_id: int) -> str:
        if "callback_data" in button:
            self.numbered += 1
            self.buttons[self.numbered] = Button(
                button["text"], button["callback_data"], message_id
            )
            return f"[{self.numbered}] {button['text']}"
        if "url" in button:
            return f"[link] {button['text']}: {button['url']}"
        if "copy_text" in button:
            return f"[copy] {button['text']}: {button['copy_text']['text']}"
        return f"[button] {button['text']}"

    def _forget(self, message_id: int) -> None:
        for number, button in list(self.buttons.items()):
            if button.message_id == message_id:
                del self.buttons[number]

    def _show_attachment(self, call: Call) -> None:
        if call.method not in ATTACHMENTS:
            return
        kind, parameter = ATTACHMENTS[call.method]
        if not call.files:  # sent by file id: already on Telegram, nothing to save
            print(f"\n[{kind} already on Telegram: {call.params.get(parameter)}]")
            return
        for filename, content in call.files.values():
            path = self.files / f"{next(self._saved):03d}-{file_name(filename, content, kind)}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            print(f"\n[{kind} saved: {path.resolve()}]")


class Session:
    """The bot, and what the console user types into it."""

    def __init__(
        self, app: Application, updates: UpdateFactory, console: Console, language: str | None
    ) -> None:
        self.app = app
        self.updates = updates  # they tell the offline Bot API which presses it may answer
        self.console = console
        self.language = language

    async def type(self, line: str) -> None:
        """A button's number presses it; anything else is sent as a message."""
        typed = line.strip()
        button = self.console.buttons.get(int(typed)) if typed.isdigit() else None
        if button:
            update = self.updates.callback(
                CONSOLE_USER, button.data, button.message_id, self.language
            )
        elif typed.isdigit() and int(typed) <= self.console.numbered:
            print(f"\n[{typed}] is no longer on screen: press a button shown since.")
            return
        else:
            update = self.updates.message(CONSOLE_USER, line, self.language)
        await self.app.process_update(update)


@contextlib.asynccontextmanager
async def session(
    settings: Settings,
    campaign: Campaign,
    language: str | None = None,
    *,
    sample_data: bool = False,
    files: Path = FILES,
) -> AsyncIterator[Session]:
    """The real bot on the offline Bot API and a temporary database, the console user one of
    its organisers."""
    with tempfile.TemporaryDirectory(prefix="stepup-try-") as folder:
        trial_settings = settings.model_copy(
            update={
                "database_path": Path(folder) / "try.db",
                "organiser_ids": settings.organiser_ids | {CONSOLE_USER},
                "webhook_url": None,
            }
        )
        api = OfflineBotAPI()
        lookups = sample_lookups(trial_settings) if sample_data else None
        app = build_application(trial_settings, campaign=campaign, request=api, lookups=lookups)
        await app.initialize()
        await app.post_init(app)
        await app.start()
        console = Console(files)
        api.on_call = console.show
        try:
            yield Session(app, UpdateFactory(app.bot, api), console, language)
        finally:
            await app.stop()
            await app.shutdown()
            await app.post_shutdown(app)


def introduction(sample_data: bool) -> str:
    lines = [
        "Chatting with the bot offline, as user 1, an organiser, so the organiser commands work",
        f"here too ({', '.join(f'/{command}' for command in ORGANISER_COMMANDS)}).",
        "Type a button's number to press it, anything else to send it, /quit to leave.",
        f"Pictures and files are saved in {FILES.resolve()}.",
        "What waits for a later time (the daily prompt, lobby reminders, \"Did your MP reply?\"",
        "after 14 days, \"How did it go?\") only comes if this session is still open then.",
    ]
    if sample_data:
        lines.append("Sample data answers the MP lookups (no real MP): try these postcodes,")
        lines += [f"  {postcode}: {shows}" for postcode, shows in sample_postcodes()]
    return "\n".join(lines)


async def read_line() -> str | None:
    try:
        return await asyncio.to_thread(input, "\nyou> ")
    except EOFError:
        return None


async def run_console(
    settings: Settings,
    campaign: Campaign,
    language: str | None = None,
    *,
    sample_data: bool = False,
) -> int:
    async with session(settings, campaign, language, sample_data=sample_data) as trial:
        print(introduction(sample_data))
        await trial.type("/start")
        while (line := await read_line()) is not None and line.strip() not in QUIT:
            await trial.type(line)
    return 0
