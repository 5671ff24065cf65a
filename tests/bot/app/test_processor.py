"""Different people are served side by side, each person's updates in order (D8).

The update processor is fed real `Update` objects with callbacks that wait on events the test
controls, so what runs when is decided by the test, never by a clock.
"""

from __future__ import annotations

import asyncio

from telegram import Bot, Update

from bot.app.offline import OfflineBotAPI, UpdateFactory
from bot.app.processor import PersonUpdateProcessor, person_of
from bot.ratelimit import FOLLOW_UP, REPLY, reply_priority


def updates() -> UpdateFactory:
    return UpdateFactory(Bot("1:offline", request=OfflineBotAPI()))


class Steps:
    """Callbacks that note when they start and finish, and finish when the test says so."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def step(self, name: str, *, hold: bool = False) -> None:
        self.log.append(f"{name} starts")
        if hold:
            self.release[name] = asyncio.Event()
            await self.release[name].wait()
        self.log.append(f"{name} ends")


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_one_persons_updates_run_one_after_the_other_in_order():
    processor = PersonUpdateProcessor(8)
    steps, make = Steps(), updates()
    tasks = [
        asyncio.create_task(
            processor.process_update(make.message(1, text), steps.step(text, hold=text == "a"))
        )
        for text in ("a", "b", "c")
    ]
    await settle()
    assert steps.log == ["a starts"]  # b and c wait for a, whatever the others do
    steps.release["a"].set()
    await asyncio.gather(*tasks)
    assert steps.log == ["a starts", "a ends", "b starts", "b ends", "c starts", "c ends"]


async def test_a_person_stuck_on_a_slow_step_holds_up_nobody_else():
    processor = PersonUpdateProcessor(8)
    steps, make = Steps(), updates()
    stuck = asyncio.create_task(
        processor.process_update(make.message(1, "SW1A 1AA"), steps.step("lookup", hold=True))
    )
    await settle()
    help_update = make.message(2, "/help")
    await asyncio.wait_for(processor.process_update(help_update, steps.step("help")), 5)
    assert steps.log == ["lookup starts", "help starts", "help ends"]
    steps.release["lookup"].set()
    await stuck


async def test_a_flood_from_one_person_does_not_take_the_places_of_others():
    processor = PersonUpdateProcessor(2)
    steps, make = Steps(), updates()
    flood = [
        asyncio.create_task(
            processor.process_update(make.message(1, f"{n}"), steps.step(f"flood {n}", hold=True))
        )
        for n in range(10)
    ]
    await settle()
    menu = make.message(2, "/menu")
    await asyncio.wait_for(processor.process_update(menu, steps.step("menu")), 5)
    assert "menu ends" in steps.log
    for n in range(10):
        steps.release.setdefault(f"flood {n}", asyncio.Event()).set()
        await settle()
    await asyncio.gather(*flood)


async def test_no_more_than_the_bound_are_at_work_at_once():
    processor = PersonUpdateProcessor(2)
    steps, make = Steps(), updates()
    tasks = [
        asyncio.create_task(
            processor.process_update(make.message(user, "hi"), steps.step(f"{user}", hold=True))
        )
        for user in (1, 2, 3)
    ]
    await settle()
    assert steps.log == ["1 starts", "2 starts"]
    steps.release["1"].set()
    await settle()
    assert steps.log[-1] == "3 starts"
    steps.release["2"].set()
    steps.release["3"].set()
    await asyncio.gather(*tasks)


def test_a_person_is_the_user_or_else_the_chat():
    make = updates()
    assert person_of(make.message(7, "hi")) == ("user", 7)
    channel_post = Update.de_json(
        {
            "update_id": 1,
            "channel_post": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": -100123, "type": "channel", "title": "Campaign"},
                "text": "#16Days",
            },
        },
        make.bot,
    )
    assert person_of(channel_post) == ("chat", -100123)
    assert person_of(object()) is None


async def test_each_update_starts_with_its_reply_still_to_come_and_waits_until_ready():
    """The rate limiter tells an update's first message (a reply) from the ones after it
    (follow-ups) per update; and nothing runs before `ready` (the database's write lock)."""
    ready = asyncio.Event()

    async def wait_until_ready() -> None:
        await ready.wait()

    processor = PersonUpdateProcessor(8, wait_until_ready)
    make = updates()
    seen: list[list[int]] = []

    async def two_messages() -> None:
        seen.append([reply_priority("sendMessage"), reply_priority("sendMessage")])

    tasks = [
        asyncio.create_task(
            processor.process_update(make.message(person, "/start"), two_messages())
        )
        for person in (1, 2)
    ]
    await settle()
    assert seen == []
    ready.set()
    await asyncio.gather(*tasks)
    assert seen == [[REPLY, FOLLOW_UP], [REPLY, FOLLOW_UP]]
