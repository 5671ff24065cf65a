"""The heartbeat `stepup-bot health` reads: a stamp in SQLite every HEARTBEAT_EVERY while the
bot's event loop is free to run jobs."""

from __future__ import annotations

from telegram.ext import Application

from bot import health
from bot.app.context import Context

HEARTBEAT_JOB = "heartbeat"


async def beat(context: Context) -> None:
    """Stamp the heartbeat."""
    health.beat(context.bot_data.storage)


def schedule(app: Application) -> None:
    every = health.HEARTBEAT_EVERY.total_seconds()
    app.job_queue.run_repeating(
        beat,
        interval=every,
        first=1,  # seconds: straight after the start (a start time already past waits an interval)
        name=HEARTBEAT_JOB,
        # A beat noticed late is still a beat; several missed ones are one.
        job_kwargs={"misfire_grace_time": int(every), "coalesce": True},
    )
