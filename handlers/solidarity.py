"""Send solidarity: the address for a posted letter, a message written here for the refuges'
cards, and organisers' moderation of those messages (/moderate) with a printable PDF.

A message being written lives in user_data (so it survives a restart) only until it is sent,
discarded, or the supporter leaves the journey; what is sent waits in the moderation queue.
"""

from __future__ import annotations

import asyncio
import re

from telegram import Update
from telegram.ext import (
    Application,
    ConversationHandler,
    MessageHandler,
)

from bot import solidarity
from bot.app.context import Context
from bot.progress import SOLIDARITY_POSTED, SOLIDARITY_WRITTEN
from bot.typed import says_something
from handlers.common import (
    NEW_OTHER,
    NEW_TEXT,
    POSTCODE_TEXT,
    ButtonHandler,
    Handler,
    answer,
    journey,
    language,
    or_typed,
    organiser_only,
    postcode_hint,
    remember,
    reply,
    routes,
    show,
    user_id,
)
from handlers.exits import asides, exits
from messages import Html, keyboards, text
from messages.core import characters, too_long
from messages.solidarity import (
    ANONYMOUS,
    APPROVE,
    CANCEL,
    EDIT,
    EXPORT,
    PENDING_NEXT,
    POSTED,
    REJECT,
    REJECT_YES,
    SEND,
    WRITE,
    cancel_keyboard,
    card,
    confirm_keyboard,
    confirm_reject_keyboard,
    decision_note,
    intro,
    intro_keyboard,
    moderation_keyboard,
    moderation_view,
    pdf_title,
    posted_keyboard,
    preview_text,
    signature_keyboard,
)

DECISIONS = {APPROVE: solidarity.APPROVED, REJECT_YES: solidarity.REJECTED}
# A moderation button carries a message id: digits only, short enough for SQLite's integers.
MESSAGE_ID = re.compile(r"[0-9]{1,12}")
PDF_FILENAME = "solidarity-cards.pdf"

ASK_MESSAGE, ASK_SIGNATURE, CONFIRM = "message", "signature", "confirm"
DRAFT = "solidarity_draft"



# --- the supporter's journey --------------------------------------------------------------------


async def open_solidarity(update: Update, context: Context) -> None:
    """The address to post a letter to, a message they could write, and the ways to act."""
    lang = language(update, context)
    await show(
        update,
        context,
        intro(lang, context.bot_data.campaign),
        intro_keyboard(lang),
    )


async def record_posted(update: Update, context: Context) -> None:
    """The "I've posted a letter" button: count it, and thank them."""
    context.bot_data.storage.record_action(user_id(update), SOLIDARITY_POSTED)
    lang = language(update, context)
    await show(
        update,
        context,
        text(lang, "solidarity.posted_thanks"),
        posted_keyboard(lang),
    )


def message_limit(context: Context) -> int:
    return context.bot_data.campaign.solidarity.max_message_length


async def ask_message(update: Update, context: Context) -> str:
    """Start (or start again) a message: ask for its text, saying how long it may be."""
    context.user_data.pop(DRAFT, None)
    lang = language(update, context)
    await show(
        update,
        context,
        text(lang, "solidarity.ask_message", limit=characters(lang, message_limit(context))),
        cancel_keyboard(lang),
    )
    return ASK_MESSAGE


async def receive_message(update: Update, context: Context) -> str:
    """The message's text: kept as a draft if it fits on a card, otherwise asked for again."""
    lang = language(update, context)
    body = solidarity.tidy_message(update.effective_message.text)
    limit = message_limit(context)
    if not says_something(body):  # only spaces or invisible characters: a blank card
        await reply(update, context, text(lang, "solidarity.message_empty"))
        return ASK_MESSAGE
    if len(body) > limit:
        await reply(
            update,
            context,
            too_long(lang, "solidarity.message_too_long", len(body), limit),
            cancel_keyboard(lang),
        )
        return ASK_MESSAGE
    context.user_data[DRAFT] = {"body": body}
    return await ask_signature(update, context)


async def ask_signature(update: Update, context: Context) -> str:
    """How to sign the message: a first name or initials, or anonymously."""
    lang = language(update, context)
    limit = characters(lang, solidarity.MAX_SIGNATURE_LENGTH)
    body = text(lang, "solidarity.ask_signature", limit=limit)
    await show(update, context, body, signature_keyboard(lang))
    return ASK_SIGNATURE


async def refuse_non_text(update: Update, context: Context) -> None:
    """A sticker, photo or voice message where the message's text was expected."""
    await reply(update, context, text(language(update, context), "solidarity.message_not_text"))


