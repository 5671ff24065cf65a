"""Gates every update passes before any journey sees it: fairness, then bookkeeping."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.app.context import Context
from handlers.common import language
from handlers.onboarding import start_payload
from messages import text
from messages.i18n import language_for


async def limit_flood(update: Update, context: Context) -> None:
    """Drop updates past a user's allowance, warning them once per burst."""
    user = update.effective_user
    if user is None:
        return
    refused = context.bot_data.flood_gate.admit(user.id)
    if refused is None:
        return
    if not refused.warned and update.effective_chat:
        refused.warned = True
        await context.bot.send_message(
            update.effective_chat.id, text(language(update, context), "core.errors.slow_down")
        )
    raise ApplicationHandlerStop


async def know_supporter(update: Update, context: Context) -> None:
    """Make sure the person has a supporter row, and note their messages for /forget."""
    user = update.effective_user
    if user is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    storage = context.bot_data.storage
    supporter = storage.get_supporter(user.id)
    if supporter is None:
        supporter, _ = storage.ensure_supporter(
            user.id, language_for(user.language_code), start_payload(update)
        )
    elif supporter["blocked_at"]:
        storage.unblock(user.id)
    context.language = supporter["language"]
    context.message_ids = (
        [(update.message.chat_id, update.message.message_id)] if update.message else []
    )


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, limit_flood), group=-3)
    app.add_handler(TypeHandler(Update, know_supporter), group=-2)
