"""Help and the supporter's control over their data: /help, /privacy, /mydata, /stop, /forget."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot import consent, mps
from bot.app.context import Context
from bot.storage import stamp, utcnow
from handlers.common import answer, language, reply, routes, show, user_id
from handlers.errors import Unfinished
from handlers.onboarding import ASK_AGAIN
from messages import core, keyboards, mydata, text
from scheduler.housekeeping import scrub_files

logger = logging.getLogger(__name__)

# Telegram lets a bot delete messages in a private chat for 48 hours; keep a margin.
DELETABLE_FOR = dt.timedelta(hours=47, minutes=50)
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids


async def help_command(update: Update, context: Context) -> None:
    """/help: what the bot does, and where to get help now."""
    lang = language(update, context)
    await show(
        update,
        context,
        core.help_text(lang, context.bot_data.campaign),
        keyboards.back_to_menu(lang),
    )


async def privacy_command(update: Update, context: Context) -> None:
    """/privacy (the menu's My data): what is kept, why and for how long, with the buttons to
    see it all and to erase it."""
    lang = language(update, context)
    settings = context.bot_data.settings
    body = core.privacy(
        lang, context.bot_data.campaign, settings.data_retention_days, settings.broadcasts_per_day
    )
    await show(update, context, body, keyboards.my_data(lang))


async def mydata_command(update: Update, context: Context) -> None:
    """/mydata: everything kept about this supporter, as a page in their language."""
    lang = language(update, context)
    data = context.bot_data.storage.personal_data(user_id(update))
    mps.stage_followups(data, context.bot_data.rules)
    body = mydata.page(lang, data, context.bot_data.settings.zone)
    markup = keyboards.erase_or_back(lang) if data else keyboards.back_to_menu(lang)
    await show(update, context, body, markup)


async def stop_command(update: Update, context: Context) -> None:
    """/stop: no more prompts, updates or reminders, confirmed only once the write has happened."""
    lang = language(update, context)
    storage = context.bot_data.storage
    wording = context.bot_data.campaign.consent_wording_version
    was_on = consent.stop_everything(storage, user_id(update), wording)
    if storage.has_consent_decision(user_id(update)):  # someone who started: /start asks again
        context.user_data[ASK_AGAIN] = True
    await reply(
        update,
        context,
        text(lang, "core.privacy.stopped" if was_on else "core.privacy.stop_nothing"),
    )


async def forget_command(update: Update, context: Context) -> None:
    """/forget: ask before erasing, because it cannot be undone; someone about whom nothing is
    kept (who never started, or already erased it all) is told so instead. An organiser without
    a row has at least this very message noted, to delete."""
    lang = language(update, context)
    noted = context.application.persistence.noted_messages(update.effective_chat.id)
    if not (context.started or noted or context.bot_data.storage.personal_data(user_id(update))):
        await reply(update, context, text(lang, "core.privacy.forget_nothing"))
        return
    await show(
        update, context, text(lang, "core.privacy.forget_confirm"), keyboards.forget_confirm(lang)
    )


async def forget_cancelled(update: Update, context: Context) -> None:
    """The supporter chose to keep their data."""
    lang = language(update, context)
    await show(
        update, context, text(lang, "core.privacy.forget_cancelled"), keyboards.back_to_menu(lang)
    )


async def forget_confirmed(update: Update, context: Context) -> None:
    """Erase the supporter, delete what Telegram still allows, and say honestly what remains.

    The data goes first: if it cannot (a full disk), the person is told it is not done and the
    chat is left as it was, so their next /forget still finds every message to delete.
    """
    await answer(update, context)
    lang = language(update, context)
    chat_id = update.effective_chat.id
    storage = context.bot_data.storage
    cutoff = utcnow() - DELETABLE_FOR
    supporter = storage.get_supporter(user_id(update))
    has_old_messages = bool(supporter and supporter["created_at"] < stamp(cutoff))
    recent = storage.chat_messages_since(chat_id, cutoff)
    recent += context.application.persistence.noted_messages(chat_id)
    recent.append(update.callback_query.message.message_id)
    try:
        storage.forget(user_id(update))
    except sqlite3.Error as error:
        raise Unfinished("core.privacy.forget_unfinished") from error
    context.started = context.noting = False  # nothing of this update is kept either
    context.user_data.clear()
    context.application.drop_user_data(user_id(update))
    await scrub_files(context.application)
    deleted = await delete_messages(context, chat_id, sorted(set(recent)))
    # This last message is not recorded: nothing about the supporter is written again.
    lines = [text(lang, "core.privacy.forget_done", count=deleted)]
    lines.append(
        text(lang, "core.privacy.forget_undeletable")
        if has_old_messages
        else text(lang, "core.privacy.forget_clear_tip")
    )
    await context.bot.send_message(chat_id, "\n\n".join(lines))


async def delete_messages(context: Context, chat_id: int, message_ids: list[int]) -> int:
    """Delete what we can; return how many went. Failures are expected for old messages."""
    deleted = 0
    for start in range(0, len(message_ids), DELETE_BATCH):
        batch = message_ids[start : start + DELETE_BATCH]
        try:
            await context.bot.delete_messages(chat_id, batch)
        except TelegramError as error:
            logger.info("Could not delete %d messages in a /forget: %s", len(batch), error)
            continue
        deleted += len(batch)
    return deleted


COMMANDS = {
    "help": help_command,
    "privacy": privacy_command,
    "mydata": mydata_command,
    "stop": stop_command,
    "forget": forget_command,
}
BUTTONS = [
    (f"^{keyboards.MENU_HELP}$", help_command),
    (f"^{keyboards.MENU_PRIVACY}$", privacy_command),
    (f"^{keyboards.MENU_MYDATA}$", mydata_command),
    (f"^{keyboards.FORGET_ASK}$", forget_command),
    (f"^{keyboards.FORGET_YES}$", forget_confirmed),
    (f"^{keyboards.FORGET_NO}$", forget_cancelled),
]


def register(app: Application) -> None:
    app.add_handlers(routes(COMMANDS, BUTTONS))
    # An organiser may keep data without a supporter row (their language, their drafts): they
    # see it and erase it with these buttons too.
    app.bot_data.organiser_buttons.update(
        {keyboards.MENU_MYDATA, keyboards.FORGET_ASK, keyboards.FORGET_YES, keyboards.FORGET_NO}
    )
