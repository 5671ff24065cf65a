"""When things go wrong: a button press answered too late still does what it asked for, and a
full disk gets one honest sentence, not two, and never a false "nothing is lost"."""

from __future__ import annotations

import functools
import re
import sqlite3
from pathlib import Path

import pytest

import handlers
from bot.consent import DAILY_PROMPT
from messages import consent, keyboards
from tests.support.harness import running_bot
from tests.support.journeys import every_button

SUPPORTER = 515_001
GENERIC = "Sorry, something went wrong"
STORAGE_FAILED = "I couldn't save that just now"
WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class Disk:
    """Whether the disk under the database is full, for every connection opened while it is
    installed: then any write fails as SQLite fails it, and reads still work."""

    full = False


class FillableConnection(sqlite3.Connection):
    def execute(self, sql, *args):
        self._check(sql)
        return super().execute(sql, *args)

    def executemany(self, sql, *args):
        self._check(sql)
        return super().executemany(sql, *args)

    @staticmethod
    def _check(sql: str) -> None:
        if Disk.full and WRITES.match(sql):
            raise sqlite3.OperationalError("database or disk is full")


@pytest.fixture
async def chat(settings, api, monkeypatch):
    Disk.full = False
    monkeypatch.setattr(
        sqlite3, "connect", functools.partial(sqlite3.connect, factory=FillableConnection)
    )
    async with running_bot(settings, api) as chat:
        yield chat
        Disk.full = False  # room again for the shutdown's own writes


async def join(chat, user_id: int = SUPPORTER) -> None:
    await chat.send(user_id, "/start")
    await chat.press(user_id, consent.OPTIN_DAILY)


def texts(calls) -> list[str]:
    return [call.text for call in calls if call.method.startswith(("send", "edit"))]


# --- late button presses (fault 1) --------------------------------------------------------------


async def test_forget_pressed_after_a_slow_moment_still_erases(chat):
    await join(chat)
    replies = await chat.press(SUPPORTER, keyboards.FORGET_YES, pressed_ago=20)
    assert chat.storage.get_supporter(SUPPORTER) is None
    assert chat.storage.personal_data(SUPPORTER) == {}
    assert "has been erased" in texts(replies)[-1]


async def test_every_menu_button_pressed_late_does_what_it_says(chat):
    await join(chat)
    await chat.send(SUPPORTER, "/menu")
    menu = chat.button_data(SUPPORTER)
    assert len(menu) >= 5
    for data in menu:
        await chat.send(SUPPORTER, "/menu")
        replies = texts(await chat.press(SUPPORTER, data, pressed_ago=30))
        assert replies, data
        assert not any(GENERIC in reply for reply in replies), data


async def test_every_button_a_supporter_meets_pressed_late_still_works(chat):
    """Every press handled after Telegram stopped taking its answer (after a restart, or a
    slow moment): none gets the generic error, and each does what it says."""
    await join(chat)
    before = len(chat.api.calls)
    buttons = await every_button(chat, SUPPORTER, avoid=(keyboards.FORGET_YES,), pressed_ago=30)
    assert len(buttons) > 25
    answered = texts(chat.api.calls[before:])
    assert answered and not any(GENERIC in reply for reply in answered)
    assert chat.storage.done_actions(SUPPORTER)  # "I've signed", "I've posted it"... recorded


def test_every_button_is_answered_through_one_path():
    """Only `handlers.common.answer` answers a press, once, and never lets a refusal through."""
    root = Path(handlers.__file__).parent
    answering = [
        path.name
        for folder in (root, root.parent / "scheduler", root.parent / "bot")
        for path in folder.rglob("*.py")
        if re.search(r"query\.answer\(|answer_callback_query", path.read_text())
    ]
    assert answering == ["common.py"]


async def test_opting_in_late_is_still_recorded(chat):
    await chat.send(SUPPORTER, "/start")
    await chat.press(SUPPORTER, consent.OPTIN_DAILY, pressed_ago=60)
    assert chat.storage.may_receive(SUPPORTER, DAILY_PROMPT)


# --- a full disk (fault 14) ---------------------------------------------------------------------


async def test_a_full_disk_gets_one_honest_message(chat):
    await chat.send(SUPPORTER, "/start")
    Disk.full = True
    replies = texts(await chat.press(SUPPORTER, consent.OPTIN_DAILY))
    assert len(replies) == 1
    assert STORAGE_FAILED in replies[0] and "lost" not in replies[0]
    assert not chat.storage.may_receive(SUPPORTER, DAILY_PROMPT)


async def test_a_newcomer_on_a_full_disk_hears_once_that_it_did_not_work(chat):
    Disk.full = True
    replies = texts(await chat.send(SUPPORTER, "/start"))
    assert len(replies) == 1 and STORAGE_FAILED in replies[0]


async def test_reading_still_works_on_a_full_disk(chat):
    await join(chat)
    Disk.full = True
    replies = texts(await chat.send(SUPPORTER, "/mydata"))
    assert replies and not any(STORAGE_FAILED in reply or GENERIC in reply for reply in replies)


async def test_p3_forget_on_a_full_disk_says_it_is_not_done_and_finishes_on_retry(chat):
    await join(chat)
    Disk.full = True
    calls = await chat.press(SUPPORTER, keyboards.FORGET_YES)
    (reply,) = texts(calls)
    assert "couldn't finish erasing" in reply and "erased" not in reply.replace("erasing", "")
    assert not [call for call in calls if call.method.startswith("delete")]  # chat kept whole
    assert chat.storage.get_supporter(SUPPORTER) is not None

    Disk.full = False
    await chat.send(SUPPORTER, "/forget")
    calls = await chat.press(SUPPORTER, keyboards.FORGET_YES)
    assert "has been erased" in texts(calls)[-1]
    assert [call for call in calls if call.method == "deleteMessages"]
    assert chat.storage.personal_data(SUPPORTER) == {}
