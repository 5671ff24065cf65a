"""First contact and the main menu: /start (with deep links), language, daily opt-in, /menu."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.app.context import Context
from bot.progress import JOURNEYS, checklist
from handlers.common import answer, language, reply, routes, show, user_id
from messages import core, keyboards, text
from messages.i18n import LANGUAGES

MAX_PAYLOAD = 64


def start_payload(update: Update) -> str | None:
    """`/start <payload>` from a t.me deep link; Telegram limits it to 64 safe characters."""
    message = update.effective_message
    words = (message.text or "").split() if message else []
    if len(words) < 2 or not words[0].startswith("/start"):
        return None
    payload = words[1][:MAX_PAYLOAD]
    return payload if payload.replace("-", "").replace("_", "").isalnum() else None


async def start(update: Update, context: Context) -> None:
    """Greet a new supporter and ask about the daily prompt; send a returning one to the menu."""
    storage = context.bot_data.storage
    payload = start_payload(update)
    decided = storage.has_consent_decision(user_id(update))
    lang = language(update, context)
    if not decided:
        if payload in JOURNEYS:
            context.user_data["pending_journey"] = payload
        await send_welcome(update, context, lang)
        return
    await open_journey(update, context, payload or "menu")


async def send_welcome(update: Update, context: Context, lang: str) -> None:
    """Two messages, the welcome (with the languages under it) and the question: in a rush
    each message is a thirtieth of a second of everything the bot may send."""
    campaign = context.bot_data.campaign
    await reply(update, context, core.welcome(lang, campaign), keyboards.language_choice())
    await reply(update, context, core.optin_question(lang, campaign), keyboards.optin(lang))


async def open_journey(update: Update, context: Context, journey: str) -> None:
    opener = context.bot_data.journeys.get(journey)
    if opener is None:
        await show_menu(update, context)
        return
    await opener(update, context)


async def show_menu(update: Update, context: Context) -> None:
    """The checklist of what this supporter has done, what is next, and every action."""
    storage = context.bot_data.storage
    supporter = storage.get_supporter(user_id(update))
    lang = language(update, context)
    opted_in = bool(supporter and supporter["opted_in"])
    progress = checklist(storage.done_actions(user_id(update)))
    await show(
        update, context, core.menu(lang, progress, opted_in), keyboards.main_menu(lang, opted_in)
    )


async def language_command(update: Update, context: Context) -> None:
    """/language: offer the three languages."""
    await show(
        update,
        context,
        text(language(update, context), "core.language.choose"),
        keyboards.language_choice(),
    )


async def choose_language(update: Update, context: Context) -> None:
    """A language button: switch, confirm in the new language, and carry on where they were."""
    query = update.callback_query
    chosen = query.data.removeprefix(keyboards.LANGUAGE_PREFIX)
    if chosen not in LANGUAGES:
        await stale_button(update, context)
        return
    await answer(update, context)
    context.bot_data.storage.set_language(user_id(update), chosen)
    context.language = chosen
    await reply(update, context, text(chosen, "core.language.changed"))
    if context.bot_data.storage.has_consent_decision(user_id(update)):
        await show_menu(update, context)
    else:
        campaign = context.bot_data.campaign
        await reply(update, context, core.welcome(chosen, campaign), keyboards.language_choice())
        await reply(update, context, core.optin_question(chosen, campaign), keyboards.optin(chosen))


async def answer_optin(update: Update, context: Context) -> None:
    """Record the daily-prompt decision with its time and wording, then move on."""
    granted = update.callback_query.data == keyboards.OPTIN_YES
    lang = language(update, context)
    wording = context.bot_data.campaign.consent_wording_version
    context.bot_data.storage.set_opt_in(user_id(update), granted, wording)
    await show(
        update,
        context,
        text(lang, "core.welcome.optin_yes" if granted else "core.welcome.optin_no"),
    )
    await open_journey(update, context, context.user_data.pop("pending_journey", "menu"))


async def ask_daily(update: Update, context: Context) -> None:
    """The menu's daily-prompt button: ask again, so consent is always an explicit answer."""
    lang = language(update, context)
    await show(
        update,
        context,
        core.optin_question(lang, context.bot_data.campaign),
        keyboards.optin(lang),
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
    (f"^({keyboards.OPTIN_YES}|{keyboards.OPTIN_NO})$", answer_optin),
    (f"^{keyboards.MENU_DAILY}$", ask_daily),
    (f"^{keyboards.MENU}$", show_menu),
]
# Registered after every journey, so their own buttons are matched first.
LAST_BUTTONS = [(f"^{keyboards.MENU_PREFIX}", menu_journey), (None, stale_button)]


def register(app: Application) -> None:
    app.add_handlers(routes(COMMANDS, BUTTONS))
    app.bot_data.journeys["menu"] = show_menu


async def not_understood(update: Update, context: Context) -> None:
    """Text, media or a command that no journey is waiting for: say so kindly, offer the menu."""
    lang = language(update, context)
    await reply(
        update, context, text(lang, "core.errors.unknown_text"), keyboards.back_to_menu(lang)
    )


def register_fallbacks(app: Application) -> None:
    """Journey buttons, the catch-all for stale ones, and for messages nobody was waiting for."""
    app.add_handlers(routes({}, LAST_BUTTONS))
    app.add_handler(
        # An edit outside a journey answers nothing: it is left alone.
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL,
            not_understood,
        )
    )
