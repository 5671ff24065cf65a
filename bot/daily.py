"""The daily #16Days prompt: once each campaign day to every opted-in supporter (through the
delivery engine), to the coalition's Telegram channel and to its X account.

`prepare_day` makes a date's broadcast at most once whatever restarts or races happen: the
daily_runs row, keyed by the local campaign date, is written in the same BEGIN IMMEDIATE
transaction as the broadcast. The channel and X posts are claimed in that row before they are
made, so each goes out once a day; one that failed (or was in flight when the process died) is
tried once more at the next start the same day (`recover`), never in a loop. A post to X that
failed is also tried again by the next runs of the day (every half hour, scheduler/daily.py), up
to X_TRIES_A_DAY tries: X refuses a text the account already has, which reads as posted. After
a 429 the next try waits for the moment X says its rate limit resets (`x_retry_at`), within the
campaign day: scheduler/daily.py runs the day again then.

Someone who agrees to the daily prompt after the day's has gone out (a launch after the prompt
time, a supporter joining in the afternoon) gets it too, once: every run of the day adds them
(`late_subscribers`), and scheduler/daily.py runs the day again for them every half hour.

The channel gets one post: the prompt in English, then Portuguese and Spanish below it, with one
button per language. X gets the English prompt as plain text, trimmed to fit 280 characters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError, TimedOut

from bot import delivery
from bot.campaign import Campaign
from bot.config import Settings
from bot.consent import DAILY_KIND, DAILY_PROMPT, Rules
from bot.delivery import DeliveryReport, LinkButton
from bot.storage import Storage, stamp, utcnow

if TYPE_CHECKING:
    from tweepy.asynchronous import AsyncClient as XClient

logger = logging.getLogger(__name__)

PAUSED_FLAG = "daily_paused"
CHANNEL, X = "channel", "x"
# What daily_runs.channel_status / x_status can hold (NULL: not tried yet). RETRY: the post to
# X failed and the next run of the day tries it again (X_TRIES_A_DAY tries in all).
POSTING, POSTED, FAILED, UNKNOWN, RETRY = "posting", "sent", "failed", "unknown", "retry"
X_TIMEOUT_SECONDS = 15
X_TRIES_A_DAY = 3
# After a 429, the post waits until X's rate limit resets, plus a margin for the clocks' drift,
# and at least X_RETRY_WAIT: a reset already past, as X's clock has it, must not start a burst.
X_RESET_MARGIN = dt.timedelta(seconds=5)
X_RETRY_WAIT = dt.timedelta(minutes=1)


# --- the calendar ------------------------------------------------------------------------------


def is_due(campaign: Campaign, now: dt.datetime) -> bool:
    """Whether `now` (local) is on a campaign day at or after the prompt time."""
    return campaign.day_number(now.date()) is not None and now.time() >= campaign.prompt_time


def is_paused(storage: Storage) -> bool:
    return storage.get_flag(PAUSED_FLAG) is not None


def set_paused(storage: Storage, paused: bool) -> None:
    storage.set_flag(PAUSED_FLAG, "1" if paused else None)


# --- what supporters, the channel and X read ---------------------------------------------------


def deep_link(bot_username: str, journey: str) -> str:
    """A t.me link that opens the bot at `journey` (`/start <journey>`)."""
    return f"https://t.me/{bot_username}?start={journey}"


@dataclass(frozen=True)
class DayWords:
    """One campaign day's prompt as each audience reads it (rendered by `messages.daily`)."""

    texts: Mapping[str, str]  # Telegram HTML for supporters, by language
    buttons: Mapping[str, LinkButton]  # the button into the day's journey, by language
    channel_text: str  # Telegram HTML, every language in one post
    channel_markup: InlineKeyboardMarkup
    x_post: str  # plain text within X's 280 characters


# Day number -> its words, for one bot (the buttons link to it).
Words = Callable[[int], DayWords]


# --- the day's broadcast -----------------------------------------------------------------------


