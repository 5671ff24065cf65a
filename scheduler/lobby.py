"""Lobby days' jobs, one per event and moment (`lobby-<id>-<moment>`), rebuilt from SQLite at
every start: the reminder the evening before and on the morning (to those going who agreed to
hear from the campaign), the message on the morning to everyone else who did (a broadcast:
email or post to your MP today, with the hashtag), and "How did it go?" afterwards.

Each supporter's reminder or question is claimed in SQLite before it is sent, so it goes at most
once across any number of restarts; a send that fails is not retried (a timeout may well have
reached the supporter). A moment missed while the bot was down runs when it comes back, unless
it is no use any more: no reminder once the event has begun, no "today" after the day.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from bot import lobby
from bot.app.context import BotData, Context
from bot.consent import BROADCAST_KIND
from bot.delivery import Audience, LinkButton, create_broadcast
from bot.lobby import LobbyEvent
from bot.storage import utcnow
from messages import Html, text
from messages import lobby as screens
from messages.i18n import LANGUAGES
from scheduler import broadcasts

logger = logging.getLogger(__name__)

JOB_PREFIX = "lobby-"
# A moment that fell due while the bot was down runs once the bot has finished starting.
AT_START_DELAY = broadcasts.AT_START_DELAY
# How long after an event "How did it go?" may still be owed to someone (after downtime).
ASK_OUTCOME_WITHIN = dt.timedelta(days=14)


def job_name(event_id: int, moment: str) -> str:
    """The JobQueue name of one event's moment."""
    return f"{JOB_PREFIX}{event_id}-{moment}"


def schedule(app: Application) -> None:
    """At start: each open event's jobs, and the news of a cancellation to anyone who was
    not told before the process stopped."""
    for row in app.bot_data.storage.lobby_events():
        event = LobbyEvent.from_row(row)
        if event.status == lobby.OPEN:
            schedule_event(app, event)
        else:
            _run_soon(app, event.id, lobby.CANCELLED)


def schedule_event(app: Application, event: LobbyEvent) -> None:
    """(Re)place an event's jobs from its saved times; those already past run soon, unless
    they are no use any more."""
    _remove_jobs(app, event.id)
    data: BotData = app.bot_data
    zone = data.settings.zone
    now = utcnow()
    for moment in lobby.MOMENTS:
        if event.moment_passed(moment, now, zone):
            continue
        if moment == lobby.OUTCOME and now > event.starts_at + ASK_OUTCOME_WITHIN:
            continue
        when = max(event.moment(moment, zone), now + AT_START_DELAY)
        app.job_queue.run_once(
            run_moment,
            when=when,
            data=(event.id, moment),
            name=job_name(event.id, moment),
            # However late the scheduler gets to it, `act` decides whether it is still of use.
            job_kwargs={"misfire_grace_time": None},
        )


def _run_soon(app: Application, event_id: int, moment: str) -> None:
    app.job_queue.run_once(
        run_moment,
        when=AT_START_DELAY,
        data=(event_id, moment),
        name=job_name(event_id, moment),
        job_kwargs={"misfire_grace_time": None},
    )


def _remove_jobs(app: Application, event_id: int) -> None:
    for moment in (*lobby.MOMENTS, lobby.CANCELLED):
        for job in app.job_queue.get_jobs_by_name(job_name(event_id, moment)):
            job.schedule_removal()


async def run_moment(context: Context) -> None:
    """The JobQueue callback: `act` on the (event id, moment) in the job's data."""
    event_id, moment = context.job.data
    await act(context.application, event_id, moment)


async def cancelled(app: Application, event_id: int) -> int:
    """An organiser cancelled the event: drop its jobs and tell everyone going. Returns how
    many were told."""
    _remove_jobs(app, event_id)
    return await act(app, event_id, lobby.CANCELLED)


async def act(app: Application, event_id: int, moment: str) -> int:
    """Do `moment` for the event, for everyone still owed it; returns how many were sent."""
    data: BotData = app.bot_data
    row = data.storage.get_lobby_event(event_id)
    if row is None:
        return 0
    event = LobbyEvent.from_row(row)
    cancelled_event = event.status == lobby.CANCELLED
    if cancelled_event != (moment == lobby.CANCELLED):
        return 0
    if event.moment_passed(moment, utcnow(), data.settings.zone):
        return 0
    if moment == lobby.FALLBACK:
        return offer_fallback(app, event)
    return await send_each(app, event, moment)


async def send_each(app: Application, event: LobbyEvent, moment: str) -> int:
    """Claim, then send, the moment's message to each supporter still owed it."""
    storage = app.bot_data.storage
    sent = 0
    hears = app.bot_data.rules.subject_for(BROADCAST_KIND, utcnow())
    for person in storage.due_lobby_moment(event.id, moment, hears):
        user_id = person["user_id"]
        if not storage.claim_lobby_moment(event.id, user_id, moment):
            continue
        body, markup = message_for(app, event, moment, person["language"], person["mp_name"])
        try:
            message = await app.bot.send_message(user_id, body, reply_markup=markup)
        except Forbidden:
            storage.mark_blocked(user_id)
            continue
        except TelegramError as error:
            logger.warning("Could not send lobby %s %s: %s", event.id, moment, error)
            continue
        storage.record_chat_messages([(user_id, message.message_id)])
        sent += 1
    return sent


def message_for(
    app: Application, event: LobbyEvent, moment: str, lang: str, mp_name: str
) -> tuple[Html, InlineKeyboardMarkup]:
    """What one supporter gets at `moment`, in their language."""
    zone = app.bot_data.settings.zone
    now = utcnow()
    if moment == lobby.EVE:
        key = "lobby.reminder_eve"
    elif moment == lobby.MORNING:
        key = "lobby.reminder_morning"
    elif moment == lobby.OUTCOME:
        return screens.ask_outcome(lang, event, mp_name), screens.outcome_keyboard(lang, event.id)
    else:
        return screens.event_cancelled(lang, event, zone), screens.fallback_keyboard(lang, event)
    body = screens.reminder(lang, key, event, zone, now, mp_name)
    return body, screens.reminder_keyboard(lang, event)


def offer_fallback(app: Application, event: LobbyEvent) -> int:
    """On the morning: everyone subscribed who isn't going gets "email or post to your MP
    today", as a broadcast (resumable, paced, with a progress message to the organiser who
    created the event). Claimed first, so it is created at most once. Returns 1 if it was."""
    storage = app.bot_data.storage
    if not storage.claim_lobby_fallback(event.id):
        return 0
    write_link = f"https://t.me/{app.bot.username}?start=mp"
    broadcast_id = create_broadcast(
        storage,
        texts={lang: screens.fallback(lang, event) for lang in LANGUAGES},
        audience=Audience(lobby_event=event.id, lobby_reach=lobby.NOT_GOING_AUDIENCE),
        buttons={
            lang: LinkButton(text(lang, "lobby.fallback_button"), write_link) for lang in LANGUAGES
        },
        created_by=storage.get_lobby_event(event.id)["created_by"],
    )
    broadcasts.start(app, broadcast_id)
    return 1
