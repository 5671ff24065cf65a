"""/broadcast for organisers: compose a message (their Telegram formatting kept, optionally one
photo) with a version per language, choose who gets it, see exactly what recipients will get,
then send it now or schedule it. `/broadcast list` shows what is scheduled or sending, each with
a Cancel button.

The draft lives in user_data (so it survives a restart) until it is sent, scheduled or dropped.
Sending is `scheduler.broadcasts`' job: in the background, with progress and a final report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.app.context import Context
from bot.clock import local_now, parse_when
from bot.consent import BROADCAST_KIND
from bot.delivery import (
    OUTCOMES,
    PREPARING,
    RUNNING,
    Audience,
    create_broadcast,
    held_back,
    reach,
)
from bot.lobby import LobbyEvent, open_events
from bot.mps import match_constituencies
from handlers.common import (
    ButtonHandler,
    Handler,
    answer,
    journey,
    language,
    or_typed,
    organiser_only,
    remember,
    reply,
    routes,
    show,
    user_id,
)
from handlers.exits import asides, exits
from messages import Html, text
from messages import broadcast as screens
from messages.core import purge_date, too_long
from messages.i18n import DEFAULT_LANGUAGE, LANGUAGES
from messages.split import telegram_length
from scheduler import broadcasts

ASK_TEXT, VERSIONS, AUDIENCE, ASK_AREA, CONFIRM, ASK_TIME = (
    "text",
    "versions",
    "audience",
    "area",
    "confirm",
    "time",
)
DRAFT = "broadcast_draft"

BROADCAST_ID = re.compile(r"[0-9]{1,12}")
MAX_CONSTITUENCY_CHOICES = 8

TEXT_MESSAGE = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
PHOTO_MESSAGE = filters.UpdateType.MESSAGE & filters.PHOTO
OTHER_MESSAGE = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.PHOTO
ANY_MESSAGE = filters.UpdateType.MESSAGE & ~filters.COMMAND


# --- pure helpers ------------------------------------------------------------------------------


def new_draft() -> dict[str, Any]:
    """Texts by language (Telegram HTML), the photo's file id, which version is being asked for,
    and the chosen audience (`Audience.as_dict()`)."""
    return {"texts": {}, "photo": None, "asking": DEFAULT_LANGUAGE, "audience": {}}


def audience_from(
    data: str, known: dict[str, str], events: Mapping[int, LobbyEvent]
) -> Audience | None:
    """The audience an audience button's callback data names; None if it names none (X4)."""
    if data.startswith(screens.LOBBY_PREFIX):
        event_id, _, reach = data.removeprefix(screens.LOBBY_PREFIX).partition(":")
        if event_id.isdigit() and int(event_id) in events and reach in screens.LOBBY_REACHES:
            return Audience(lobby_event=int(event_id), lobby_reach=reach)
        return None
    choice = data.removeprefix(screens.AUDIENCE_PREFIX)
    kind, _, argument = choice.partition(":")
    if choice == "all":
        return Audience()
    if kind == "lang" and argument in LANGUAGES:
        return Audience(languages=(argument,))
    if kind == "gap" and argument in screens.GAPS:
        done, missing = screens.GAPS[argument]
        return Audience(done_action=done, missing_action=missing)
    if kind == "con" and argument in known:
        return Audience(constituency_code=argument)
    return None


# --- composing ---------------------------------------------------------------------------------


def draft_of(context: Context) -> dict[str, Any] | None:
    return context.user_data.get(DRAFT)


async def start_broadcast(update: Update, context: Context) -> str | int:
    """/broadcast: ask for the message. /broadcast list: what is scheduled or sending."""
    if context.args and context.args[0].lower() == "list":
        context.user_data.pop(DRAFT, None)
        await show_open(update, context)
        return ConversationHandler.END
    context.user_data[DRAFT] = new_draft()
    return await ask_text(update, context)


