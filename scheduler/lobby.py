"""Lobby days' jobs, one per event and moment (`lobby-<id>-<moment>`), rebuilt from SQLite at
every start: the reminder the evening before and on the morning (to those going who agreed to
hear from the campaign), the message on the morning to everyone else who did (email or post to
your MP today, with the hashtag), and "How did it go?" afterwards. And the news to everyone
going when an organiser moves an event (a new date, time or place) or cancels it.

Each message is a broadcast of the delivery engine, run by scheduler.broadcasts: paced behind
supporters' replies, a 403 marks the supporter blocked, and a run cut short by a crash resumes
at the next start, losing nobody (at most one duplicate per send in flight at the kill, D1). A
moment's broadcast is created and recorded in one transaction (bot.lobby.start_moment), so it
happens at most once; so are a change or a cancellation and their news. A moment missed while
the bot was down runs when it comes back, unless it is no use any more: no reminder once the
event has begun, no "today" after the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from telegram.ext import Application

from bot import lobby
from bot.app.context import BotData, Context
from bot.consent import FOLLOWUP_KIND, NOTICE_KIND, REMINDER_KIND
from bot.delivery import Audience, LinkButton, reach
from bot.lobby import LobbyEvent
from bot.storage import utcnow
from messages import lobby as screens
from messages import text
from messages.i18n import LANGUAGES
from scheduler import broadcasts

JOB_PREFIX = "lobby-"
# A moment that fell due while the bot was down runs once the bot has finished starting.
AT_START_DELAY = broadcasts.AT_START_DELAY
# How long after an event "How did it go?" may still be owed to someone (after downtime).
ASK_OUTCOME_WITHIN = dt.timedelta(days=14)


def job_name(event_id: int, moment: str) -> str:
    """The JobQueue name of one event's moment."""
    return f"{JOB_PREFIX}{event_id}-{moment}"


def schedule(app: Application) -> None:
    """At start: each open event's jobs. (Their broadcasts under way resume with every other,
    see scheduler.broadcasts.)"""
    for event in lobby.open_events(app.bot_data.storage).values():
        schedule_event(app, event)


def schedule_event(app: Application, event: LobbyEvent) -> None:
    """(Re)place an event's jobs from its saved times; those already past run soon, unless
    they are no use any more."""
    remove_jobs(app, event.id)
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


def remove_jobs(app: Application, event_id: int) -> None:
    """Drop an event's jobs (it was cancelled, or is about to be rescheduled)."""
    for moment in lobby.MOMENTS:
        for job in app.job_queue.get_jobs_by_name(job_name(event_id, moment)):
            job.schedule_removal()


async def run_moment(context: Context) -> None:
    """The JobQueue callback: `act` on the (event id, moment) in the job's data."""
    event_id, moment = context.job.data
    act(context.application, event_id, moment)


def act(app: Application, event_id: int, moment: str) -> bool:
    """Start the event's `moment` unless it is done already, no use any more or the event was
    cancelled. Returns whether it started."""
    data: BotData = app.bot_data
    row = data.storage.get_lobby_event(event_id)
    if row is None:
        return False
    event = LobbyEvent.from_row(row)
    if event.status != lobby.OPEN or event.moment_passed(moment, utcnow(), data.settings.zone):
        return False
    message = moment_message(app, event, moment, row["created_by"])
    broadcast_id = lobby.start_moment(data.storage, event.id, moment, message)
    if broadcast_id is None:
        return False
    broadcasts.start(app, broadcast_id)
    return True


