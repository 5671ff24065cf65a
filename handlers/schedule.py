"""/schedule for organisers: the coming daily prompts and today's progress, a preview of any day
in any language, pause and resume, and "send today's now" (which never doubles a day's prompt:
it runs the same idempotent `bot.daily.run_day` as the scheduled job)."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

import scheduler.daily
from bot import daily
from bot.app.context import Context
from bot.delivery import LinkButton
from handlers.common import language, organiser_only, reply, routes, show
from messages import daily as words
from messages import keyboards, text
from messages.i18n import LANGUAGES, Html, catalog
from messages.render import date as date_label

PREFIX = "schedule:"
SHOW = "schedule:show"
DAYS = "schedule:days"
DAY_PREFIX = "schedule:day:"
PREVIEW_PREFIX = "schedule:preview:"
PAUSE = "schedule:pause"
RESUME = "schedule:resume"
SEND = "schedule:send"
SEND_CONFIRMED = "schedule:send:yes"
DAYS_PER_ROW = 4


# --- plain values out of the update ------------------------------------------------------------


def today(context: Context) -> dt.date:
    return daily.local_now(context.bot_data.settings.zone).date()


def parse_day(context: Context, value: str) -> int | None:
    """A campaign day number from callback data, or None if it is not one (X4)."""
    if not (value.isascii() and value.isdigit()):
        return None
    day = int(value)
    return day if 1 <= day <= context.bot_data.campaign.total_days else None


def parse_preview(context: Context, data: str) -> tuple[int, str] | None:
    """(day, language) from `schedule:preview:<day>:<language>`, or None if tampered with."""
    day_value, _, chosen = data.removeprefix(PREVIEW_PREFIX).partition(":")
    day = parse_day(context, day_value)
    return (day, chosen) if day is not None and chosen in LANGUAGES else None


# --- keyboards ---------------------------------------------------------------------------------


def back_button(lang: str) -> InlineKeyboardButton:
    return keyboards.button(lang, "daily.schedule.button_back", SHOW)


def overview_keyboard(lang: str, paused: bool, campaign_day: bool) -> InlineKeyboardMarkup:
    buttons = [
        keyboards.button(lang, "daily.schedule.button_preview", DAYS),
        keyboards.button(lang, "daily.schedule.button_resume", RESUME)
        if paused
        else keyboards.button(lang, "daily.schedule.button_pause", PAUSE),
    ]
    if campaign_day:
        buttons.append(keyboards.button(lang, "daily.schedule.button_send", SEND))
    return InlineKeyboardMarkup(keyboards.rows(*buttons))


def days_keyboard(lang: str, total_days: int) -> InlineKeyboardMarkup:
    days = [
        InlineKeyboardButton(
            text(lang, "daily.schedule.day_button", day=day), callback_data=f"{DAY_PREFIX}{day}"
        )
        for day in range(1, total_days + 1)
    ]
    return InlineKeyboardMarkup([*keyboards.rows(*days, width=DAYS_PER_ROW), [back_button(lang)]])


def languages_keyboard(lang: str, day: int) -> InlineKeyboardMarkup:
    choices = [
        InlineKeyboardButton(
            catalog(code)["core.language.name"], callback_data=f"{PREVIEW_PREFIX}{day}:{code}"
        )
        for code in LANGUAGES
    ]
    back = keyboards.button(lang, "daily.schedule.button_preview", DAYS)
    return InlineKeyboardMarkup([choices, [back]])


def confirm_keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                keyboards.button(lang, "daily.schedule.send_yes", SEND_CONFIRMED),
                keyboards.button(lang, "daily.schedule.send_no", SHOW),
            ]
        ]
    )


def prompt_markup(button: LinkButton) -> InlineKeyboardMarkup:
    """The prompt's link button, laid out as the delivery engine sends it."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(button.label, url=button.url)]])


# --- callbacks ---------------------------------------------------------------------------------


def overview(context: Context, lang: str) -> tuple[Html, InlineKeyboardMarkup]:
    data = context.bot_data
    day = today(context)
    paused = daily.is_paused(data.storage)
    status = daily.day_status(data.storage, day)
    body = words.render_schedule(lang, data.campaign, data.settings, day, status, paused)
    return body, overview_keyboard(lang, paused, data.campaign.day_number(day) is not None)


