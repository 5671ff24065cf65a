"""First contact and the main menu: /start (with deep links), language, what the supporter
agrees to hear from us (asked at /start, changed on the menu's Messages screen), /menu."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot import lobby
from bot.app.context import Context
from bot.consent import UPDATES
from bot.progress import checklist
from bot.storage import utcnow
from handlers.common import (
    POSTCODE_TEXT,
    answer,
    language,
    postcode_hint,
    reply,
    routes,
    show,
    user_id,
)
from messages import Html, consent, core, keyboards, text
from messages.i18n import LANGUAGES

MAX_PAYLOAD = 64
# user_data key set by /stop: the next /start asks again what they would like to hear (once; an
# answer of "neither" at /start is not asked again, and the Messages screen changes any choice).
ASK_AGAIN = "ask_choices_again"


def start_payload(update: Update) -> str | None:
    """`/start <payload>` from a t.me deep link; Telegram limits it to 64 safe characters."""
    message = update.effective_message
    words = (message.text or "").split() if message else []
    if len(words) < 2 or not words[0].startswith("/start"):
        return None
    payload = words[1][:MAX_PAYLOAD]
    return payload if payload.replace("-", "").replace("_", "").isalnum() else None


async def start(update: Update, context: Context) -> None:
    """Greet a new supporter and ask what they would like to hear from us; send a returning one
    to the menu, or where their deep link points. Someone back after /stop who hears nothing
    from us is offered the messages again, each explained, then the menu is a tap away."""
    storage = context.bot_data.storage
    payload = start_payload(update)
    lang = language(update, context)
    if not storage.has_consent_decision(user_id(update)):
        if payload in context.bot_data.journeys:
            context.user_data["pending_journey"] = payload
        await send_welcome(update, context, lang)
        return
    journey = payload if payload in context.bot_data.journeys else "menu"
    # A deep link goes where it points; the question waits for a plain /start.
    if journey == "menu" and asks_again(context, user_id(update)):
        if not any(storage.consents(user_id(update)).values()):
            await reply(update, context, text(lang, "consent.welcome_back"))
        await ask_consent(update, context, lang)
        return
    await open_journey(update, context, journey)


def asks_again(context: Context, supporter: int) -> bool:
    """Whether a plain /start asks again what the supporter would like to hear: the first after
    a /stop (unless they have since chosen something on the Messages screen), and for anyone
    never asked about campaign updates (who answered only the daily-prompt question of versions
    before 0.2.0, or sent /stop then: neither was a no to updates)."""
    storage = context.bot_data.storage
    stopped = context.user_data.pop(ASK_AGAIN, False)
    if not storage.has_consent_decision(supporter, UPDATES):
        return True
    return stopped and not any(storage.consents(supporter).values())


async def send_welcome(update: Update, context: Context, lang: str) -> None:
    """Two messages, the welcome (with the languages under it) and the question: in a rush
    each message is a thirtieth of a second of everything the bot may send."""
    await reply(
        update, context, core.welcome(lang, context.bot_data.campaign), keyboards.language_choice()
    )
    await ask_consent(update, context, lang)


def daily_cap(context: Context) -> int:
    return context.bot_data.settings.broadcasts_per_day


async def ask_consent(update: Update, context: Context, lang: str) -> None:
    """The daily prompt and campaign updates, each explained, with a button per combination."""
    question = consent.question(lang, context.bot_data.campaign, daily_cap(context))
    await reply(update, context, question, consent.question_keyboard(lang))


async def open_journey(update: Update, context: Context, journey: str) -> None:
    opener = context.bot_data.journeys.get(journey)
    if opener is None:
        await show_menu(update, context)
        return
    await opener(update, context)


async def show_menu(update: Update, context: Context) -> None:
    """The checklist of what this supporter has done, what is next, and every action. Someone
    who never started (an organiser at work, say) has no progress, and every action there
    needs /start: they are told so instead."""
    storage = context.bot_data.storage
    lang = language(update, context)
    if context.started is False:
        await reply(update, context, text(lang, "core.menu.not_started"))
        return
    progress = checklist(storage.done_actions(user_id(update)))
    chosen = storage.consents(user_id(update))
    coming = lobby.next_for(storage, user_id(update), utcnow())
    lobby_day = (coming[0].text("title", lang), coming[1]) if coming else None
    messages = consent.states(lang, chosen, consent.ASKED_AT_START)
    body = core.menu(lang, progress, messages, lobby_day)
    await show(update, context, body, keyboards.main_menu(lang))


async def language_command(update: Update, context: Context) -> None:
    """/language: offer the three languages."""
    await show(
        update,
        context,
        text(language(update, context), "core.language.choose"),
        keyboards.language_choice(),
    )


async def switch_language(update: Update, context: Context) -> str | None:
    """A language button: the person's language becomes the one pressed, which is returned;
    None for a button that names no language (stale or tampered), after saying so."""
    chosen = update.callback_query.data.removeprefix(keyboards.LANGUAGE_PREFIX)
    if chosen not in LANGUAGES:
        await stale_button(update, context)
        return None
    await answer(update, context)
    storage = context.bot_data.storage
    if context.started:
        storage.set_language(user_id(update), chosen)
    elif context.bot_data.settings.is_organiser(user_id(update)):
        # An organiser at work without a supporter row: kept apart, so that choosing a
        # language never makes them a supporter (handlers.gate).
        storage.set_organiser_language(user_id(update), chosen)
    context.language = chosen
    return chosen


async def choose_language(update: Update, context: Context) -> None:
    """A language button: switch, confirm in the new language, and carry on where they were."""
    chosen = await switch_language(update, context)
    if chosen is None:
        return
    await reply(update, context, text(chosen, "core.language.changed"))
    if not context.started:
        return  # an organiser who never started: no welcome, no menu of theirs
    if context.bot_data.storage.has_consent_decision(user_id(update)):
        await show_menu(update, context)
    else:
        await reply(
            update,
            context,
            core.welcome(chosen, context.bot_data.campaign),
            keyboards.language_choice(),
        )
        await ask_consent(update, context, chosen)


async def answer_consent(update: Update, context: Context) -> None:
    """The answer to the question at /start: both kinds recorded, each with its time and
    wording, then on to the journey a deep link asked for, or the menu."""
    match = consent.OPTIN.fullmatch(update.callback_query.data)
    if match is None:
        await stale_button(update, context)
        return
    storage = context.bot_data.storage
    wording = context.bot_data.campaign.consent_wording_version
    answers = zip(consent.ASKED_AT_START, match.groups(), strict=True)
    storage.set_consents(
        user_id(update), {subject: yes == "1" for subject, yes in answers}, wording
    )
    lang = language(update, context)
    await show(update, context, consent.saved(lang, storage.consents(user_id(update))))
    await open_journey(update, context, context.user_data.pop("pending_journey", "menu"))


async def show_messages(update: Update, context: Context, note: Html | None = None) -> None:
    """The menu's Messages screen: each kind of message explained, and a button to change it."""
    lang = language(update, context)
    chosen = context.bot_data.storage.consents(user_id(update))
    body = consent.screen(lang, context.bot_data.campaign, daily_cap(context), chosen)
    await show(
        update,
        context,
        Html(f"{note}\n\n{body}") if note else body,
        consent.screen_keyboard(lang, chosen),
    )


