"""SQLite's write-ahead log folded into the database file from a worker thread every few
seconds. Left to SQLite, whichever commit on the event loop finds the log past 1,000 pages
does the copy itself, 20-130 ms at 100,000 supporters that every supporter waits out
(issue 11: nothing blocks the event loop for more than about 50 ms)."""

from __future__ import annotations

import asyncio

from telegram.ext import Application

from bot.app.context import Context

FOLD_JOB = "fold_wal"
FOLD_EVERY_SECONDS = 5  # a rush writes a few hundred pages in that time


async def fold(context: Context) -> None:
    """Copy the log into the file as far as readers allow (`Storage.fold_wal`), off the loop."""
    await asyncio.to_thread(context.bot_data.storage.fold_wal)


def schedule(app: Application) -> None:
    # The bot's own connection never checkpoints on its own from now on: this job does.
    app.bot_data.storage.db.execute("PRAGMA wal_autocheckpoint = 0")
    app.job_queue.run_repeating(
        fold,
        interval=FOLD_EVERY_SECONDS,
        first=FOLD_EVERY_SECONDS,
        name=FOLD_JOB,
        job_kwargs={"misfire_grace_time": FOLD_EVERY_SECONDS, "coalesce": True},
    )
