"""`build_application`: the one place the python-telegram-bot Application is put together."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

import httpx
from telegram import Bot, BotCommand, BotCommandScopeChat, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, Job, JobQueue
from telegram.ext._utils.trackingdict import TrackingDict
from telegram.request import BaseRequest

import handlers
import scheduler
from bot import __version__, delivery, health, outages
from bot.app.context import BotData, BotStopping, Context
from bot.app.persistence import SQLitePersistence
from bot.app.processor import PersonUpdateProcessor
from bot.app.request import telegram_request
from bot.app.updates import ReadableUpdates
from bot.campaign import PROFILE_LIMITS, Campaign, load_campaign
from bot.config import Settings
from bot.flood import FloodGate
from bot.petition import PetitionCounter
from bot.ratelimit import PriorityRateLimiter
from bot.tracking import build_sources
from messages.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog

logger = logging.getLogger(__name__)

# `stepup-bot try` and tests run without a real token; Telegram would reject this one.
OFFLINE_TOKEN = "123456:offline-token-for-local-use"
SUPPORTER_COMMANDS = ("start", "menu", "language", "help", "privacy", "mydata", "stop", "forget")
ORGANISER_COMMANDS = ("broadcast", "stats", "export", "moderate", "schedule", "trends", "lobby")
ALL_COMMANDS = SUPPORTER_COMMANDS + ORGANISER_COMMANDS
USER_AGENT = "stepup-bot (+https://stepupmigrantwomen.org)"
# Updates at work at once, each person's one at a time. Most of an update's life is waiting
# (for Telegram, a lookup, its turn under the rate limit), so many can wait side by side, at
# about 11 KB each. Enough for a rush of a thousand /start to all be waiting under the rate
# limiter, where each one's first message goes before anyone's second (with 256, the rest
# waited for a place: the median first reply came after 26 s, not 16); the bound keeps a rush
# of many thousands from holding them all half-done in memory.
CONCURRENT_UPDATES = 1024
# At SIGTERM, broadcasts get this long to record the batch they have in flight; systemd allows
# 90 s, we promise 5 (D11).
SHUTDOWN_GRACE_SECONDS = 3.0
# Every message is Telegram HTML, and links in it show no preview card.
DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML,
    link_preview_options=LinkPreviewOptions(is_disabled=True),
)


class StepUpApplication(Application):
    """python-telegram-bot's Application, which at shutdown first stops the broadcasts under
    way, the outside lookups people wait for and the replies waiting out a 429: otherwise it
    waits for every job and task to finish, a whole broadcast, a hanging service's deadline or
    Telegram's retry_after if need be."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._persisting = asyncio.Lock()

    async def stop(self) -> None:
        self.bot_data.stop_waiting()
        await self.bot_data.sending.stop(SHUTDOWN_GRACE_SECONDS)
        # A reply waiting out a 429 (Telegram may ask for minutes) gives up rather than hold us.
        self.bot.rate_limiter.stop()
        await super().stop()

    async def update_persistence(self) -> None:
        """Hand python-telegram-bot's changed user_data and conversation states to the
        persistence, then write them in one transaction (`SQLitePersistence.commit`). Runs after
        every update (`handlers.persist_now`), on python-telegram-bot's timer and at stop.

        python-telegram-bot's own version hands over each value in a task of its own and
        gathers them: after every update that cost about 70 µs of CPU, a tenth of handling a
        tap. This one hands them over in turn, for the only data this bot persists (see
        `SQLitePersistence`), reading the same bookkeeping python-telegram-bot keeps for it;
        the lock file pins the version it follows. Handlers never run with block=False here, so
        no conversation state is ever left pending."""
        async with self._persisting:
            persistence: SQLitePersistence = self.persistence
            dropped = self._user_ids_to_be_deleted_in_persistence
            changed = self._user_ids_to_be_updated_in_persistence - dropped
            self._user_ids_to_be_updated_in_persistence = set()
            self._user_ids_to_be_deleted_in_persistence = set()
            for user_id in changed:
                await persistence.update_user_data(user_id, self.user_data[user_id])
            for user_id in dropped:
                await persistence.drop_user_data(user_id)
            for name, states in self._conversation_handler_conversations.items():
                for key, state in states.pop_accessed_write_items():
                    ended = state is TrackingDict.DELETED
                    await persistence.update_conversation(name, key, None if ended else state)
            await persistence.commit()


