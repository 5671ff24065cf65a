"""The services every handler shares: a stop gives up what people wait for, and only that."""

from __future__ import annotations

import asyncio

import pytest

from bot.app.context import BotData, BotStopping
from tests.support.harness import GIVE_UP_SECONDS


async def test_a_stop_answers_whoever_waits_for_a_lookup_and_only_them():
    """SIGTERM while one supporter's lookup hangs: theirs ends at once (they are answered
    without it); a lookup already answered is not touched by the stop, one that would start
    after it never starts, and a lookup's own timeout stays the lookup's."""
    data = BotData()
    hanging = asyncio.Event()
    waiting = asyncio.ensure_future(data.unless_stopping(hanging.wait()))
    answered = await data.unless_stopping(asyncio.sleep(0, result="cached count"))
    await asyncio.sleep(0)
    data.stop_waiting()
    with pytest.raises(BotStopping):
        await asyncio.wait_for(waiting, GIVE_UP_SECONDS)
    assert answered == "cached count"
    late = hanging.wait()
    with pytest.raises(BotStopping):
        await asyncio.wait_for(data.unless_stopping(late), GIVE_UP_SECONDS)
    assert late.cr_frame is None  # closed without running

    async def times_out() -> None:
        raise TimeoutError

    with pytest.raises(TimeoutError):
        await BotData().unless_stopping(times_out())
