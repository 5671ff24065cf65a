"""The daily prompt's jobs: one at the campaign's prompt time every day, one shortly after start,
and one every half hour for those who agreed to the prompt after it went out.

Nothing about a day's prompt lives in memory: daily_runs in SQLite says what was prepared and
posted, so a restart simply runs the same idempotent `bot.daily.run_day` again. The job at start
first finishes what a previous process left (D1: its in-flight rows were put back in the queue
in `schedule`, before this process could send anything), then sends today's prompt
if its time has passed (a prompt missed while the bot was down goes out when it is back the same
day, D6). One lock per process keeps these jobs and "send today's now" from running a broadcast
twice at once. Jobs run as tasks, so the bot keeps answering while they send (D7).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging

from telegram.ext import Application

from bot import daily, delivery
from bot.app.context import BotData, Context
from bot.clock import local_now
from bot.storage import utcnow
from messages.daily import day_words
from scheduler import broadcasts

logger = logging.getLogger(__name__)

DAILY_JOB = "daily-prompt"
CATCH_UP_JOB = "daily-prompt-at-start"
SEND_NOW_JOB = "daily-prompt-now"
# A run the scheduler notices late (a busy or suspended process) still goes out within this;
# run_day works out "today" itself, so a late run never sends another day's prompt.
MISFIRE_GRACE = 6 * 60 * 60
CATCH_UP_DELAY_SECONDS = 2
LATE_JOB = "daily-prompt-late"
# Someone who agrees to the daily prompt after it went out gets the day's within this.
LATE_EVERY = dt.timedelta(minutes=30)
X_RETRY_JOB = "daily-prompt-x-at-reset"


async def _run_today(context: Context) -> None:
    data = context.bot_data
    today = local_now(data.settings.zone).date()
    words = functools.partial(day_words, data.campaign, context.bot.username)
    await daily.run_day(
        context.bot, data.storage, data.settings, data.campaign, today, words, data.sending
    )
    _retry_x_at_reset(context.application, today)


def _retry_x_at_reset(app: Application, today: dt.date) -> None:
    """After X refused today's post with a 429, run the day again when X's limit resets rather
    than at the next half-hourly run: one job, moved if X names another time."""
    retry_at = daily.x_retry_at(app.bot_data.storage, today)
    for job in app.job_queue.get_jobs_by_name(X_RETRY_JOB):
        job.schedule_removal()
    if retry_at is not None and retry_at > utcnow():
        app.job_queue.run_once(
            retry_x_post,
            when=retry_at,
            name=X_RETRY_JOB,
            job_kwargs={"misfire_grace_time": int(LATE_EVERY.total_seconds())},
        )


async def send_daily_prompt(context: Context) -> None:
    """At the prompt time: today's prompt, unless organisers paused the schedule."""
    async with context.bot_data.daily_lock:
        if daily.is_paused(context.bot_data.storage):
            logger.info("Daily prompts are paused; nothing sent")
            return
        await _run_today(context)


async def send_today_now(context: Context) -> None:
    """An organiser's "send today's now": today's prompt, once, paused or not."""
    async with context.bot_data.daily_lock:
        await _run_today(context)


async def serve_late_subscribers(context: Context) -> None:
    """Every half hour: today's prompt, after its time, for those who agreed to it since it went
    out, and its post to X if that failed (unless organisers paused the schedule)."""
    data = context.bot_data
    now = local_now(data.settings.zone)
    if daily.is_paused(data.storage) or not daily.is_due(data.campaign, now):
        return
    waiting = daily.late_subscribers(data.storage, now.date())
    if not waiting and not daily.x_retry_waiting(data.storage, now.date()):
        return
    async with data.daily_lock:
        await _run_today(context)


async def retry_x_post(context: Context) -> None:
    """When X's rate limit resets: today's post to X again (unless organisers paused the
    schedule), with any late subscribers' prompts."""
    data = context.bot_data
    if daily.is_paused(data.storage):
        return
    async with data.daily_lock:
        await _run_today(context)


async def catch_up(context: Context) -> None:
    """Once at start: finish, one after the other, the broadcasts a previous process left
    running (an organiser's with its progress message and final report, as if just sent), then
    send today's prompt if its time has passed and it has not fully gone out."""
    data = context.bot_data
    async with data.daily_lock:
        daily.recover(data.storage, local_now(data.settings.zone).date())
        for broadcast_id in context.job.data:
            if data.storage.get_broadcast(broadcast_id)["kind"] == broadcasts.KIND:
                # Wait without re-raising its error: the Application has already reported it.
                await asyncio.wait({broadcasts.start(context.application, broadcast_id)})
            else:
                await delivery.run_broadcast(
                    context.bot,
                    data.storage,
                    broadcast_id,
                    rules=data.rules,
                    sending=data.sending,
                )
        # Resuming may have taken a while: look at the clock again.
        now = local_now(data.settings.zone)
        if daily.is_paused(data.storage) or not daily.is_due(data.campaign, now):
            return
        await _run_today(context)


def send_now(app: Application) -> None:
    """Queue today's prompt to go out at once (as a job, so the caller returns immediately)."""
    app.job_queue.run_once(send_today_now, when=0, name=SEND_NOW_JOB)


def schedule(app: Application) -> None:
    data: BotData = app.bot_data
    prompt_time = data.campaign.prompt_time.replace(tzinfo=data.settings.zone)
    app.job_queue.run_daily(
        send_daily_prompt,
        time=prompt_time,
        name=DAILY_JOB,
        job_kwargs={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True},
    )
    app.job_queue.run_repeating(
        serve_late_subscribers,
        interval=LATE_EVERY,
        first=LATE_EVERY,
        name=LATE_JOB,
        job_kwargs={"misfire_grace_time": int(LATE_EVERY.total_seconds()), "coalesce": True},
    )
    # Runs in post_init, before any update is handled: nothing of this process is in flight yet.
    unfinished = delivery.requeue_unfinished(data.storage)
    app.job_queue.run_once(
        catch_up,
        when=dt.timedelta(seconds=CATCH_UP_DELAY_SECONDS),
        name=CATCH_UP_JOB,
        data=unfinished,
    )
