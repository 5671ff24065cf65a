"""`stepup-bot health`, the container's health check: exit 0 while the running bot's heartbeat
is fresh, otherwise exit 1 with one line saying why."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import subprocess
import sys

from bot import health
from bot.storage import utcnow
from tests.support.harness import running_bot


def health_check(settings) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.database_path.parent,
        env={"PATH": "/usr/bin:/bin", "DATABASE_PATH": str(settings.database_path)},
    )


async def test_healthy_while_the_bot_beats_and_not_once_it_has_stopped(settings):
    async with running_bot(settings) as chat:
        await chat.app.start()  # the job queue runs, as under run_polling
        try:
            for _ in range(100):
                if chat.storage.get_flag(health.HEARTBEAT):
                    break
                await asyncio.sleep(0.02)
            running = await asyncio.to_thread(health_check, settings)
        finally:
            await chat.app.stop()
    stopped = await asyncio.to_thread(health_check, settings)
    assert running.returncode == 0, running.stderr
    assert running.stdout.startswith("Running: the last heartbeat was")
    assert stopped.returncode == 1
    assert stopped.stderr.strip() == "Not running: the bot has not started, or it was stopped."


async def test_a_heartbeat_older_than_three_beats_means_stuck(settings):
    async with running_bot(settings) as chat:
        health.beat(chat.storage, utcnow() - dt.timedelta(minutes=5))
        stuck = await asyncio.to_thread(health_check, settings)
        now = utcnow()
        health.beat(chat.storage, now - health.STALE_AFTER + dt.timedelta(seconds=1))
        assert health.status(chat.storage, now)[0]
    assert stuck.returncode == 1
    [line] = stuck.stderr.splitlines()
    assert re.match(r"Not responding: the last heartbeat was 3\d\d s ago", line)


def test_no_database_yet_is_unhealthy_and_creates_nothing(settings):
    result = health_check(settings)
    assert result.returncode == 1
    assert "Not running: no database at" in result.stderr
    assert not settings.database_path.exists()
