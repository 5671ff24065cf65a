"""`stepup-bot health`'s side in the bot: a heartbeat while it runs, judged fresh or stale."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot import health
from bot.storage import utcnow
from tests.harness import running_bot


async def test_a_running_bot_beats_and_a_stopped_one_is_reported_in_one_line(settings):
    async with running_bot(settings) as chat:
        await chat.app.start()  # the job queue runs, as under run_polling
        try:
            for _ in range(100):
                if chat.storage.get_flag(health.HEARTBEAT):
                    break
                await asyncio.sleep(0.02)
            assert health.problem(chat.storage) is None
        finally:
            await chat.app.stop()
        storage = chat.storage
        health.stopped(storage)
        assert health.problem(storage).startswith("Not running")


async def test_a_heartbeat_older_than_three_beats_means_stuck(settings):
    async with running_bot(settings) as chat:
        now = utcnow()
        health.beat(chat.storage, now - health.STALE_AFTER + dt.timedelta(seconds=1))
        assert health.problem(chat.storage, now) is None
        health.beat(chat.storage, now - dt.timedelta(minutes=5))
        problem = health.problem(chat.storage, now)
    assert problem.startswith("Not responding: the last heartbeat was 300 s ago")
    assert "\n" not in problem
