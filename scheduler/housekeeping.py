"""Daily housekeeping: forget message ids Telegram no longer lets us delete and the ids of
updates it will not give again, drop journey drafts their writers abandoned and the language
of anyone no longer an organiser, and purge personal data once the retention period after the
campaign has passed (P5). Also the scrub after an erasure (/forget or the purge), which empties
the WAL so the erased rows are gone from the files, retried until it completes."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram.ext import Application

from bot.app.context import DRAFT_STAMP, Context
from bot.storage import stamp, utcnow

logger = logging.getLogger(__name__)

HOUSEKEEPING_JOB = "housekeeping"
MESSAGE_ID_MEMORY = dt.timedelta(hours=48)
# Telegram keeps an unconfirmed update 24 hours, and gives it again at the next start.
HANDLED_UPDATE_MEMORY = dt.timedelta(hours=48)
# An unfinished letter or message nobody has touched for this long is deleted (P5).
DRAFT_LIFETIME = dt.timedelta(hours=24)
MISFIRE_GRACE = 6 * 60 * 60
SCRUB_JOB = "wal-scrub"
SCRUB_RETRY_SECONDS = 1


async def run_housekeeping(context: Context) -> None:
    """Prune old message ids; after the retention period, erase every supporter's data."""
    data = context.bot_data
    data.storage.prune_chat_messages(utcnow() - MESSAGE_ID_MEMORY)
    data.storage.prune_handled_updates(utcnow() - HANDLED_UPDATE_MEMORY)
    data.storage.drop_organiser_languages(data.settings.organiser_ids)
    await drop_abandoned_drafts(context.application)
    purge_on = data.campaign.end_date + dt.timedelta(days=data.settings.data_retention_days)
    if utcnow().astimezone(data.settings.zone).date() >= purge_on:
        erased = data.storage.purge_personal_data()
        if erased:
            logger.info("Retention period over: erased %d supporters' data", erased)
            await scrub_files(context.application)


async def scrub_files(app: Application) -> None:
    """Fold the WAL into the database file and empty it, so rows just erased (overwritten by
    secure_delete) are gone from both files. The checkpoint runs in a worker thread on a
    connection of its own, never on the event loop. While another connection (a backup,
    `stepup-bot stats`) still reads an older snapshot it cannot complete: it is tried again every
    SCRUB_RETRY_SECONDS until it does."""
    done = await asyncio.to_thread(app.bot_data.storage.checkpoint)
    if not done and not app.job_queue.get_jobs_by_name(SCRUB_JOB):
        logger.info("The database is being read elsewhere: erased rows leave its files after")
        app.job_queue.run_once(scrub_again, when=SCRUB_RETRY_SECONDS, name=SCRUB_JOB)


async def scrub_again(context: Context) -> None:
    """The scrub's next try (see `scrub_files`)."""
    if not await asyncio.to_thread(context.bot_data.storage.checkpoint):
        context.job_queue.run_once(scrub_again, when=SCRUB_RETRY_SECONDS, name=SCRUB_JOB)


async def drop_abandoned_drafts(app: Application) -> None:
    """Delete drafts (and their stamp) left untouched for DRAFT_LIFETIME. A journey that meets a
    missing draft simply starts that step again."""
    cutoff = stamp(utcnow() - DRAFT_LIFETIME)
    drafts = app.bot_data.drafts | {DRAFT_STAMP}
    for user_id, user_data in list(app.user_data.items()):
        if user_data.get(DRAFT_STAMP, cutoff) < cutoff:
            for key in drafts:
                user_data.pop(key, None)
            app.mark_data_for_update_persistence(user_ids=user_id)
    await app.update_persistence()


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
