"""Daily housekeeping: forget message ids Telegram no longer lets us delete, and purge personal
data once the retention period after the campaign has passed (P5)."""

from __future__ import annotations

import datetime as dt
import logging

from telegram.ext import Application

from bot.context import Context
from bot.storage import utcnow

logger = logging.getLogger(__name__)

HOUSEKEEPING_JOB = "housekeeping"
MESSAGE_ID_MEMORY = dt.timedelta(hours=48)
MISFIRE_GRACE = 6 * 60 * 60


async def run_housekeeping(context: Context) -> None:
    """Prune old message ids; after the retention period, erase every supporter's data."""
    data = context.bot_data
    data.storage.prune_chat_messages(utcnow() - MESSAGE_ID_MEMORY)
    purge_on = data.campaign.end_date + dt.timedelta(days=data.settings.data_retention_days)
    if utcnow().astimezone(data.settings.zone).date() >= purge_on:
        erased = data.storage.purge_personal_data()
        if erased:
            logger.info("Retention period over: erased %d supporters' data", erased)


def schedule(app: Application) -> None:
    zone = app.bot_data.settings.zone
    app.job_queue.run_daily(
        run_housekeeping,
        time=dt.time(3, 30, tzinfo=zone),
        name=HOUSEKEEPING_JOB,
        job_kwargs={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True},
    )
    # Also once shortly after start, so a bot that was down at 03:30 still catches up.
    app.job_queue.run_once(run_housekeeping, when=5, name=f"{HOUSEKEEPING_JOB}-at-start")
