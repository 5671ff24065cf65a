"""Small helpers every journey uses: who is talking, in which language, and how to answer."""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import unicodedata
import warnings
from collections.abc import Awaitable, Callable, Mapping

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.app.context import SCREEN, Context
from bot.delivery import NO_LINK_PREVIEW, call_telegram
from bot.mps import looks_like_postcode
from messages import keyboards
from messages.i18n import DEFAULT_LANGUAGE, language_for, text
from messages.split import split_html

logger = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Awaitable[object]]
EDITED = filters.UpdateType.EDITED_MESSAGE
# A step's answer comes as a new message (an edited one is asked again: `journey`).
NEW_TEXT = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
NEW_OTHER = filters.UpdateType.MESSAGE & ~filters.TEXT


class _Postcode(filters.MessageFilter):
    """Text that is a whole UK postcode, or with `half` also its first half alone
    (`bot.mps.looks_like_postcode`)."""

    def __init__(self, half: bool = False) -> None:
        super().__init__(name="POSTCODE_OR_HALF" if half else "POSTCODE_TEXT")
        self.half = half

    def filter(self, message: Message) -> bool:
        return bool(message.text) and looks_like_postcode(message.text, self.half)


POSTCODE_TEXT = _Postcode()
# Where only a postcode makes sense (the MP journey's first screen): half is asked for in full.
POSTCODE_OR_HALF = _Postcode(half=True)


class Showing(filters.MessageFilter):
    """Messages from a person to whom the bot last showed `screen`, or a screen whose name
    starts with it (`lobby_invitation:` matches every lobby day's; see `SCREEN`). `user_data`
    is the application's, by user id."""

    def __init__(self, user_data: Mapping[int, dict], screen: str) -> None:
        super().__init__(name=f"Showing({screen!r})")
        self.user_data = user_data
        self.screen = screen

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and shown(self.user_data.get(user.id)).startswith(self.screen)


def shown(user_data: dict | None) -> str:
    """The screen noted as the one a person sees now ("" for none)."""
    return (user_data or {}).get(SCREEN, "")


def showing(update: Update, context: Context, screen: str) -> None:
    """Note that `screen` is what the person now sees, until the bot shows them anything else."""
    context.user_data[SCREEN] = screen


def leave_screen(update: Update, context: Context) -> None:
    """Whatever the bot shows a person replaces the screen noted for them."""
    if context.user_data is not None:
        context.user_data.pop(SCREEN, None)


def user_id(update: Update) -> int:
    user = update.effective_user
    if user is None:  # handlers are only registered for updates that come from a person
        raise ValueError("update without a user")
    return user.id


def language(update: Update, context: Context) -> str:
    """The supporter's chosen language, or a guess from Telegram's settings before they chose.

    Read once per update: every message an update sends asks for it.
    """
    if context.language:
        return context.language
    user = update.effective_user
    if user is None:
        return DEFAULT_LANGUAGE
    chosen = context.bot_data.storage.chosen_language(user.id)
    context.language = chosen or language_for(user.language_code)
    return context.language


