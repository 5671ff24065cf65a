"""Ways out of any journey: every general command and menu button ends the conversation it
interrupts and then does what it always does. Journeys put `exits()` in their fallbacks, so a
supporter is never stuck with the bot reading their next words as a postcode or a letter."""

from __future__ import annotations

from telegram.ext import BaseHandler

from handlers import onboarding, privacy
from handlers.common import ending, routes


def exits() -> list[BaseHandler]:
    commands = {**onboarding.COMMANDS, **privacy.COMMANDS, "cancel": onboarding.show_menu}
    buttons = onboarding.BUTTONS + privacy.BUTTONS + onboarding.LAST_BUTTONS[:1]
    return routes(
        {name: ending(callback) for name, callback in commands.items()},
        [(pattern, ending(callback)) for pattern, callback in buttons],
    )