async def receive_signature(update: Update, context: Context) -> str:
    """A typed name or initials: one short line, then the preview."""
    lang = language(update, context)
    signature = solidarity.tidy_signature(update.effective_message.text)
    limit = solidarity.MAX_SIGNATURE_LENGTH
    if len(signature) > limit:
        await reply(
            update,
            context,
            too_long(lang, "solidarity.signature_too_long", len(signature), limit),
            signature_keyboard(lang),
        )
        return ASK_SIGNATURE
    if not says_something(signature):
        return await ask_signature_again(update, context)
    return await preview(update, context, signature)


async def ask_signature_again(update: Update, context: Context) -> str:
    """Nothing usable as a signature: ask again, with the anonymous option and Cancel."""
    lang = language(update, context)
    await reply(
        update,
        context,
        text(lang, "solidarity.signature_again"),
        signature_keyboard(lang),
    )
    return ASK_SIGNATURE


async def sign_anonymously(update: Update, context: Context) -> str:
    """The anonymous button: no signature, then the preview."""
    return await preview(update, context, None)


async def preview(update: Update, context: Context, signature: str | None) -> str:
    """The message as it will be sent, with Send / Start again / Cancel."""
    draft = context.user_data.get(DRAFT)
    if not draft:  # nothing to preview (an old button after the draft was discarded)
        return await ask_message(update, context)
    draft["signature"] = signature
    lang = language(update, context)
    missing = await printed_without(draft["body"], signature)
    await show(update, context, preview_text(lang, draft, missing), confirm_keyboard(lang))
    return CONFIRM


async def printed_without(body: str, signature: str | None) -> list[str]:
    """The characters of the message and its signature a printed card would leave out."""
    # The card fonts' character maps take a moment to read the first time.
    return await asyncio.to_thread(solidarity.unprintable, f"{body} {signature or ''}")


async def preview_again(update: Update, context: Context) -> str:
    """The preview as it stands, signature and all."""
    draft = context.user_data.get(DRAFT) or {}
    return await preview(update, context, draft.get("signature"))


async def use_buttons(update: Update, context: Context) -> None:
    """Anything typed at the preview: point to its buttons rather than guess."""
    lang = language(update, context)
    await reply(update, context, text(lang, "solidarity.use_buttons"), confirm_keyboard(lang))


async def submit_message(update: Update, context: Context) -> int | str:
    """Send: the message joins the moderation queue, the draft goes, and they are thanked."""
    draft = context.user_data.pop(DRAFT, None)
    if not draft:
        return await ask_message(update, context)
    lang = language(update, context)
    context.bot_data.storage.queue_solidarity_message(
        user_id(update), draft["body"], draft.get("signature"), lang, SOLIDARITY_WRITTEN
    )
    await show(update, context, text(lang, "solidarity.sent"), keyboards.back_to_menu(lang))
    return ConversationHandler.END


async def cancel_message(update: Update, context: Context) -> int:
    """Cancel: discard the draft; nothing is sent."""
    context.user_data.pop(DRAFT, None)
    lang = language(update, context)
    await show(update, context, text(lang, "solidarity.cancelled"), keyboards.back_to_menu(lang))
    return ConversationHandler.END


def conversation() -> ConversationHandler:
    def button(pattern: str, callback: Handler) -> ButtonHandler:
        return ButtonHandler(callback, pattern=f"^{pattern}$")

    # A postcode is never kept as a message or a signature: the MP journey is offered instead.
    not_a_postcode = MessageHandler(NEW_TEXT & POSTCODE_TEXT, postcode_hint)
    # A button's label typed at its step does what the button does, never goes on the card.
    cancel = {"solidarity.cancel_button": cancel_message}
    anonymous = {**cancel, "solidarity.anonymous_button": sign_anonymously}
    confirm = {
        **cancel,
        "solidarity.send_button": submit_message,
        "solidarity.edit_button": ask_message,
    }
    return journey(
        "solidarity",
        entry_points=[button(WRITE, ask_message)],
        states={
            ASK_MESSAGE: [
                *asides(ask_message),
                not_a_postcode,
                MessageHandler(NEW_TEXT, or_typed(receive_message, cancel)),
                MessageHandler(NEW_OTHER, refuse_non_text),
            ],
            ASK_SIGNATURE: [
                *asides(ask_signature),
                not_a_postcode,
                MessageHandler(NEW_TEXT, or_typed(receive_signature, anonymous)),
                MessageHandler(NEW_OTHER, ask_signature_again),
                button(ANONYMOUS, sign_anonymously),
            ],
            CONFIRM: [
                *asides(preview_again),
                button(SEND, submit_message),
                button(EDIT, ask_message),
                MessageHandler(NEW_TEXT, or_typed(use_buttons, confirm)),
                MessageHandler(NEW_OTHER, use_buttons),
            ],
        },
        fallbacks=[button(CANCEL, cancel_message), *exits(dropping=DRAFT)],
    )