async def reply(
    update: Update, context: Context, html: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send `html` to the chat the update came from, remembering it for /forget.

    A text longer than Telegram allows goes as several messages (`messages.split.split_html`),
    the keyboard under the last.
    """
    chat = update.effective_chat
    if chat is None:
        raise ValueError("update without a chat")
    leave_screen(update, context)
    *leading, last = split_html(html) or [html]
    for piece in leading:
        await send_html(context, chat.id, piece)
    await send_html(context, chat.id, last, markup)


async def send_html(
    context: Context, chat_id: int, html: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send `html` (Telegram HTML, within Telegram's length) to `chat_id`, and remember it for
    /forget. Through `bot.delivery.call_telegram`: only the new message's id is read."""
    sent = await call_telegram(context.bot, "sendMessage", as_html(html, markup, chat_id=chat_id))
    remember(context, chat_id, sent["message_id"])


async def send_and_note(update: Update, context: Context, html: str) -> None:
    """Send `html` to the update's chat from where `handlers.persist_now` will not run after it
    (the error handler, with a context of its own; a gate that stops the update), noting it at
    once for /forget if the person is a supporter or an organiser (not someone else who never
    started, nor a supporter just forgotten), as `handlers.gate` notes. The same commit writes
    what the update noted before it failed (`remember`); a database that refuses keeps the
    notes for its next commit (`SQLitePersistence.commit`).
    Telegram's refusals raise as from `call_telegram`."""
    chat_id = update.effective_chat.id
    sent = await call_telegram(context.bot, "sendMessage", as_html(html, None, chat_id=chat_id))
    user = update.effective_user
    if user is None:
        return
    try:
        noting = context.bot_data.settings.is_organiser(user.id) or bool(
            context.bot_data.storage.get_supporter(user.id)
        )
    except sqlite3.Error:
        return  # the storage is what failed: nothing can be noted now
    if noting:
        context.application.persistence.note_messages([(chat_id, sent["message_id"])])
        await context.application.persistence.commit()


def as_html(html: str, markup: InlineKeyboardMarkup | None, **target: object) -> dict:
    """The parameters of a text message in Telegram HTML without link previews, as the
    application's Defaults would give a typed method (`bot.app.build.DEFAULTS`)."""
    return target | {
        "text": html,
        "parse_mode": ParseMode.HTML,
        "link_preview_options": NO_LINK_PREVIEW,
        "reply_markup": markup,
    }


def remember(context: Context, chat_id: int, message_id: int) -> None:
    """Note a message in the chat so /forget can delete it. During a supporter's update it is
    handed to the persistence at once and written by the update's commit
    (`handlers.persist_now`), saving a write per message; if a later step fails, the apology's
    commit writes it (`send_and_note`), so it is never lost with the update."""
    if context.noting is None:  # a job: no update's commit to join
        context.bot_data.storage.record_chat_messages([(chat_id, message_id)])
    elif context.noting:
        context.application.persistence.note_messages([(chat_id, message_id)])


async def looking_up(update: Update, context: Context) -> None:
    """Show the person at once that the bot is on it (Telegram's "typing…") while an outside
    service answers. Failing to show it never stops the lookup."""
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    except TelegramError as error:
        logger.info("Could not show typing in update %s: %s", update.update_id, error)


async def answer(
    update: Update, context: Context, notice: str | None = None, alert: bool = False
) -> None:
    """Stop the spinner of the button pressed, with `notice` as a toast (or an `alert` to
    dismiss); once per press, however many steps of the update ask.

    Every button is answered through here. Telegram takes one answer per press, within about
    15 seconds; a press handled after a restart or a slow moment cannot be answered any more,
    and that must never stop what the press asked for, so no Telegram error leaves this.
    """
    query = update.callback_query
    if query is None or context.answered:
        return
    context.answered = True
    try:
        await query.answer(notice, show_alert=alert)
    except TelegramError as error:
        logger.info("Could not answer the button press in update %s: %s", update.update_id, error)


async def show(
    update: Update, context: Context, html: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer a button press by replacing the message it was on, or a text by a new message.

    A press replaces its message once: whatever else the same update shows comes as new
    messages, so a confirmation is never overwritten by the screen that follows it.
    """
    query = update.callback_query
    await answer(update, context)
    leave_screen(update, context)
    if (
        query is None
        or query.message is None
        or context.edited_message
        or len(split_html(html)) > 1  # too long to replace one message
    ):
        await reply(update, context, html, markup)
        return
    context.edited_message = True
    on = query.message
    shown = as_html(html, markup, chat_id=on.chat.id, message_id=on.message_id)
    try:
        await call_telegram(context.bot, "editMessageText", shown)
    except BadRequest:
        # Too old to edit, or a photo, or nothing changed: a fresh message is always possible.
        await reply(update, context, html, markup)


def organiser_only(callback: Handler) -> Handler:
    """Wrap an organiser command or button: anyone else gets a polite refusal and nothing more.

    The check is the numeric user id against ORGANISER_IDS, at the moment of the update, for
    commands and callback data alike (crafted callback data gets no further than this).
    """

    @functools.wraps(callback)
    async def guarded(update: Update, context: Context) -> object:
        user = update.effective_user
        if user is None or not context.bot_data.settings.is_organiser(user.id):
            refusal = text(language(update, context), "core.errors.not_allowed")
            if update.callback_query:
                await answer(update, context, refusal, alert=True)
            elif update.effective_chat:
                await reply(update, context, refusal)
            return ConversationHandler.END
        return await callback(update, context)

    return guarded


def label_words(label: str) -> str:
    """A button's label as someone would type it: its words, without emoji, punctuation or
    accents, in any case ("⬅️ Menú" -> "menu")."""
    letters = unicodedata.normalize("NFKD", label)
    plain = "".join(char for char in letters if not unicodedata.combining(char))
    return " ".join(re.findall(r"\w+", plain)).casefold()


def or_typed(step: Handler, buttons: Mapping[str, Handler]) -> Handler:
    """A text step under buttons whose label a person may type instead of tapping: `buttons`
    maps the catalog key of a label to what its button does. A message that is one of those
    labels in the person's language (any case, without its emoji) does what the button does,
    rather than being taken as a name, a sentence or a postcode; any other goes to `step`."""

    @functools.wraps(step)
    async def read(update: Update, context: Context) -> object:
        typed = label_words(update.effective_message.text or "")  # a photo has no text
        lang = language(update, context)
        for key, pressed in buttons.items():
            if typed == label_words(text(lang, key)):
                return await pressed(update, context)
        return await step(update, context)

    return read


async def postcode_hint(update: Update, context: Context) -> None:
    """A postcode where the bot cannot use one (outside the MP and lobby journeys' postcode
    steps, or as a name, a story or a message): not taken, not kept; the button that uses it."""
    lang = language(update, context)
    hint = text(lang, "core.errors.postcode_hint")
    await reply(update, context, hint, keyboards.write_to_mp(lang))


async def ask_to_resend(update: Update, context: Context) -> None:
    """An edited message where a journey waits for a new one."""
    await reply(update, context, text(language(update, context), "core.errors.edited"))


class ButtonHandler(CallbackQueryHandler):
    """python-telegram-bot's CallbackQueryHandler for our buttons, whose data is always text.

    A tap is checked against about 25 of these before one takes it. python-telegram-bot's own
    check hands the compiled pattern to `re.match`, which looks it up in re's cache every
    time, and first weighs games and callable patterns this bot never uses: this one matches
    the compiled pattern itself, with the same result in about half the time."""

    def check_update(self, update: object) -> bool | re.Match | None:
        query = update.callback_query if isinstance(update, Update) else None
        if query is None:
            return None
        if self.pattern is None:
            return True
        return self.pattern.match(query.data or "") or False


Routes = list[tuple[str | None, Handler]]


def routes(commands: dict[str, Handler], buttons: Routes) -> list[BaseHandler]:
    """Handlers for a module's commands and its (pattern, callback) button routes."""
    return [CommandHandler(name, callback) for name, callback in commands.items()] + [
        ButtonHandler(callback, pattern=pattern) for pattern, callback in buttons
    ]


def ending(callback: Handler) -> Handler:
    """The same callback, ending the conversation it interrupts."""

    @functools.wraps(callback)
    async def then_end(update: Update, context: Context) -> int:
        await callback(update, context)
        return ConversationHandler.END

    return then_end


class Journey(ConversationHandler):
    """python-telegram-bot's ConversationHandler, with its most common answer found sooner.

    Every update is checked against every journey in turn, and most belong to none: the
    person has no such journey open and the update starts none. python-telegram-bot weighs
    each in full all the same, 5-14 µs a journey (a tap meets five of them). This check first
    asks those two questions, for journeys keyed by chat and person as `journey` builds them,
    and when both answers are no, it says "not this journey's", as python-telegram-bot would,
    in a fraction of the time; otherwise python-telegram-bot's own check decides. It reads
    python-telegram-bot's own record of open conversations (`_conversations`), as the lock
    file pins it; `tests/handlers/test_common.py` checks both checks agree on every kind of
    update."""

    def check_update(self, update: object) -> object | None:
        chat = update.effective_chat if isinstance(update, Update) else None
        person = update.effective_user if chat is not None else None
        if (
            person is not None
            and (chat.id, person.id) not in self._conversations
            and not any(taken(entry, update) for entry in self.entry_points)
        ):
            return None
        return super().check_update(update)


def taken(handler: BaseHandler, update: object) -> bool:
    """Whether `handler` takes `update`, by python-telegram-bot's rule for check results."""
    check = handler.check_update(update)
    return check is not None and check is not False


def journey(
    name: str,
    *,
    entry_points: list[BaseHandler],
    states: dict[object, list[BaseHandler]],
    fallbacks: list[BaseHandler],
) -> Journey:
    """A multi-step journey whose state survives restarts and that can always be restarted.

    At any step, an edited message (a typo fixed in a postcode already sent) is not taken as an
    answer, as it may be an old message rather than the one the step asks for: the person is
    asked to send it again as a new one.

    PTB warns that such a conversation tracks buttons per chat rather than per message; that is
    what we want, as journeys mix typed text and taps, so the warning is silenced here once.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return Journey(
            entry_points=entry_points,
            states=states,
            fallbacks=[*fallbacks, MessageHandler(EDITED, ask_to_resend)],
            name=name,
            persistent=True,
            allow_reentry=True,
        )
