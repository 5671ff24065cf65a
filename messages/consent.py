"""What supporters agree to hear from us: the question at /start, the Messages screen reached
from the menu, and a summary of their choices. Pure renders and keyboards.

Callback data: `optin:<daily><updates>` answers the question (each 0 or 1, so every button says
both choices at once), `consent:<subject>:<0|1>` changes one choice on the Messages screen.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.campaign import Campaign
from bot.consent import DAILY_PROMPT, SUBJECTS, UPDATES
from messages.core import date
from messages.i18n import Html, label, text
from messages.keyboards import MENU, Keyboard, button

OPTIN_PREFIX = "optin:"
CONSENT_PREFIX = "consent:"
OPTIN = re.compile(rf"{OPTIN_PREFIX}([01])([01])")
CHOICE = re.compile(rf"{CONSENT_PREFIX}({'|'.join(SUBJECTS)}):([01])")
# The two kinds asked about at /start; what comes next is offered on the Messages screen, where
# it sits beside what it extends, and once in the last daily prompt (messages.daily).
ASKED_AT_START = (DAILY_PROMPT, UPDATES)
# The journey name (deep link `?start=messages`) that opens the Messages screen.
MESSAGES = "messages"


def optin_data(daily: bool, updates: bool) -> str:
    return f"{OPTIN_PREFIX}{int(daily)}{int(updates)}"


OPTIN_BOTH = optin_data(True, True)
OPTIN_DAILY = optin_data(True, False)
OPTIN_UPDATES = optin_data(False, True)
OPTIN_NONE = optin_data(False, False)


def choice_data(subject: str, granted: bool) -> str:
    return f"{CONSENT_PREFIX}{subject}:{int(granted)}"


def kind(lang: str, subject: str, campaign: Campaign, cap: int) -> Html:
    """What one kind of message is, in one line."""
    return text(
        lang,
        f"consent.{subject}",
        start=date(lang, campaign.start_date),
        end=date(lang, campaign.end_date),
        cap=cap,
    )


def question(lang: str, campaign: Campaign, cap: int) -> Html:
    """The daily prompt and campaign updates, each explained, to be chosen separately."""
    kinds = "\n".join(f"• {kind(lang, subject, campaign, cap)}" for subject in ASKED_AT_START)
    return text(lang, "consent.question", kinds=Html(kinds))


@functools.cache
def question_keyboard(lang: str) -> InlineKeyboardMarkup:
    return Keyboard(
        [
            [button(lang, "consent.both_button", OPTIN_BOTH)],
            [button(lang, "consent.daily_button", OPTIN_DAILY)],
            [button(lang, "consent.updates_button", OPTIN_UPDATES)],
            [button(lang, "consent.none_button", OPTIN_NONE)],
        ]
    )


def name(lang: str, subject: str) -> Html:
    return text(lang, f"consent.name_{subject}")


def states(lang: str, chosen: Mapping[str, bool], subjects: tuple[str, ...] = SUBJECTS) -> Html:
    """One line per kind: yes or no."""
    lines = [
        text(
            lang,
            "consent.state_on" if chosen[subject] else "consent.state_off",
            name=name(lang, subject),
        )
        for subject in subjects
    ]
    return Html("\n".join(lines))


def saved(lang: str, chosen: Mapping[str, bool]) -> Html:
    """The answer to the question at /start, confirmed."""
    return text(lang, "consent.saved", choices=states(lang, chosen, ASKED_AT_START))


def screen(lang: str, campaign: Campaign, cap: int, chosen: Mapping[str, bool]) -> Html:
    """The Messages screen: every kind explained, and whether the person said yes to it; then
    what comes whatever they choose here (what their own actions asked for, bot.consent)."""
    blocks = [text(lang, "consent.title")]
    for subject in SUBJECTS:
        state = "consent.state_on" if chosen[subject] else "consent.state_off"
        blocks.append(
            f"{kind(lang, subject, campaign, cap)}\n{text(lang, state, name=name(lang, subject))}"
        )
    blocks.append(text(lang, "consent.own_actions", end=date(lang, campaign.end_date)))
    return Html("\n\n".join(blocks))


def screen_keyboard(lang: str, chosen: Mapping[str, bool]) -> InlineKeyboardMarkup:
    """A button per kind that turns it the other way, then back to the menu."""
    rows = [
        [
            InlineKeyboardButton(
                label(
                    lang,
                    "consent.turn_off_button" if chosen[subject] else "consent.turn_on_button",
                    name=name(lang, subject),
                ),
                callback_data=choice_data(subject, not chosen[subject]),
            )
        ]
        for subject in SUBJECTS
    ]
    rows.append([button(lang, "core.menu.button_back", MENU)])
    return Keyboard(rows)


def changed(lang: str, subject: str, granted: bool) -> Html:
    return text(
        lang, "consent.saved_on" if granted else "consent.saved_off", name=name(lang, subject)
    )