async def ask_text(update: Update, context: Context) -> str | None:
    """Ask for the version the draft is waiting for: the message itself, or a translation."""
    draft = draft_of(context)
    if draft is None:
        return await stale_step(update, context)
    lang = language(update, context)
    code = draft["asking"]
    if code == DEFAULT_LANGUAGE:
        await show(update, context, screens.ask_message(lang), screens.ask_message_keyboard(lang))
        return ASK_TEXT
    limit = MessageLimit.CAPTION_LENGTH if draft["photo"] else MessageLimit.MAX_TEXT_LENGTH
    await show(
        update, context, screens.ask_version(lang, code, limit), screens.ask_version_keyboard(lang)
    )
    return ASK_TEXT


async def receive_message(update: Update, context: Context) -> str:
    """A version of the message: text, or (first version only) a photo with a caption."""
    draft = draft_of(context)
    if draft is None:  # the draft was dropped (e.g. by /forget): begin again
        return await start_broadcast(update, context)
    lang = language(update, context)
    message = update.effective_message
    first = draft["asking"] == DEFAULT_LANGUAGE
    if message.photo and not first:
        await reply(update, context, screens.version_text_only(lang, draft["asking"]))
        return ASK_TEXT
    if message.photo and not message.caption:
        await reply(update, context, text(lang, "broadcast.caption_needed"))
        return ASK_TEXT
    words = (message.caption if message.photo else message.text) or ""
    limit = (
        MessageLimit.CAPTION_LENGTH
        if message.photo or draft["photo"]
        else MessageLimit.MAX_TEXT_LENGTH
    )
    # Counted as Telegram counts: an emoji can be two characters.
    length = telegram_length(words)
    if length > limit:
        await reply(update, context, too_long(lang, "broadcast.too_long", length, limit))
        return ASK_TEXT
    if first:
        # Telegram lists a photo's sizes smallest first: keep the largest.
        draft["photo"] = message.photo[-1].file_id if message.photo else None
    draft["texts"][draft["asking"]] = message.caption_html if message.photo else message.text_html
    return await show_versions(update, context)


async def refuse_other(update: Update, context: Context) -> str:
    """A sticker, video, file or voice message where the message was expected."""
    await reply(update, context, text(language(update, context), "broadcast.not_text_or_photo"))
    return ASK_TEXT


async def show_versions(update: Update, context: Context) -> str:
    """The versions written so far, and buttons to add another language or go on."""
    draft = draft_of(context)
    lang = language(update, context)
    await show(
        update,
        context,
        screens.versions(lang, draft["texts"]),
        screens.versions_keyboard(lang, draft["texts"]),
    )
    return VERSIONS


async def ask_version(update: Update, context: Context) -> str | None:
    """Ask for the version in the language the button names."""
    draft = draft_of(context)
    code = update.callback_query.data.removeprefix(screens.VERSION_PREFIX)
    if draft is None or not draft["texts"]:
        return await stale_step(update, context)
    if code not in LANGUAGES or code == DEFAULT_LANGUAGE:
        return await show_versions(update, context)
    draft["asking"] = code
    return await ask_text(update, context)


# --- audience ----------------------------------------------------------------------------------


async def ask_audience(update: Update, context: Context, note: Html | None = None) -> str | None:
    """Who should get it (after a note on what went wrong, if any)."""
    draft = draft_of(context)
    if draft is None or not draft["texts"]:
        return await stale_step(update, context)
    lang = language(update, context)
    events = open_events(context.bot_data.storage).values()
    await show(
        update,
        context,
        screens.audience_question(lang, note),
        screens.audience_keyboard(lang, events),
    )
    return AUDIENCE


async def choose_audience(update: Update, context: Context) -> str | None:
    """An audience button (or a constituency among several that matched)."""
    storage = context.bot_data.storage
    known = storage.supporter_constituencies()
    audience = audience_from(update.callback_query.data, known, open_events(storage))
    if audience is None:
        note = text(language(update, context), "broadcast.stale_button")
        return await ask_audience(update, context, note)
    return await settle_audience(update, context, audience)


async def ask_area(update: Update, context: Context) -> str:
    """Ask which constituency, by GSS code or name."""
    lang = language(update, context)
    await show(update, context, text(lang, "broadcast.ask_area"), screens.cancel_keyboard(lang))
    return ASK_AREA