def prepare_day(storage: Storage, campaign: Campaign, words: Words, date: dt.date) -> int | None:
    """The broadcast for a local campaign date, made on first call; the same id on every later
    call, from any process. None outside the campaign. Recipients are fixed when it starts:
    every opted-in supporter who has not blocked the bot (P2)."""
    day = campaign.day_number(date)
    if day is None:
        return None
    with storage.immediate():
        existing = storage.daily_run(date.isoformat())
        if existing:
            return existing["broadcast_id"]
        day_words = words(day)
        broadcast_id = delivery.create_broadcast(
            storage,
            kind="daily_prompt",
            texts=day_words.texts,
            buttons=day_words.buttons,
            campaign_day=day,
        )
        storage.add_daily_run(date.isoformat(), day, broadcast_id)
    logger.info("Prepared the prompt for day %s (broadcast %s)", day, broadcast_id)
    return broadcast_id


def recover(storage: Storage, today: dt.date) -> None:
    """At start-up, before unfinished broadcasts resume: a prompt of an earlier day that never
    finished is cancelled (sent now it would arrive beside today's: two in a day), and today's
    channel and X posts that failed or were in flight get one more try."""
    for broadcast_id in storage.unfinished_daily_broadcasts(before=today.isoformat()):
        storage.cancel_broadcast(broadcast_id)
        logger.info(
            "Cancelled the unfinished prompt of an earlier day (broadcast %s)", broadcast_id
        )
    storage.reopen_daily_posts(today.isoformat())


async def run_day(
    bot: Bot,
    storage: Storage,
    settings: Settings,
    campaign: Campaign,
    date: dt.date,
    words: Words,
    sending: delivery.Sending,
) -> DeliveryReport | None:
    """Prepare the date's prompt if needed, post it to the channel and X once, and deliver it to
    everyone still waiting for it, including those who agreed to it since it went out. The post
    to X is made while the prompt is delivered, and waited for at the end. Safe to call any
    number of times. None outside the campaign."""
    broadcast_id = prepare_day(storage, campaign, words, date)
    if broadcast_id is None:
        return None
    day = campaign.day_number(date)
    if settings.channel_id:
        await _post_once(
            storage,
            date,
            CHANNEL,
            lambda: post_to_channel(bot, settings.channel_id, words(day), day),
        )
    x_post = None
    if settings.x_can_post and not _x_waits(storage, date):
        storage.retry_daily_post(date.isoformat(), X)
        # X may take X_TIMEOUT_SECONDS to answer or be given up: the supporters do not wait.
        x_post = asyncio.create_task(
            _post_once(storage, date, X, lambda: _try_x(storage, settings, date, words(day)))
        )
    rules = Rules.of(campaign, settings)
    storage.add_late_recipients(broadcast_id, consent=DAILY_PROMPT)
    try:
        report = await delivery.run_broadcast(
            bot, storage, broadcast_id, rules=rules, sending=sending
        )
    except BaseException:
        # The bot is stopping (or the run broke): its post to X stops too. Left 'posting', it is
        # tried at the next start, where X refuses a text it already has: never lost or doubled.
        if x_post is not None:
            x_post.cancel()
        raise
    if x_post is not None:
        await x_post
    return report


async def _post_once(
    storage: Storage, date: dt.date, target: str, post: Callable[[], Awaitable[str]]
) -> None:
    if not storage.claim_daily_post(date.isoformat(), target):
        return
    try:
        status = await post()
    except Exception:
        # A bug in one outside post must not stop the supporters' prompt.
        logger.exception("Posting the daily prompt to %s failed unexpectedly", target)
        status = FAILED
    storage.record_daily_post(date.isoformat(), target, status)


# --- the outside posts -------------------------------------------------------------------------


def x_retry_waiting(storage: Storage, date: dt.date) -> bool:
    """Whether the date's post to X failed and the next run of the day may try it again (not
    before X's rate limit resets, after a 429)."""
    run = storage.daily_run(date.isoformat())
    return run is not None and run["x_status"] == RETRY and not _x_waits(storage, date)


def _x_wait_key(date: dt.date) -> str:
    return f"daily.x_retry_at.{date.isoformat()}"


def x_retry_at(storage: Storage, date: dt.date) -> dt.datetime | None:
    """When the date's post to X, refused with a 429, is tried again (UTC): a little after X's
    rate limit resets. None when it is not waiting for a reset."""
    value = storage.get_flag(_x_wait_key(date))
    return dt.datetime.fromisoformat(value) if value else None