class StepUpJobQueue(JobQueue):
    """python-telegram-bot's JobQueue, whose jobs, like updates, wait off the event loop while
    another connection holds the database's write lock (`Store.writable`)."""

    @staticmethod
    async def job_callback(job_queue: JobQueue, job: Job) -> None:
        await job_queue.application.bot_data.storage.writable()
        await job.run(job_queue.application)


def build_application(
    settings: Settings,
    *,
    campaign: Campaign | None = None,
    request: BaseRequest | None = None,
    lookups: httpx.AsyncBaseTransport | None = None,
    telegram_limits: bool = True,
) -> Application:
    """The bot, wired but not started. Pass `request` to put a fake Telegram under it (and
    `telegram_limits=False` if that fake has no per-chat limits: see `RatePlan`), and
    `lookups` to answer the outside services (postcodes, MPs, petition counts) without the
    network: sample data for `stepup-bot try --sample-data`, fakes in tests."""
    token = (
        settings.telegram_bot_token.get_secret_value()
        if settings.telegram_bot_token
        else OFFLINE_TOKEN
    )
    persistence = SQLitePersistence(settings.database_path)
    builder = (
        ApplicationBuilder()
        .application_class(StepUpApplication)
        .token(token)
        .base_url(settings.telegram_base_url)
        .defaults(DEFAULTS)
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .job_queue(StepUpJobQueue())
        .rate_limiter(
            PriorityRateLimiter(
                settings.broadcast_rate,
                paid_broadcasts=settings.paid_broadcasts,
                telegram_limits=telegram_limits,
            )
        )
        # An update that would wait for another connection's write lock waits off the loop.
        .concurrent_updates(
            PersonUpdateProcessor(CONCURRENT_UPDATES, lambda: persistence.storage.writable())
        )
        .persistence(persistence)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    refused = asyncio.Event()
    if request is None:
        builder = builder.request(telegram_request(settings.broadcast_rate))
        builder = builder.get_updates_request(ReadableUpdates(refused=refused))
    else:
        builder = builder.request(request)
        builder = builder.get_updates_request(ReadableUpdates(request, refused=refused))
    app = builder.build()
    app.bot_data.token_refused = refused
    app.bot_data.settings = settings
    app.bot_data.campaign = campaign or load_campaign(settings.campaign_file)
    app.bot_data.lookups = lookups
    handlers.register_all(app)
    return app


async def post_init(app: Application) -> None:
    """Open long-lived services, publish the command menus and rebuild scheduled jobs."""
    data: BotData = app.bot_data
    data.storage = app.persistence.storage
    watched = outages.WatchedTransport(
        data.lookups or httpx.AsyncHTTPTransport(),
        outages.services_by_host(data.settings),
        data.storage,
    )
    data.http = httpx.AsyncClient(
        transport=watched, timeout=httpx.Timeout(10.0), headers={"User-Agent": USER_AGENT}
    )
    data.flood_gate = FloodGate(data.settings.user_updates_per_minute)
    data.petition_counter = PetitionCounter(data.http)
    data.tracking = build_sources(data.settings)
    data.daily_lock = asyncio.Lock()
    data.tracking_lock = asyncio.Lock()
    data.sending = delivery.Sending.at_rate(
        data.settings.broadcast_rate, paid_broadcasts=data.settings.paid_broadcasts
    )
    data.broadcast_runs = {}
    try:
        await data.unless_stopping(introduce(app))
    except BotStopping:
        # Each request could wait for Telegram's whole timeout: a stop does not wait for them.
        logger.warning("Stopping: the command menus and profile are left for the next start")
    scheduler.schedule_all(app)
    logger.info("%s", started(app))


def organisers_said(settings: Settings) -> str:
    """How many organisers the settings name, as the start-up line and `stepup-bot check` say
    it, in plain English ("1 organiser", not "1 organiser(s)")."""
    count = len(settings.organiser_ids)
    if count == 0:
        return "no organisers"
    return "1 organiser" if count == 1 else f"{count} organisers"


def started(app: Application) -> str:
    """The one line saying what is starting, for the log."""
    data: BotData = app.bot_data
    settings, campaign = data.settings, data.campaign
    mode = f"webhook at {settings.webhook_url}" if settings.webhook_url else "long polling"
    return (
        f"Starting @{app.bot.username} (stepup-bot {__version__}): {mode}, "
        f"{organisers_said(settings)}, campaign {campaign.name('en')} "
        f"{campaign.start_date} to {campaign.end_date}, database {settings.database_path.resolve()}"
    )


async def post_shutdown(app: Application) -> None:
    """Close what `post_init` opened; `stepup-bot health` now says the bot is not running."""
    data: BotData = app.bot_data
    await data.http.aclose()
    await data.tracking.aclose()
    try:
        health.stopped(data.storage)
    except sqlite3.OperationalError as error:
        # Another program holds the database's lock: the heartbeat goes stale by itself.
        logger.warning("Could not note the stop for `stepup-bot health`: %s", error)
    app.persistence.close()


def commands(language: str, names: tuple[str, ...]) -> list[BotCommand]:
    descriptions = catalog(language)
    return [BotCommand(name, descriptions[f"core.commands.{name}"]) for name in names]


async def introduce(app: Application) -> None:
    """Tell Telegram how the bot presents itself: its command menus and its profile."""
    await publish_commands(app)
    await publish_profile(app)


async def publish_commands(app: Application) -> None:
    """The command menu in each language; organisers alone also see their own commands."""
    await publish_menu(app.bot, SUPPORTER_COMMANDS)
    for organiser_id in app.bot_data.settings.organiser_ids:
        await publish_menu(app.bot, ALL_COMMANDS, BotCommandScopeChat(organiser_id))


async def publish_menu(
    bot: Bot, names: tuple[str, ...], scope: BotCommandScopeChat | None = None
) -> None:
    """One command menu: English by default, and each language for people using it."""
    try:
        await bot.set_my_commands(commands("en", names), scope=scope)
        for language in LANGUAGES:
            await bot.set_my_commands(
                commands(language, names), scope=scope, language_code=language
            )
    except TelegramError as error:
        # An organiser who never opened the bot has no chat yet: the bot works without the menu,
        # and the others still get theirs.
        logger.warning("Could not publish a command menu: %s", error)


async def publish_profile(app: Application) -> None:
    """How the bot introduces itself before anyone presses Start, from the campaign file: its
    name, description and short description, in English by default and in each other language
    for people using it. Each is set only where it differs from what Telegram has: renaming is
    limited to a few times a day, and a refusal is logged and left for a later start."""
    profile = app.bot_data.campaign.bot_profile
    if profile is None:
        return
    # Around the rate limiter: it would wait out a renaming limit (hours) and hold every other
    # request meanwhile.
    request = app.bot.request
    bot = Bot(
        app.bot.token,
        base_url=app.bot_data.settings.telegram_base_url,
        request=request,
        get_updates_request=request,
    )
    for language in LANGUAGES:
        code = None if language == DEFAULT_LANGUAGE else language
        for field in PROFILE_LIMITS:  # name, description, short_description
            wanted = getattr(profile, field)(language)
            try:
                current = await getattr(bot, f"get_my_{field}")(language_code=code)
                if getattr(current, field) != wanted:
                    await getattr(bot, f"set_my_{field}")(wanted, language_code=code)
            except RetryAfter:
                logger.warning(
                    "Telegram limits changes to the bot's %s (%s); a later start sets it",
                    field,
                    language,
                )
            except TelegramError as error:
                logger.warning("Could not set the bot's %s (%s): %s", field, language, error)