async def receive_area(update: Update, context: Context) -> str | None:
    """A typed GSS code or constituency name: one match is the audience; several, a choice."""
    lang = language(update, context)
    typed = update.effective_message.text
    known = context.bot_data.storage.supporter_constituencies()
    found = match_constituencies(typed, known)
    echo = screens.echo(typed)
    if len(found) == 1:
        return await settle_audience(update, context, Audience(constituency_code=found[0][0]))
    if not found:
        await reply(update, context, text(lang, "broadcast.area_not_found", typed=echo))
    elif len(found) > MAX_CONSTITUENCY_CHOICES:
        await reply(
            update, context, text(lang, "broadcast.area_too_many", count=len(found), typed=echo)
        )
    else:
        await reply(
            update,
            context,
            text(lang, "broadcast.area_choose"),
            screens.constituency_keyboard(found),
        )
    return ASK_AREA


async def settle_audience(update: Update, context: Context, audience: Audience) -> str | None:
    """Count who the audience reaches now; if anyone, show the preview and ask to confirm."""
    draft = draft_of(context)
    if draft is None or not draft["texts"]:
        return await stale_step(update, context)
    storage = context.bot_data.storage
    lang = language(update, context)
    who = screens.describe(lang, audience, storage.supporter_constituencies(), open_events(storage))
    count = await storage.read(reach, audience, context.bot_data.rules)
    if not count:
        return await ask_audience(
            update, context, text(lang, "broadcast.audience_empty", audience=who)
        )
    draft["audience"] = audience.as_dict()
    await show(update, context, text(lang, "broadcast.audience_chosen", audience=who, count=count))
    if not await send_preview(update, context, draft):
        context.user_data[DRAFT] = new_draft()
        return ASK_TEXT
    return await ask_to_confirm(update, context)


async def ask_to_confirm(update: Update, context: Context) -> str | None:
    """Send now, schedule, or cancel: with whom the chosen audience reaches now, and how many
    of them the daily cap would hold back."""
    draft = draft_of(context)
    if draft is None or not draft["texts"]:
        return await stale_step(update, context)
    storage = context.bot_data.storage
    rules = context.bot_data.rules
    lang = language(update, context)
    audience = audience_of(draft)
    who = screens.describe(lang, audience, storage.supporter_constituencies(), open_events(storage))
    count = await storage.read(reach, audience, rules)
    held = await storage.read(held_back, audience, rules)
    await reply(
        update,
        context,
        screens.confirm(lang, count, who, draft["texts"], held, rules.daily_cap),
        screens.confirm_keyboard(lang),
    )
    return CONFIRM


async def send_preview(update: Update, context: Context, draft: dict[str, Any]) -> bool:
    """Each version exactly as recipients will get it, sent the way the delivery engine sends
    it. Telegram refusing it here means it would be refused for everyone: say so, False."""
    lang = language(update, context)
    chat_id = update.effective_chat.id
    for code in LANGUAGES:
        body = draft["texts"].get(code)
        if body is None:
            continue
        await reply(update, context, screens.preview_heading(lang, code))
        try:
            if draft["photo"]:
                sent = await context.bot.send_photo(chat_id, draft["photo"], caption=body)
            else:
                sent = await context.bot.send_message(chat_id, body)
        except BadRequest as error:
            await reply(
                update, context, text(lang, "broadcast.preview_failed", error=error.message)
            )
            return False
        remember(context, sent.chat_id, sent.message_id)
    return True


# --- confirming: now, later, or not at all -------------------------------------------------------


def audience_of(draft: dict[str, Any]) -> Audience:
    return Audience.from_dict(draft["audience"])


async def send_now(update: Update, context: Context) -> int | None:
    """Send now: store the broadcast and start it in the background; progress follows."""
    draft = context.user_data.pop(DRAFT, None)
    if draft is None or not draft["texts"]:
        return await stale_step(update, context)
    broadcast_id = create_broadcast(
        context.bot_data.storage,
        texts=draft["texts"],
        audience=audience_of(draft),
        photo_file_id=draft["photo"],
        created_by=user_id(update),
    )
    await show(
        update, context, text(language(update, context), "broadcast.sending", id=broadcast_id)
    )
    broadcasts.start(context.application, broadcast_id)
    return ConversationHandler.END