def _x_waits(storage: Storage, date: dt.date) -> bool:
    retry_at = x_retry_at(storage, date)
    return retry_at is not None and utcnow() < retry_at


async def _try_x(storage: Storage, settings: Settings, date: dt.date, words: DayWords) -> str:
    """One try at the date's post to X. A failure (X down, no connection, even refused
    credentials, which someone may fix meanwhile) leaves it to the next run of the day while
    tries remain, a 429 to the moment X's limit resets: X refuses a text it already has, so
    trying again never posts it twice. A limit lasting past the day ends today's tries."""
    key = f"daily.x_tries.{date.isoformat()}"
    tries = int(storage.get_flag(key) or 0) + 1
    storage.set_flag(key, str(tries))
    outcome = await post_to_x(settings, words.x_post)
    status, retry_at = outcome.status, None
    if status == FAILED and tries < X_TRIES_A_DAY:
        status = RETRY
        if outcome.reset_at is not None:
            retry_at = _retry_time(outcome.reset_at, date, settings.zone)
            if retry_at is None:
                logger.warning("X's rate limit lasts past the day: no more tries at X today")
                status = FAILED
            else:
                logger.info("The post to X is tried again at %s, after X's rate limit", retry_at)
    storage.set_flag(_x_wait_key(date), stamp(retry_at) if retry_at else None)
    return status


def _retry_time(reset_at: dt.datetime, date: dt.date, zone: ZoneInfo) -> dt.datetime | None:
    """When to try the date's post to X again after a 429 whose limit resets at `reset_at`: a
    little after it, and X_RETRY_WAIT from now at the soonest; None if that is after the day."""
    retry_at = max(reset_at + X_RESET_MARGIN, utcnow() + X_RETRY_WAIT)
    day_ends = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), zone)
    return retry_at if retry_at < day_ends else None


async def post_to_channel(bot: Bot, channel_id: str, words: DayWords, day: int) -> str:
    """Post the day's prompt to the channel; returns the status to record."""
    try:
        await bot.send_message(
            channel_id,
            words.channel_text,
            parse_mode=ParseMode.HTML,
            reply_markup=words.channel_markup,
        )
    except TimedOut:
        logger.warning("Posting day %s to the channel timed out; it may have gone out", day)
        return UNKNOWN
    except TelegramError as error:
        logger.warning("Could not post day %s to the channel: %s", day, error.message)
        return FAILED
    logger.info("Posted day %s to the channel", day)
    return POSTED


def x_client(settings: Settings) -> XClient:
    """The coalition's X account, with user-context (OAuth 1.0a) credentials; only call it when
    `settings.x_can_post`."""
    # tweepy (with aiohttp) is imported only by bots that post to X: it slows every start.
    from tweepy.asynchronous import AsyncClient as XClient

    return XClient(
        consumer_key=settings.x_api_key.get_secret_value(),
        consumer_secret=settings.x_api_secret.get_secret_value(),
        access_token=settings.x_access_token.get_secret_value(),
        access_token_secret=settings.x_access_token_secret.get_secret_value(),
        return_type=dict,
    )


@dataclass(frozen=True)
class XOutcome:
    """How a post to X went: the status to record and, after a 429, when X's rate limit resets
    (from its x-rate-limit-reset header; None without one)."""

    status: str
    reset_at: dt.datetime | None = None