async def change_consent(update: Update, context: Context) -> None:
    """A button on the Messages screen: record that one choice, then show the screen again."""
    match = consent.CHOICE.fullmatch(update.callback_query.data)
    if match is None:
        await stale_button(update, context)
        return
    subject, granted = match.group(1), match.group(2) == "1"
    wording = context.bot_data.campaign.consent_wording_version
    context.bot_data.storage.set_consents(user_id(update), {subject: granted}, wording)
    await show_messages(
        update, context, consent.changed(language(update, context), subject, granted)
    )


async def menu_journey(update: Update, context: Context) -> None:
    """A journey button on the menu."""
    journey = update.callback_query.data.removeprefix(keyboards.MENU_PREFIX)
    if journey not in context.bot_data.journeys:
        await stale_button(update, context)
        return
    await open_journey(update, context, journey)


async def stale_button(update: Update, context: Context) -> None:
    """A button we no longer recognise (old message, new version, or tampered data)."""
    lang = language(update, context)
    await answer(update, context, text(lang, "core.errors.stale_button"))
    await show_menu(update, context)


# /cancel outside a journey has nothing to cancel: it shows the menu, as inside one it ends there.
COMMANDS = {
    "start": start,
    "menu": show_menu,
    "cancel": show_menu,
    "language": language_command,
}
BUTTONS = [
    (f"^{keyboards.LANGUAGE_PREFIX}", choose_language),
    (f"^{keyboards.MENU_LANGUAGE}$", language_command),
    (f"^{consent.OPTIN_PREFIX}", answer_consent),
    (f"^{keyboards.MENU_MESSAGES}$", show_messages),
    (f"^{consent.CONSENT_PREFIX}", change_consent),
    (f"^{keyboards.MENU}$", show_menu),
]
# Registered after every journey, so their own buttons are matched first.
LAST_BUTTONS = [(f"^{keyboards.MENU_PREFIX}", menu_journey), (None, stale_button)]


def register(app: Application) -> None:
    app.add_handlers(routes(COMMANDS, BUTTONS))
    app.bot_data.organiser_buttons.add(keyboards.LANGUAGE_PREFIX)
    app.bot_data.journeys["menu"] = show_menu
    app.bot_data.journeys[consent.MESSAGES] = show_messages


async def not_understood(update: Update, context: Context) -> None:
    """Text, media or a command that no journey is waiting for: say so kindly, offer the menu."""
    lang = language(update, context)
    await reply(
        update, context, text(lang, "core.errors.unknown_text"), keyboards.back_to_menu(lang)
    )


def register_fallbacks(app: Application) -> None:
    """Journey buttons, the catch-all for stale ones, and for messages nobody was waiting for:
    a postcode gets the button that uses it, anything else "I didn't understand"."""
    app.add_handlers(routes({}, LAST_BUTTONS))
    # An edit outside a journey answers nothing: it is left alone.
    new_message = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    app.add_handlers(
        [
            MessageHandler(new_message & ~filters.COMMAND & POSTCODE_TEXT, postcode_hint),
            MessageHandler(new_message & ~filters.StatusUpdate.ALL, not_understood),
        ]
    )
