"""/schedule for organisers: the coming daily prompts and today's progress, a preview of any day
in any language, pause and resume, and "send today's now" (which never doubles a day's prompt:
it runs the same idempotent `bot.daily.run_day` as the scheduled job)."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application

import scheduler.daily
from bot import daily
from bot.app.context import Context
from bot.clock import local_now
from bot.delivery import link_keyboard
from handlers.common import answer, language, organiser_only, reply, routes, show
from messages import daily as screens
from messages import text
from messages.i18n import LANGUAGES, Html

# --- plain values out of the update ------------------------------------------------------------


def today(context: Context) -> dt.date:
    return local_now(context.bot_data.settings.zone).date()


def parse_day(context: Context, value: str) -> int | None:
    """A campaign day number from callback data, or None if it is not one (X4)."""
    if not (value.isascii() and value.isdigit()):
        return None
    day = int(value)
    return day if 1 <= day <= context.bot_data.campaign.total_days else None


def parse_preview(context: Context, data: str) -> tuple[int, str] | None:
    """(day, language) from `schedule:preview:<day>:<language>`, or None if tampered with."""
    day_value, _, chosen = data.removeprefix(screens.PREVIEW_PREFIX).partition(":")
    day = parse_day(context, day_value)
    return (day, chosen) if day is not None and chosen in LANGUAGES else None


# --- callbacks ---------------------------------------------------------------------------------


def recipients(context: Context) -> daily.Recipients:
    """Who "send today's now" would send today's prompt to."""
    data = context.bot_data
    date = today(context)
    return daily.recipients_now(data.storage, data.settings, data.rules, data.campaign, date)


def overview(context: Context, lang: str) -> tuple[Html, InlineKeyboardMarkup]:
    data = context.bot_data
    day = today(context)
    paused = daily.is_paused(data.storage)
    status = daily.day_status(data.storage, day)
    late = daily.late_subscribers(data.storage, day)
    sendable = recipients(context)
    # Before the day's prompt goes out, with no subscriber, channel or X, nobody would get it.
    nobody = status is None and data.campaign.day_number(day) is not None and not sendable
    body = screens.render_schedule(
        lang, data.campaign, data.settings, day, status, paused, late, nobody
    )
    return body, screens.overview_keyboard(lang, paused, bool(sendable))


async def show_schedule(update: Update, context: Context) -> None:
    """/schedule: the coming prompts, today's progress, and what organisers can do."""
    await show(update, context, *overview(context, language(update, context)))


async def choose_day(update: Update, context: Context) -> None:
    """Preview: pick a day."""
    lang = language(update, context)
    keyboard = screens.days_keyboard(lang, context.bot_data.campaign.total_days)
    await show(update, context, text(lang, "daily.schedule.choose_day"), keyboard)


async def choose_preview_language(update: Update, context: Context) -> None:
    """Preview: pick the language for the chosen day."""
    day = parse_day(context, update.callback_query.data.removeprefix(screens.DAY_PREFIX))
    if day is None:
        await stale_schedule_button(update, context)
        return
    lang = language(update, context)
    body = screens.preview_choice(lang, context.bot_data.campaign, day)
    await show(update, context, body, screens.languages_keyboard(lang, day))


async def preview_prompt(update: Update, context: Context) -> None:
    """Preview: the day's prompt in a language, exactly as subscribers get it."""
    parsed = parse_preview(context, update.callback_query.data)
    if parsed is None:
        await stale_schedule_button(update, context)
        return
    day, chosen = parsed
    campaign = context.bot_data.campaign
    await answer(update, context)
    button = screens.prompt_button(campaign, context.bot.username, day, chosen)
    body = screens.prompt_text(campaign, day, chosen, context.bot.username)
    await reply(update, context, body, link_keyboard(button))


async def pause_schedule(update: Update, context: Context) -> None:
    """Pause: no prompt is prepared until organisers resume."""
    daily.set_paused(context.bot_data.storage, True)
    await show_schedule(update, context)


async def resume_schedule(update: Update, context: Context) -> None:
    """Resume the schedule (a prompt already missed today is sent by "send today's now")."""
    daily.set_paused(context.bot_data.storage, False)
    await show_schedule(update, context)


async def confirm_send(update: Update, context: Context) -> None:
    """Send today's now: ask first, saying to whom; or say why there is nothing to send."""
    lang = language(update, context)
    data = context.bot_data
    date = today(context)
    day = data.campaign.day_number(date)
    sending_to = recipients(context)
    if day is None or not sending_to:
        body = text(lang, nothing_to_send(context))
        await show(update, context, body, screens.back_keyboard(lang))
        return
    if daily.day_status(data.storage, date) is not None:
        count = sending_to.subscribers
        body = text(lang, "daily.schedule.send_confirm_late", day=day, count=count)
    else:
        body = screens.send_confirm(lang, day, sending_to)
    await show(update, context, body, screens.confirm_keyboard(lang))


async def send_confirmed(update: Update, context: Context) -> None:
    """Send today's now, confirmed: queue it, unless it has already gone out to everyone."""
    lang = language(update, context)
    if not recipients(context):
        key = nothing_to_send(context)
    else:
        scheduler.daily.send_now(context.application)
        key = "daily.schedule.sending"
    await show(update, context, text(lang, key), screens.back_keyboard(lang))


def nothing_to_send(context: Context) -> str:
    """Why "send today's now" sends nothing, as a catalog key: no campaign day, nobody to send
    it to (no subscriber, channel or X), today's prompt still going out to everyone subscribed
    (its recipients may still be being found), or gone out to them all."""
    data = context.bot_data
    date = today(context)
    if data.campaign.day_number(date) is None:
        return "daily.schedule.no_prompt_today"
    status = daily.day_status(data.storage, date)
    if status is None:
        return "daily.schedule.nobody_to_send"
    if status.going_out:
        return "daily.schedule.going_out"
    return "daily.schedule.already_sent"


async def stale_schedule_button(update: Update, context: Context) -> None:
    """A schedule button with data we don't recognise (old, or tampered with): say so kindly and
    show the schedule again."""
    lang = language(update, context)
    await answer(update, context, text(lang, "daily.schedule.stale"))
    await reply(update, context, *overview(context, lang))


COMMANDS = {"schedule": show_schedule}
BUTTONS = [
    (f"^{screens.SHOW}$", show_schedule),
    (f"^{screens.DAYS}$", choose_day),
    (f"^{screens.DAY_PREFIX}", choose_preview_language),
    (f"^{screens.PREVIEW_PREFIX}", preview_prompt),
    (f"^{screens.PAUSE}$", pause_schedule),
    (f"^{screens.RESUME}$", resume_schedule),
    (f"^{screens.SEND}$", confirm_send),
    (f"^{screens.SEND_CONFIRMED}$", send_confirmed),
    (f"^{screens.PREFIX}", stale_schedule_button),
]


def register(app: Application) -> None:
    app.add_handlers(
        routes(
            {name: organiser_only(callback) for name, callback in COMMANDS.items()},
            [(pattern, organiser_only(callback)) for pattern, callback in BUTTONS],
        )
    )
    app.bot_data.organiser_buttons.add(screens.PREFIX)
