"""The one error handler: log with the traceback first, then answer the person kindly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.app.context import Context
from handlers.common import language
from messages import text
from messages.i18n import DEFAULT_LANGUAGE

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Never let a traceback reach a person; never log what they typed (only the update id)."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        lang = language(update, context)
    except Exception:  # the storage itself may be what failed
        lang = DEFAULT_LANGUAGE
    try:
        await context.bot.send_message(update.effective_chat.id, text(lang, "core.errors.generic"))
    except TelegramError:
        logger.warning("Could not tell the person about the error in update %s", update_id)