# --- organisers: moderation and the PDF ---------------------------------------------------------


async def moderate_command(update: Update, context: Context) -> None:
    """/moderate: the next message waiting for review. /moderate pdf: the cards to print."""
    if context.args and context.args[0].lower() == "pdf":
        await export_pdf(update, context)
        return
    await show_next_pending(update, context)


async def show_next_pending(update: Update, context: Context, note: Html | None = None) -> None:
    """The oldest message waiting, with Approve / Reject, and how many are in each state."""
    storage = context.bot_data.storage
    lang = language(update, context)
    counts = storage.solidarity_counts()
    item = storage.next_pending_solidarity()
    missing = []
    if item is not None:
        missing = await printed_without(item["body"], item["signature"])
    await show(
        update,
        context,
        moderation_view(lang, item, counts, note, missing),
        moderation_keyboard(lang, item, counts.get(solidarity.APPROVED, 0)),
    )


async def decide(update: Update, context: Context) -> None:
    """Approve or Reject: record the decision on the message the button names, show the next."""
    action, _, argument = update.callback_query.data.rpartition(":")
    lang = language(update, context)
    if action not in DECISIONS or not MESSAGE_ID.fullmatch(argument):
        await show_next_pending(update, context, text(lang, "solidarity.moderate_stale"))
        return
    message_id = int(argument)
    before = context.bot_data.storage.moderate_solidarity(
        message_id, DECISIONS[action], user_id(update)
    )
    await show_next_pending(update, context, decision_note(lang, message_id, action, before))


async def confirm_reject(update: Update, context: Context) -> None:
    """Reject asks first: a rejected message is never printed, and a slip cannot be undone."""
    argument = update.callback_query.data.removeprefix(f"{REJECT}:")
    lang = language(update, context)
    if not MESSAGE_ID.fullmatch(argument):
        await show_next_pending(update, context, text(lang, "solidarity.moderate_stale"))
        return
    message_id = int(argument)
    question = text(lang, "solidarity.confirm_reject", id=message_id)
    await show(update, context, question, confirm_reject_keyboard(lang, message_id))


async def export_pdf(update: Update, context: Context) -> None:
    """The approved messages as a PDF of printable cards, sent as a document."""
    if update.callback_query:
        await answer(update, context)
    lang = language(update, context)
    rows = context.bot_data.storage.approved_solidarity_messages()
    if not rows:
        await reply(update, context, text(lang, "solidarity.pdf_nothing"))
        return
    campaign = context.bot_data.campaign
    cards = [card(row, campaign) for row in rows]
    # Laying out many cards takes a moment; the bot keeps answering others meanwhile.
    pdf = await asyncio.to_thread(solidarity.cards_pdf, cards, title=pdf_title(lang))
    chat_id = update.effective_chat.id
    sent = await context.bot.send_document(
        chat_id,
        pdf,
        filename=PDF_FILENAME,
        caption=text(lang, "solidarity.pdf_caption", count=len(rows)),
    )
    remember(context, sent.chat_id, sent.message_id)
    # Sent for printing: from now on nothing links these cards to their authors.
    context.bot_data.storage.mark_printed([row["id"] for row in rows])


COMMANDS = {"moderate": organiser_only(moderate_command)}
BUTTONS = [
    (f"^{POSTED}$", record_posted),
    (f"^({APPROVE}|{REJECT_YES})(:|$)", organiser_only(decide)),
    (f"^{REJECT}(:|$)", organiser_only(confirm_reject)),
    (f"^{PENDING_NEXT}$", organiser_only(show_next_pending)),  # "No, back to the message"
    (f"^{EXPORT}$", organiser_only(export_pdf)),
]


def register(app: Application) -> None:
    app.add_handler(conversation())
    app.add_handlers(routes(COMMANDS, BUTTONS))
    app.bot_data.journeys["solidarity"] = open_solidarity
    app.bot_data.drafts.add(DRAFT)
    app.bot_data.organiser_buttons.update({APPROVE, REJECT, REJECT_YES, PENDING_NEXT, EXPORT})