async def ask_time(update: Update, context: Context) -> str | None:
    """Schedule: ask when, in the bot's time zone."""
    if draft_of(context) is None:
        return await stale_step(update, context)
    lang = language(update, context)
    settings = context.bot_data.settings
    await show(
        update,
        context,
        screens.ask_time(lang, local_now(settings.zone), settings.tz),
        screens.cancel_keyboard(lang),
    )
    return ASK_TIME


async def receive_time(update: Update, context: Context) -> int | str | None:
    """A typed time: in the future, it schedules the broadcast; otherwise ask again."""
    lang = language(update, context)
    now = local_now(context.bot_data.settings.zone)
    when = parse_when(update.effective_message.text, now)
    if when is None:
        await reply(update, context, screens.time_unreadable(lang, now))
        return ASK_TIME
    if when <= now:
        await reply(update, context, screens.time_past(lang, when))
        return ASK_TIME
    draft = context.user_data.pop(DRAFT, None)
    if draft is None or not draft["texts"]:
        return await stale_step(update, context)
    storage = context.bot_data.storage
    audience = audience_of(draft)
    broadcast_id = create_broadcast(
        storage,
        texts=draft["texts"],
        audience=audience,
        photo_file_id=draft["photo"],
        created_by=user_id(update),
        scheduled_for=when,
    )
    broadcasts.add(context.application, broadcast_id, when)
    data = context.bot_data
    who = screens.describe(lang, audience, storage.supporter_constituencies(), open_events(storage))
    count = await storage.read(reach, audience, data.rules, BROADCAST_KIND, when)
    purge_on = purge_date(data.campaign, data.settings.data_retention_days)
    warning = screens.late_warning(lang, when, data.rules.ends_at, purge_on)
    body = screens.scheduled(lang, broadcast_id, when, data.settings.tz, who, count, warning)
    await reply(update, context, body, screens.stop_keyboard(lang, broadcast_id))
    return ConversationHandler.END


async def use_buttons(update: Update, context: Context) -> None:
    """Anything typed while the step waits for a button."""
    await reply(update, context, text(language(update, context), "broadcast.use_buttons"))


async def cancel_draft(update: Update, context: Context) -> int:
    """Cancel (button or /cancel): drop the draft; nothing is sent."""
    context.user_data.pop(DRAFT, None)
    await show(update, context, text(language(update, context), "broadcast.cancelled"))
    return ConversationHandler.END


async def stale_step(update: Update, context: Context) -> None:
    """A composing step whose draft has gone (sent, scheduled, dropped) or never was. Returns
    None, so a conversation under way stays at its step."""
    note = text(language(update, context), "broadcast.stale_step")
    if update.callback_query:
        await answer(update, context, note, alert=True)
    else:
        await reply(update, context, note)


# --- what is scheduled or sending ---------------------------------------------------------------


