"""Ways out of any journey: every general command and menu button ends the conversation it
interrupts and then does what it always does. Journeys put `exits()` in their fallbacks, so a
supporter is never stuck with the bot reading their next words as a postcode or a letter."""

from __future__ import annotations

import functools

from telegram import Update
from telegram.ext import BaseHandler

from bot.app.context import Context
from handlers import onboarding, privacy
from handlers.common import Handler, ending, routes


def exits(dropping: str | None = None) -> list[BaseHandler]:
    """The general commands and menu buttons, each ending the conversation. `dropping` names the
    journey's unfinished draft in user_data, discarded on the way out."""
    commands = {**onboarding.COMMANDS, **privacy.COMMANDS}
    buttons = onboarding.BUTTONS + privacy.BUTTONS + onboarding.LAST_BUTTONS[:1]

    def way_out(callback: Handler) -> Handler:
        return ending(discarding(dropping, callback) if dropping else callback)

    return routes(
        {name: way_out(callback) for name, callback in commands.items()},
        [(pattern, way_out(callback)) for pattern, callback in buttons],
    )


def discarding(key: str, callback: Handler) -> Handler:
    @functools.wraps(callback)
    async def discard_then(update: Update, context: Context) -> object:
        context.user_data.pop(key, None)
        return await callback(update, context)

    return discard_then
