"""The one error handler: log with the traceback first, then answer the person kindly, once."""

from __future__ import annotations

import logging
import sqlite3

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError, TimedOut
from telegram.ext import ApplicationHandlerStop

from bot.app.context import Context
from handlers.common import language, send_and_note
from messages import text
from messages.i18n import DEFAULT_LANGUAGE

logger = logging.getLogger(__name__)


class Unfinished(Exception):
    """A step that could not be completed and that the person must be told about in its own
    words (`key`, a catalog key), rather than with the general apology."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def on_error(update: object, context: Context) -> None:
    """Never let a traceback reach a person; never log what they typed (only the update id).

    The person hears one honest sentence about the first failure in their update, in a private
    chat only, and nothing more runs for that update: a second failure (the same full disk,
    say) would otherwise bring a second apology. Not when the bot is stopping and Telegram
    did not answer in time: the apology would only wait as long again, holding the stop (D11).
    """
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    telegram_hangs = context.bot_data.stopping and isinstance(context.error, TimedOut)
    if chat is not None and chat.type == ChatType.PRIVATE and not telegram_hangs:
        await tell(update, context, apology_for(context.error))
    raise ApplicationHandlerStop


def apology_for(error: BaseException | None) -> str:
    """What to tell the person: nothing they did is lost, unless storage failed, when what they
    asked for did not happen."""
    if isinstance(error, Unfinished):
        return error.key
    if isinstance(error, sqlite3.Error):
        return "core.errors.storage"
    return "core.errors.generic"


async def tell(update: Update, context: Context, key: str) -> None:
    try:
        lang = language(update, context)
    except Exception:  # the storage itself may be what failed
        lang = DEFAULT_LANGUAGE
    try:
        await send_and_note(update, context, text(lang, key))
    except TelegramError:
        logger.warning("Could not tell the person about the error in update %s", update.update_id)
