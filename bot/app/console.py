"""`stepup-bot try`: chat with the real bot in a terminal, with no token and no network.

The same Application and handlers as in production run over the offline Bot API with a
temporary database. Messages are shown as plain text; buttons are numbered; type a number to
press one, anything else to send it as a message, /quit to leave.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bot.app.build import build_application
from bot.app.offline import Call, OfflineBotAPI, UpdateFactory
from bot.campaign import Campaign
from bot.config import Settings
from messages.i18n import plain

CONSOLE_USER = 1
QUIT = {"/quit", "/exit"}


class Console:
    def __init__(self, language: str | None) -> None:
        self.language = language
        self.buttons: list[tuple[str, int]] = []  # (callback data, message id) by number

    def show(self, call: Call) -> None:
        if not (call.method.startswith("send") or call.method.startswith("edit")):
            return
        if call.method == "sendPhoto":
            print("\n[picture]")
        elif call.method == "sendDocument":
            print("\n[file]")
        print(f"\n{plain(call.text)}")
        if call.buttons:
            self.buttons = []
        for button in call.buttons:
            if "url" in button:
                print(f"   [link] {button['text']}: {button['url']}")
            elif "callback_data" in button:
                message_id = int(call.params.get("message_id") or 0)
                self.buttons.append((button["callback_data"], message_id))
                print(f"   [{len(self.buttons)}] {button['text']}")

    def pressed(self, line: str) -> tuple[str, int] | None:
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return self.buttons[int(line) - 1]
        return None


async def read_line() -> str | None:
    try:
        return await asyncio.to_thread(input, "\nyou> ")
    except EOFError:
        return None


async def run_console(settings: Settings, campaign: Campaign, language: str | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="stepup-try-") as folder:
        trial_settings = settings.model_copy(
            update={
                "database_path": Path(folder) / "try.db",
                "organiser_ids": settings.organiser_ids | {CONSOLE_USER},
                "webhook_url": None,
            }
        )
        api = OfflineBotAPI()
        console = Console(language)
        app = build_application(trial_settings, campaign=campaign, request=api)
        await app.initialize()
        await app.post_init(app)
        await app.start()
        api.on_call = console.show
        updates = UpdateFactory(app.bot, api)
        print("Chatting with the bot offline. Type a number to press a button, /quit to leave.")
        try:
            await app.process_update(updates.message(CONSOLE_USER, "/start", language))
            while (line := await read_line()) is not None and line.strip() not in QUIT:
                pressed = console.pressed(line.strip())
                if pressed:
                    data, message_id = pressed
                    update = updates.callback(CONSOLE_USER, data, message_id or 1, language)
                else:
                    update = updates.message(CONSOLE_USER, line, language)
                await app.process_update(update)
        finally:
            await app.stop()
            await app.shutdown()
            await app.post_shutdown(app)
    return 0
