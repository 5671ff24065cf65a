"""Ways out of any journey: every general command and menu button ends the conversation it
interrupts and then does what it always does. Journeys put `exits()` in their fallbacks, so a
supporter is never stuck with the bot reading their next words as a postcode or a letter.
Changing language and the pages to read (/help, /privacy, /mydata) are not ways out: `asides`
does them at any step, then asks the step's question again."""

from __future__ import annotations

import functools

from telegram import Update
from telegram.ext import BaseHandler

from bot.app.context import Context
from handlers import onboarding, privacy
from handlers.common import Handler, ending, routes, show
from messages import keyboards, text

# Someone who looks up the helpline, or what is kept, part-way through a letter carries on
# where they were; a page that says "part-way through a solidarity message" must not be what
# erases it.
PAGES = {
    "help": privacy.help_command,
    "privacy": privacy.privacy_command,
    "mydata": privacy.mydata_command,
}


def exits(dropping: str | None = None) -> list[BaseHandler]:
    """The general commands and menu buttons, each ending the conversation, except the pages
    to read (see `asides`). `dropping` names the journey's unfinished draft in user_data,
    discarded on the way out."""
    commands = {**onboarding.COMMANDS, **privacy.COMMANDS}
    buttons = onboarding.BUTTONS + privacy.BUTTONS + onboarding.LAST_BUTTONS[:1]
    return routes(
        {
            name: way_out(callback, dropping)
            for name, callback in commands.items()
            if name not in PAGES
        },
        [
            (pattern, way_out(callback, dropping))
            for pattern, callback in buttons
            if callback not in PAGES.values()
        ],
    )


def way_out(callback: Handler, dropping: str | None = None) -> Handler:
    """`callback`, ending the conversation, after discarding the draft `dropping` names."""
    return ending(discarding(dropping, callback) if dropping else callback)


def back_to_menu(dropping: str | None = None) -> Handler:
    """The "Menu" button under a journey's step, or its label typed: leave for the menu."""
    return way_out(onboarding.show_menu, dropping)


def discarding(key: str, callback: Handler) -> Handler:
    @functools.wraps(callback)
    async def discard_then(update: Update, context: Context) -> object:
        context.user_data.pop(key, None)
        return await callback(update, context)

    return discard_then


def asides(resume: Handler) -> list[BaseHandler]:
    """For one step of a journey, ahead of its `exits()`, what leaves neither the journey nor
    its draft, after which `resume` asks the step's question again: /language and the language
    buttons (the question comes in the new language), and the `PAGES` by command or menu button
    (the question again, so nobody is left wondering what the bot is waiting for)."""

    async def switch_then_resume(update: Update, context: Context) -> object:
        chosen = await onboarding.switch_language(update, context)
        if chosen is None:
            return None
        await show(update, context, text(chosen, "core.language.changed_mid_journey"))
        return await resume(update, context)

    def then_resume(page: Handler) -> Handler:
        @functools.wraps(page)
        async def show_then_resume(update: Update, context: Context) -> object:
            await page(update, context)
            return await resume(update, context)

        return show_then_resume

    return routes(
        {
            "language": onboarding.language_command,
            **{name: then_resume(page) for name, page in PAGES.items()},
        },
        [
            (f"^{keyboards.MENU_LANGUAGE}$", onboarding.language_command),
            (f"^{keyboards.LANGUAGE_PREFIX}", switch_then_resume),
            *[
                (pattern, then_resume(callback))
                for pattern, callback in privacy.BUTTONS
                if callback in PAGES.values()
            ],
        ],
    )
