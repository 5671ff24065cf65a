"""Small helpers every journey uses: who is talking, in which language, and how to answer."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.context import Context
from messages.i18n import DEFAULT_LANGUAGE, language_for


def user_id(update: Update) -> int:
    user = update.effective_user
    if user is None:  # handlers are only registered for updates that come from a person
        raise ValueError("update without a user")
    return user.id


def language(update: Update, context: Context) -> str:
    """The supporter's chosen language, or a guess from Telegram's settings before they chose."""
    user = update.effective_user
    if user is None:
        return DEFAULT_LANGUAGE
    supporter = context.bot_data.storage.get_supporter(user.id)
    return supporter["language"] if supporter else language_for(user.language_code)


async def reply(
    update: Update, context: Context, html: str, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Send a new message to the chat the update came from, remembering it for /forget."""
    chat = update.effective_chat
    if chat is None:
        raise ValueError("update without a chat")
    message = await context.bot.send_message(chat.id, html, reply_markup=markup)
    context.bot_data.storage.record_chat_message(chat.id, message.message_id)
    return message


async def show(
    update: Update, context: Context, html: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer a button press by replacing the message it was on, or a text by a new message."""
    query = update.callback_query
    if query is None or query.message is None:
        await reply(update, context, html, markup)
        return
    await query.answer()
    try:
        await query.edit_message_text(html, reply_markup=markup)
    except BadRequest:
        # Too old to edit, or a photo, or nothing changed: a fresh message is always possible.
        await reply(update, context, html, markup)
