"""Ways out of any journey: every general command and menu button ends the conversation it
interrupts and then does what it always does. Journeys put `exits()` in their fallbacks, so a
supporter is never stuck with the bot reading their next words as a postcode or a letter.
Changing language is not a way out: at a step, it carries the journey on in the new language;
nor is reading /help, /privacy or /mydata."""

from __future__ import annotations

import functools

from telegram import Update
from telegram.ext import BaseHandler

from bot.app.context import Context
from handlers import onboarding, privacy
from handlers.common import Handler, ending, routes, show
from messages import keyboards, text

# Pages to read, not ways out: someone who looks up the helpline or what is kept, part-way
# through a letter, carries on where they were. /mydata shows the journey and its draft as
# they are, so it must leave both there.
READING = (privacy.help_command, privacy.privacy_command, privacy.mydata_command)


def exits(dropping: str | None = None) -> list[BaseHandler]:
    """The general commands and menu buttons, each ending the conversation, except the pages
    to read (`READING`), which leave the journey and its draft where they were. `dropping`
    names the journey's unfinished draft in user_data, discarded on the way out."""
    commands = {**onboarding.COMMANDS, **privacy.COMMANDS}
    buttons = onboarding.BUTTONS + privacy.BUTTONS + onboarding.LAST_BUTTONS[:1]

    def leaving(callback: Handler) -> Handler:
        if callback in READING:
            return staying(callback)
        return way_out(callback, dropping)

    return routes(
        {name: leaving(callback) for name, callback in commands.items()},
        [(pattern, leaving(callback)) for pattern, callback in buttons],
    )


def staying(callback: Handler) -> Handler:
    """`callback`, keeping the conversation at its step."""

    @functools.wraps(callback)
    async def then_stay(update: Update, context: Context) -> None:
        await callback(update, context)

    return then_stay


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


def language_change(resume: Handler) -> list[BaseHandler]:
    """For one step of a journey, ahead of its `exits()`: /language and the language buttons
    change the language without leaving the journey or its draft, then `resume` asks the
    step's question again, in the new language."""

    async def switch_then_resume(update: Update, context: Context) -> object:
        chosen = await onboarding.switch_language(update, context)
        if chosen is None:
            return None
        await show(update, context, text(chosen, "core.language.changed_mid_journey"))
        return await resume(update, context)

    return routes(
        {"language": onboarding.language_command},
        [
            (f"^{keyboards.MENU_LANGUAGE}$", onboarding.language_command),
            (f"^{keyboards.LANGUAGE_PREFIX}", switch_then_resume),
        ],
    )