def open_view(
    context: Context, lang: str, note: Html | None = None
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Broadcasts being sent or waiting for their time, each with a Cancel button."""
    storage = context.bot_data.storage
    known = storage.supporter_constituencies()
    open_now = []
    for broadcast_id in storage.open_broadcasts(broadcasts.KIND):
        broadcast = storage.get_broadcast(broadcast_id)
        summary = storage.broadcast_summary(broadcast_id)
        open_now.append((broadcast, sum(summary.get(status, 0) for status in OUTCOMES)))
    zone = context.bot_data.settings.zone
    return screens.open_list(lang, open_now, known, zone, note, open_events(storage))


async def show_open(update: Update, context: Context, note: Html | None = None) -> None:
    """/broadcast list (or the list again, after a Cancel on it)."""
    await show(update, context, *open_view(context, language(update, context), note))


async def list_open(update: Update, context: Context) -> None:
    """The list button: the list as a new message, so the question it was under stays."""
    await answer(update, context)
    await reply(update, context, *open_view(context, language(update, context)))


async def stop_broadcast(update: Update, context: Context) -> None:
    """A Cancel button on a progress message or the list: a scheduled broadcast is not sent,
    nor one still finding its recipients; a running one stops after its batches in flight (its
    report says how far it got)."""
    query = update.callback_query
    lang = language(update, context)
    argument = query.data.removeprefix(screens.STOP_PREFIX)
    broadcast_id = int(argument) if BROADCAST_ID.fullmatch(argument) else None
    broadcast = context.bot_data.storage.get_broadcast(broadcast_id) if broadcast_id else None
    if broadcast is None or broadcast["kind"] != broadcasts.KIND:
        await answer(update, context, text(lang, "broadcast.no_such"), alert=True)
        return
    if not broadcasts.cancel(context.application, broadcast_id):
        await answer(
            update, context, text(lang, "broadcast.already_ended", id=broadcast_id), alert=True
        )
        return
    if broadcast["status"] == PREPARING:
        note = text(lang, "broadcast.stopping_preparing", id=broadcast_id)
        await answer(update, context, note, alert=True)
        return
    if broadcast["status"] == RUNNING:
        await answer(update, context, text(lang, "broadcast.stopping", id=broadcast_id), alert=True)
        return
    await show_open(update, context, text(lang, "broadcast.stopped_scheduled", id=broadcast_id))


# --- registration -------------------------------------------------------------------------------


def conversation() -> ConversationHandler:
    def button(pattern: str, callback: Handler) -> ButtonHandler:
        return ButtonHandler(organiser_only(callback), pattern=f"^{pattern}")

    def typed(kind: filters.BaseFilter, callback: Handler) -> MessageHandler:
        return MessageHandler(kind, organiser_only(callback))

    labels = {
        "broadcast.cancel_button": cancel_draft,
        "broadcast.skip_version_button": ask_audience,
    }
    audience_buttons = [
        button(screens.AREA + "$", ask_area),
        button(screens.AUDIENCE_PREFIX, choose_audience),
    ]
    return journey(
        "broadcast",
        entry_points=[CommandHandler("broadcast", organiser_only(start_broadcast))],
        states={
            ASK_TEXT: [
                *asides(ask_text),
                # A button's label typed does what the button does, never becomes the message.
                typed(TEXT_MESSAGE | PHOTO_MESSAGE, or_typed(receive_message, labels)),
                typed(OTHER_MESSAGE, refuse_other),
                button(screens.CONTINUE + "$", ask_audience),
            ],
            VERSIONS: [
                *asides(show_versions),
                button(screens.VERSION_PREFIX, ask_version),
                button(screens.CONTINUE + "$", ask_audience),
                typed(ANY_MESSAGE, use_buttons),
            ],
            AUDIENCE: [
                *asides(ask_audience),
                *audience_buttons,
                typed(ANY_MESSAGE, use_buttons),
            ],
            ASK_AREA: [
                *asides(ask_area),
                typed(TEXT_MESSAGE, receive_area),
                *audience_buttons,
            ],
            CONFIRM: [
                *asides(ask_to_confirm),
                button(screens.SEND + "$", send_now),
                button(screens.SCHEDULE + "$", ask_time),
                typed(ANY_MESSAGE, use_buttons),
            ],
            ASK_TIME: [*asides(ask_time), typed(TEXT_MESSAGE, receive_time)],
        },
        fallbacks=[
            button(screens.CANCEL + "$", cancel_draft),
            CommandHandler("cancel", organiser_only(cancel_draft)),
            *exits(dropping=DRAFT),
        ],
    )


BUTTONS = [
    (f"^{screens.LIST}$", organiser_only(list_open)),
    (f"^{screens.STOP_PREFIX}", organiser_only(stop_broadcast)),
    # Any other broadcast button arrives here only when its conversation step is over.
    (f"^{screens.PREFIX}", organiser_only(stale_step)),
]


def register(app: Application) -> None:
    app.add_handler(conversation())
    app.add_handlers(routes({}, BUTTONS))
    app.bot_data.drafts.add(DRAFT)
    app.bot_data.organiser_buttons.add(screens.PREFIX)