async def post_to_x(settings: Settings, post: str) -> XOutcome:
    """Post to X. Errors are logged, never raised; a 429 is not waited for here (tweepy's own
    waiting is off): the outcome says when X's limit resets, for the caller to try again then.
    X refusing the text as a duplicate means the account already has it (a post that went out
    just before a crash, or a timeout that reached X): it is recorded as posted."""
    import aiohttp

    from bot.xapi import XError, rate_limit_reset, x_session

    # The first call imports tweepy (60 ms or more): in a worker thread, off the event loop.
    client = await asyncio.to_thread(x_client, settings)
    client.session = x_session(X_TIMEOUT_SECONDS, str(settings.x_api_url))
    try:
        post_id = (await client.create_tweet(text=post))["data"]["id"]
    except TimeoutError:
        logger.warning("Posting the daily prompt to X timed out; it may have gone out")
        return XOutcome(UNKNOWN)
    except XError as error:  # 401, 403, 429 (not waited for), 5xx...
        if error.duplicate:
            logger.info("X already has the daily prompt (it refused the same text again)")
            return XOutcome(POSTED)
        reason = error.detail or error.message
        logger.warning("X refused the daily prompt: HTTP %s %s", error.status, reason)
        reset_at = rate_limit_reset(error.headers) if error.status == 429 else None
        return XOutcome(FAILED, reset_at)
    except (
        aiohttp.ClientPayloadError,
        aiohttp.ContentTypeError,
        ValueError,
        KeyError,
        TypeError,
    ) as error:
        # Only a 2xx gets this far: X took the post, and its answer was cut off or in no shape
        # it documents.
        unreadable = type(error).__name__
        logger.warning("X took the daily prompt; its answer was unreadable (%s)", unreadable)
        return XOutcome(POSTED)
    except aiohttp.ClientError as error:
        logger.warning("Could not reach X to post the daily prompt: %s", type(error).__name__)
        return XOutcome(FAILED)
    finally:
        await client.session.close()
    logger.info("Posted the daily prompt to X as post %s", post_id)
    return XOutcome(POSTED)


# --- for organisers (/schedule) ----------------------------------------------------------------


@dataclass(frozen=True)
class DayStatus:
    """How far a prepared day's prompt has got."""

    day: int
    broadcast_status: str
    counts: dict[str, int]
    total: int | None  # None while its recipients are being written (delivery.known_total)
    channel_status: str | None
    x_status: str | None
    x_retry_at: dt.datetime | None = None  # after a 429: when X is asked again (UTC)

    @property
    def left(self) -> int:
        return self.counts.get(delivery.PENDING, 0) + self.counts.get("sending", 0)

    @property
    def going_out(self) -> bool:
        """Started and not ended: its recipients being found, or its messages being sent."""
        return self.broadcast_status not in ("done", delivery.CANCELLED)


def late_subscribers(storage: Storage, date: dt.date) -> int:
    """How many agreed to the daily prompt after the date's prompt started going out, and so
    have not had it: the next run of the day serves them. 0 before it is prepared."""
    run = storage.daily_run(date.isoformat())
    if run is None:
        return 0
    return storage.late_recipients(run["broadcast_id"], consent=DAILY_PROMPT)


@dataclass(frozen=True)
class Recipients:
    """Who running a date's prompt now would send it to; false when nobody."""

    subscribers: int = 0
    channel: bool = False
    x: bool = False

    def __bool__(self) -> bool:
        return bool(self.subscribers or self.channel or self.x)


def recipients_now(
    storage: Storage, settings: Settings, rules: Rules, campaign: Campaign, date: dt.date
) -> Recipients:
    """Who running the date's prompt now would send it to: before it is prepared, everyone who
    chose the daily prompt and has not blocked the bot, and the channel and X where set up;
    once prepared, only those who chose it since (the posts went once). Nobody outside the
    campaign."""
    if campaign.day_number(date) is None:
        return Recipients()
    if storage.daily_run(date.isoformat()) is None:
        subscribers = delivery.reach(storage, delivery.Audience(), rules, DAILY_KIND)
        return Recipients(subscribers, bool(settings.channel_id), settings.x_can_post)
    return Recipients(subscribers=late_subscribers(storage, date))


def day_status(storage: Storage, date: dt.date) -> DayStatus | None:
    """None until the date's prompt has been prepared."""
    run = storage.daily_run(date.isoformat())
    if run is None:
        return None
    broadcast = storage.get_broadcast(run["broadcast_id"]) or {}
    counts = Counter(storage.broadcast_summary(run["broadcast_id"]))
    # Someone skipped because they had blocked the bot before their turn blocked it all the
    # same: the overview says so, rather than "unsubscribed".
    blocked_meanwhile = storage.skip_reasons(run["broadcast_id"]).get(delivery.SKIPPED_BLOCKED, 0)
    counts.update({delivery.BLOCKED: blocked_meanwhile, delivery.SKIPPED: -blocked_meanwhile})
    return DayStatus(
        day=run["day"],
        broadcast_status=broadcast.get("status", ""),
        counts=dict(counts),
        total=delivery.known_total(broadcast) if broadcast else 0,
        channel_status=run["channel_status"],
        x_status=run["x_status"],
        x_retry_at=x_retry_at(storage, date),
    )
