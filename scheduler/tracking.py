"""Hashtag tracking's jobs: a poll every TRACKING_POLL_MINUTES, and an evening digest to organisers.

Both are scheduled only when X or Bluesky is configured. The sources are opened once in
`post_init` (`bot_data.tracking`) and closed at shutdown. A problem with a
source reaches organisers once, when it starts: `poll_once` reports each problem only once,
however many polls it lasts, and says when the source answers again.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable

from telegram.error import TelegramError
from telegram.ext import Application

from bot.app.context import BotData, Context
from bot.campaign import Campaign
from bot.storage import utcnow
from bot.tracking import Sources, digest, poll_once, rate_limit_resets
from messages import Html
from messages.split import split_html
from messages.trends import render_alert, render_digest, render_recovered

logger = logging.getLogger(__name__)

POLL_JOB = "hashtag-poll"
RESET_POLL_JOB = "hashtag-poll-{source}-at-reset"
DIGEST_JOB = "hashtag-digest"
FIRST_POLL_AFTER = 30  # seconds: let the bot settle after a start
DIGEST_TIME = dt.time(20, 0)
# A digest the scheduler notices late still goes out the same evening.
DIGEST_MISFIRE_GRACE = 3 * 60 * 60


def configured_sources(data: BotData) -> Sources | None:
    """The tracking sources opened at start, or None when neither X nor Bluesky is configured."""
    sources = data.tracking
    if sources.x is None and sources.bluesky is None:
        return None
    return sources


async def tell_organisers(context: Context, render: Callable[[str], Html]) -> None:
    """Send every organiser `render(language)` in her language. One who cannot be reached
    (blocked the bot, never opened it) is logged and does not keep it from the others."""
    data = context.bot_data
    for organiser_id in sorted(data.settings.organiser_ids):
        language = data.storage.language_of(organiser_id)
        sent = []
        try:
            # A digest grows with the posts it lists: in as many messages as it needs.
            for part in split_html(render(language)):
                sent.append(await context.bot.send_message(organiser_id, part))
        except TelegramError as error:
            logger.warning("Could not tell organiser %s: %s", organiser_id, error)
        data.storage.record_chat_messages([(organiser_id, message.message_id) for message in sent])


async def poll_hashtags(context: Context) -> None:
    """Refresh every campaign hashtag from X and Bluesky; tell organisers of new problems, and
    of the end of one."""
    await _poll(context, context.bot_data.tracking)


async def poll_after_reset(context: Context) -> None:
    """When a source's rate limit resets: that source, at once rather than at the next poll."""
    await _poll(context, context.bot_data.tracking.only(context.job.data))


async def _poll(context: Context, sources: Sources) -> None:
    data = context.bot_data
    try:
        async with data.tracking_lock:
            report = await poll_once(
                data.settings,
                data.campaign,
                data.storage,
                x_source=sources.x,
                bluesky_source=sources.bluesky,
            )
        for alert in report.alerts:
            await tell_organisers(context, functools.partial(render_alert, alert=alert))
        for source in report.recovered:
            await tell_organisers(context, functools.partial(render_recovered, source=source))
    except Exception:
        # Whatever went wrong, the next poll tries again: log it and keep the job running.
        logger.exception("Hashtag poll failed")
    _poll_at_resets(context.application)


def _poll_at_resets(app: Application) -> None:
    """One job per source paused by a rate limit, at its reset (moved if it names another)."""
    data: BotData = app.bot_data
    configured = data.tracking.names()
    resets = rate_limit_resets(data.storage, configured)
    # Noticed late, it still runs: until the next poll, which would ask anyway.
    grace = data.settings.tracking_poll_minutes * 60
    for source in configured:
        name = RESET_POLL_JOB.format(source=source)
        for job in app.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        if source in resets:
            app.job_queue.run_once(
                poll_after_reset,
                when=resets[source],
                data=source,
                name=name,
                job_kwargs={"misfire_grace_time": grace},
            )


def next_poll(app: Application) -> dt.datetime | None:
    """When the regular hashtag poll runs next; None when no source is configured."""
    jobs = app.job_queue.get_jobs_by_name(POLL_JOB)
    # The trigger's own reckoning: a job's next_run_time exists only once the queue runs.
    return jobs[0].job.trigger.get_next_fire_time(None, utcnow()) if jobs else None


def is_digest_day(campaign: Campaign, day: dt.date) -> bool:
    """Campaign days, and the day after the last one, so organisers see how the campaign ended."""
    return campaign.start_date <= day <= campaign.end_date + dt.timedelta(days=1)


async def send_digest(context: Context) -> None:
    """In the evening of a campaign day: each hashtag's day, its change and the most engaged
    posts, to every organiser."""
    data = context.bot_data
    today = utcnow().astimezone(data.settings.zone).date()
    if not is_digest_day(data.campaign, today):
        return
    facts = digest(data.storage, today, next_poll=next_poll(context.application))
    await tell_organisers(context, functools.partial(render_digest, digest=facts))


def schedule(app: Application) -> None:
    data: BotData = app.bot_data
    if configured_sources(data) is None:
        return  # no X or Bluesky credentials: nothing to watch
    interval = dt.timedelta(minutes=data.settings.tracking_poll_minutes)
    app.job_queue.run_repeating(
        poll_hashtags,
        interval=interval,
        first=FIRST_POLL_AFTER,
        name=POLL_JOB,
        # A poll noticed late still runs; later than an interval, the next one is due anyway.
        job_kwargs={"misfire_grace_time": int(interval.total_seconds()), "coalesce": True},
    )
    app.job_queue.run_daily(
        send_digest,
        time=DIGEST_TIME.replace(tzinfo=data.settings.zone),
        name=DIGEST_JOB,
        job_kwargs={"misfire_grace_time": DIGEST_MISFIRE_GRACE, "coalesce": True},
    )
