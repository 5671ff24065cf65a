"""Gates every update passes before any journey sees it: once only, private chats only,
fairness, then bookkeeping; and the one update about the bot itself, being blocked or unblocked."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, ChatMemberHandler, TypeHandler

from bot.app.context import Context
from handlers.common import answer, language, send_and_note
from handlers.onboarding import start_payload
from messages import text
from messages.i18n import language_for

logger = logging.getLogger(__name__)

# Bookkeeping is for what a person sends or taps, not for news about the bot's membership.
PERSON_UPDATES = ("message", "edited_message", "callback_query")


async def once(update: Update, context: Context) -> None:
    """An update handled to the end before, given again by Telegram after a restart (the
    process died before its confirmation reached Telegram), is not handled twice: a name
    typed at one step would be taken again as the answer to the next."""
    if context.application.persistence.was_handled(update.update_id):
        logger.info("Update %s was delivered again; it is handled once", update.update_id)
        raise ApplicationHandlerStop


async def private_only(update: Update, context: Context) -> None:
    """Everything the bot does is personal, so it happens in a private chat (X8).

    Elsewhere (a group, a supergroup, a channel, a forum topic) nothing goes further: a command
    gets at most one "message me privately" with a link per chat ever, restarts included (the
    chat's id is kept, nothing about who asked), a button press a notice only the presser sees,
    and anything else silence. No row about a person is written.
    """
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        return
    user = update.effective_user
    lang = language_for(user.language_code if user else None)
    if update.callback_query:
        await answer(update, context, text(lang, "core.errors.private_only_button"), alert=True)
    elif (
        chat is not None
        and is_command(update)
        and context.bot_data.storage.claim_shared_chat_notice(chat.id)
    ):
        link = f"https://t.me/{context.bot.username}?start=menu"
        await context.bot.send_message(chat.id, text(lang, "core.errors.private_only", link=link))
    raise ApplicationHandlerStop


def is_command(update: Update) -> bool:
    message = update.message
    return bool(message and message.text and message.text.startswith("/"))


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
        warning = text(language(update, context), "core.errors.slow_down")
        await send_and_note(update, context, warning)
    raise ApplicationHandlerStop


def command_of(update: Update) -> str | None:
    """The command a message starts with (`/start`, `/help`...), without any @botname."""
    message = update.message
    words = (message.text or "").split() if message else []
    if not words or not words[0].startswith("/"):
        return None
    return words[0].split("@", 1)[0].lower()


async def know_supporter(update: Update, context: Context) -> None:
    """Know who is talking, and note their messages for /forget.

    A person gets a row only when they start (/start, which a deep link sends too), never from
    any other update. Until then, and after /forget, commands still answer (none of them keeps
    anything about a person without a row; organisers' check their ids), but a button or a
    message (a stale button, "I've sent it" after /forget) records nothing and is kindly asked
    to /start first. Organisers' own buttons and typed text (their composers) work whether or
    not they started as supporters, in the language they chose; a supporter's button does
    not, for them as for anyone."""
    user = update.effective_user
    if user is None or not any(getattr(update, kind) for kind in PERSON_UPDATES):
        return
    storage = context.bot_data.storage
    supporter = storage.standing(user.id)
    command = command_of(update)
    # Only an organiser may have chosen a language without a row (`onboarding.switch_language`).
    chosen = (
        storage.chosen_language(user.id)
        if supporter is None and context.bot_data.settings.is_organiser(user.id)
        else None
    )
    if supporter is None and command == "/start":
        storage.ensure_supporter(
            user.id, chosen or language_for(user.language_code), start_payload(update)
        )
        supporter = storage.standing(user.id)
        if chosen:
            storage.set_organiser_language(user.id, None)  # their row holds it now
    if supporter is None:
        context.language = chosen or language_for(user.language_code)
        context.started = False
        # Kept for /forget only for an organiser (their commands, composers and drafts answer
        # without a row); anyone else's are shown, but not kept: nobody to keep them for.
        context.noting = context.bot_data.settings.is_organiser(user.id)
        if context.noting:
            note_theirs(update, context)
        if command is not None or organisers_own(update, context):
            return
        await ask_to_start(update, context)
        raise ApplicationHandlerStop
    if supporter.blocked:
        storage.unblock(user.id)
    context.language = supporter.language
    context.started = context.noting = True
    note_theirs(update, context)


def note_theirs(update: Update, context: Context) -> None:
    """Note the person's own message for /forget, as the bot's are (`remember`)."""
    if update.message:
        context.application.persistence.note_messages(
            [(update.message.chat_id, update.message.message_id)]
        )


def organisers_own(update: Update, context: Context) -> bool:
    """Whether the update is an organiser's at work: their message, or a press of one of the
    organisers' buttons."""
    if not context.bot_data.settings.is_organiser(update.effective_user.id):
        return False
    query = update.callback_query
    if query is None:
        return True
    return (query.data or "").startswith(tuple(context.bot_data.organiser_buttons))


async def ask_to_start(update: Update, context: Context) -> None:
    """Someone the bot keeps nothing about pressed a button or wrote: say how to begin."""
    notice = text(context.language, "core.errors.not_started")
    if update.callback_query:
        await answer(update, context, notice, alert=True)
    elif update.effective_message:
        await context.bot.send_message(update.effective_chat.id, notice)


async def record_membership(update: Update, context: Context) -> None:
    """The supporter blocked the bot (it was "kicked" from their chat): no more prompts or
    broadcasts. Only an existing supporter is marked; nobody is created, so someone who used
    /forget and then blocked the bot stays forgotten. Unblocking needs nothing: their next
    message does it."""
    change: ChatMemberUpdated = update.my_chat_member
    if change.new_chat_member.status == ChatMember.BANNED:
        context.bot_data.storage.mark_blocked(change.from_user.id)


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, once), group=-5)
    app.add_handler(TypeHandler(Update, private_only), group=-4)
    app.add_handler(TypeHandler(Update, limit_flood), group=-3)
    app.add_handler(TypeHandler(Update, know_supporter), group=-2)
    app.add_handler(ChatMemberHandler(record_membership, ChatMemberHandler.MY_CHAT_MEMBER))