async def show_schedule(update: Update, context: Context) -> None:
    """/schedule: the coming prompts, today's progress, and what organisers can do."""
    await show(update, context, *overview(context, language(update, context)))


async def choose_day(update: Update, context: Context) -> None:
    """Preview: pick a day."""
    lang = language(update, context)
    total = context.bot_data.campaign.total_days
    await show(update, context, text(lang, "daily.schedule.choose_day"), days_keyboard(lang, total))


async def choose_preview_language(update: Update, context: Context) -> None:
    """Preview: pick the language for the chosen day."""
    day = parse_day(context, update.callback_query.data.removeprefix(DAY_PREFIX))
    if day is None:
        await stale_schedule_button(update, context)
        return
    lang = language(update, context)
    campaign = context.bot_data.campaign
    body = text(
        lang,
        "daily.schedule.choose_language",
        day=day,
        date=date_label(lang, campaign.date_of_day(day)),
        journey=words.render_journey(lang, campaign, day),
    )
    await show(update, context, body, languages_keyboard(lang, day))


async def preview_prompt(update: Update, context: Context) -> None:
    """Preview: the day's prompt in a language, exactly as subscribers get it."""
    parsed = parse_preview(context, update.callback_query.data)
    if parsed is None:
        await stale_schedule_button(update, context)
        return
    day, chosen = parsed
    campaign = context.bot_data.campaign
    await update.callback_query.answer()
    button = words.prompt_button(campaign, context.bot.username, day, chosen)
    await reply(update, context, words.prompt_text(campaign, day, chosen), prompt_markup(button))


async def pause_schedule(update: Update, context: Context) -> None:
    """Pause: no prompt is prepared until organisers resume."""
    daily.set_paused(context.bot_data.storage, True)
    await show_schedule(update, context)


async def resume_schedule(update: Update, context: Context) -> None:
    """Resume the schedule (a prompt already missed today is sent by "send today's now")."""
    daily.set_paused(context.bot_data.storage, False)
    await show_schedule(update, context)


async def confirm_send(update: Update, context: Context) -> None:
    """Send today's now: ask first."""
    lang = language(update, context)
    day = context.bot_data.campaign.day_number(today(context))
    if day is None:
        await show(
            update,
            context,
            text(lang, "daily.schedule.no_prompt_today"),
            InlineKeyboardMarkup([[back_button(lang)]]),
        )
        return
    body = text(lang, "daily.schedule.send_confirm", day=day)
    await show(update, context, body, confirm_keyboard(lang))


async def send_confirmed(update: Update, context: Context) -> None:
    """Send today's now, confirmed: queue it, unless it has already gone out."""
    lang = language(update, context)
    day = today(context)
    status = daily.day_status(context.bot_data.storage, day)
    if context.bot_data.campaign.day_number(day) is None:
        key = "daily.schedule.no_prompt_today"
    elif status is not None and status.broadcast_status == "done":
        key = "daily.schedule.already_sent"
    else:
        scheduler.daily.send_now(context.application)
        key = "daily.schedule.sending"
    await show(update, context, text(lang, key), InlineKeyboardMarkup([[back_button(lang)]]))


async def stale_schedule_button(update: Update, context: Context) -> None:
    """A schedule button with data we don't recognise (old, or tampered with): say so kindly and
    show the schedule again."""
    lang = language(update, context)
    await update.callback_query.answer(text(lang, "daily.schedule.stale"))
    await reply(update, context, *overview(context, lang))


COMMANDS = {"schedule": show_schedule}
BUTTONS = [
    (f"^{SHOW}$", show_schedule),
    (f"^{DAYS}$", choose_day),
    (f"^{DAY_PREFIX}", choose_preview_language),
    (f"^{PREVIEW_PREFIX}", preview_prompt),
    (f"^{PAUSE}$", pause_schedule),
    (f"^{RESUME}$", resume_schedule),
    (f"^{SEND}$", confirm_send),
    (f"^{SEND_CONFIRMED}$", send_confirmed),
    (f"^{PREFIX}", stale_schedule_button),
]


def register(app: Application) -> None:
    app.add_handlers(
        routes(
            {name: organiser_only(callback) for name, callback in COMMANDS.items()},
            [(pattern, organiser_only(callback)) for pattern, callback in BUTTONS],
        )
    )
