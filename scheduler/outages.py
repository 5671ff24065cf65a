"""Tells organisers when an outside service (postcodes.io, the Members API, the petition's JSON)
stops answering, and when it answers again: `bot.outages` keeps the count, this job sends the
news once a minute."""

from __future__ import annotations

import functools

from telegram.ext import Application

from bot import outages
from bot.app.context import Context
from messages.outages import outage_alert
from scheduler.tracking import tell_organisers

OUTAGES_JOB = "outage-alerts"
EVERY_SECONDS = 60


async def report_outages(context: Context) -> None:
    """Send each outage's news (started, or over) to every organiser, once."""
    for news in outages.news(context.bot_data.storage):
        await tell_organisers(context, functools.partial(outage_alert, news=news))


def schedule(app: Application) -> None:
    app.job_queue.run_repeating(
        report_outages,
        interval=EVERY_SECONDS,
        first=EVERY_SECONDS,
        name=OUTAGES_JOB,
        job_kwargs={"misfire_grace_time": EVERY_SECONDS, "coalesce": True},
    )