def moment_message(
    app: Application, event: LobbyEvent, moment: str, organiser_id: int | None
) -> dict[str, Any]:
    """The broadcast for `moment`, as create_broadcast's arguments, in every language. The
    organiser who created the event follows the message on the day to everyone else; the
    reminders and the question go without a report."""
    zone = app.bot_data.settings.zone
    now = utcnow()
    going = Audience(lobby_event=event.id, lobby_reach=lobby.GOING_AUDIENCE)
    if moment == lobby.FALLBACK:
        write_link = f"https://t.me/{app.bot.username}?start=mp"
        return {
            "texts": in_every_language(lambda lang: screens.fallback(lang, event)),
            "audience": Audience(lobby_event=event.id, lobby_reach=lobby.NOT_GOING_AUDIENCE),
            "buttons": in_every_language(
                lambda lang: LinkButton(text(lang, "lobby.fallback_button"), write_link)
            ),
            "created_by": organiser_id,
            "scheduled_for": now,
        }
    if moment == lobby.OUTCOME:
        return {
            "kind": FOLLOWUP_KIND,
            "texts": in_every_language(lambda lang: screens.ask_outcome(lang, event)),
            "audience": Audience(lobby_event=event.id, lobby_reach=lobby.STILL_GOING_AUDIENCE),
            "keyboards": in_every_language(lambda lang: screens.outcome_keyboard(lang, event.id)),
            "scheduled_for": now,
        }
    key = "lobby.reminder_eve" if moment == lobby.EVE else "lobby.reminder_morning"
    return {
        "kind": REMINDER_KIND,
        "texts": in_every_language(lambda lang: screens.reminder(lang, key, event, zone)),
        "audience": going,
        "keyboards": in_every_language(lambda lang: screens.reminder_keyboard(lang, event)),
        "scheduled_for": now,
    }


def in_every_language(render: Callable[[str], Any]) -> dict[str, Any]:
    """{language: render(language)} for every language the bot speaks."""
    return {lang: render(lang) for lang in LANGUAGES}


def notice(
    event: LobbyEvent, organiser_id: int, texts: Mapping[str, str], keyboards: Mapping[str, Any]
) -> dict[str, Any]:
    """News for everyone going who has not said /stop since (create_broadcast's arguments),
    reported to the organiser who made the change."""
    return {
        "kind": NOTICE_KIND,
        "texts": texts,
        "audience": Audience(lobby_event=event.id, lobby_reach=lobby.STILL_GOING_AUDIENCE),
        "keyboards": keyboards,
        "created_by": organiser_id,
        "scheduled_for": utcnow(),
    }


async def told(app: Application, event_id: int) -> int:
    """How many a notice about the event would reach now (read off the event loop: see
    `Storage.read`)."""
    data: BotData = app.bot_data
    audience = Audience(lobby_event=event_id, lobby_reach=lobby.STILL_GOING_AUDIENCE)
    return await data.storage.read(reach, audience, data.rules, NOTICE_KIND)


async def cancel(app: Application, event: LobbyEvent, organiser_id: int) -> int | None:
    """Cancel the event: its jobs go, and everyone going is told through the delivery engine
    (the organiser gets its progress and report). Returns how many will be told, None if it
    was cancelled already."""
    zone = app.bot_data.settings.zone
    count = await told(app, event.id)
    news = notice(
        event,
        organiser_id,
        in_every_language(lambda lang: screens.event_cancelled(lang, event, zone)),
        in_every_language(lambda lang: screens.fallback_keyboard(lang, event)),
    )
    broadcast_id = lobby.cancel(app.bot_data.storage, event.id, news)
    if broadcast_id is None:
        return None
    remove_jobs(app, event.id)
    broadcasts.start(app, broadcast_id)
    return count


async def save_changes(
    app: Application,
    before: LobbyEvent,
    after: LobbyEvent,
    values: Mapping[str, Any],
    organiser_id: int,
) -> int | None:
    """Save an organiser's changes to an event. A new date, time or place is news to everyone
    going, told through the delivery engine; a new start makes its moments still ahead due
    again at their new times (a reminder already sent for the old day goes again for the
    new one). Returns how many will be told (0 for a change that is no news), None if the
    event was cancelled meanwhile."""
    data: BotData = app.bot_data
    zone, now = data.settings.zone, utcnow()
    news, count, rearm = None, 0, []
    if lobby.moves(before, after):
        count = await told(app, before.id)
        news = notice(
            after,
            organiser_id,
            in_every_language(lambda lang: screens.event_changed(lang, after, zone)),
            in_every_language(lambda lang: screens.changed_keyboard(lang, after)),
        )
    if before.starts_at != after.starts_at:
        rearm = [moment for moment in lobby.MOMENTS if after.moment(moment, zone) > now]
    saved, broadcast_id = lobby.save_changes(
        data.storage, before.id, values, notice=news, rearm=rearm
    )
    if not saved:
        return None
    schedule_event(app, LobbyEvent.from_row(data.storage.get_lobby_event(before.id)))
    if broadcast_id:
        broadcasts.start(app, broadcast_id)
    return count
