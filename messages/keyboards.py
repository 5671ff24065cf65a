"""Inline keyboards, and the callback data they carry.

Callback data is `<area>:<verb>[:<argument>]`. Handlers match on the same constants, so a button
and the handler for it cannot drift apart. Anything else that arrives is stale or tampered with.
"""

from __future__ import annotations

import functools

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from messages.i18n import LANGUAGES, catalog, text

LANGUAGE_PREFIX = "lang:"
OPTIN_YES = "optin:yes"
OPTIN_NO = "optin:no"
MENU_PREFIX = "menu:"
MENU = "menu:show"
MENU_DAILY = "menu:daily"
MENU_LANGUAGE = "menu:language"
MENU_HELP = "menu:help"
MENU_PRIVACY = "menu:privacy"
FORGET_YES = "forget:yes"
FORGET_NO = "forget:no"


def journey_data(journey: str) -> str:
    return f"{MENU_PREFIX}{journey}"


def rows(*buttons: InlineKeyboardButton, width: int = 2) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def button(language: str, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text(language, key), callback_data=data)


@functools.cache  # keyboards are immutable, and these are shown on nearly every tap
def language_choice() -> InlineKeyboardMarkup:
    """Each language named in itself, so anyone can find theirs."""
    return InlineKeyboardMarkup(
        rows(
            *(
                InlineKeyboardButton(
                    catalog(code)["core.language.name"], callback_data=f"{LANGUAGE_PREFIX}{code}"
                )
                for code in LANGUAGES
            ),
            width=3,
        )
    )


@functools.cache
def optin(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(language, "core.welcome.optin_yes_button", OPTIN_YES),
                button(language, "core.welcome.optin_no_button", OPTIN_NO),
            ]
        ]
    )


@functools.cache
def main_menu(language: str, opted_in: bool) -> InlineKeyboardMarkup:
    daily_key = "core.menu.button_daily_on" if opted_in else "core.menu.button_daily_off"
    return InlineKeyboardMarkup(
        rows(
            button(language, "core.menu.button_petition", journey_data("petition")),
            button(language, "core.menu.button_mp", journey_data("mp")),
            button(language, "core.menu.button_solidarity", journey_data("solidarity")),
            button(language, "core.menu.button_share", journey_data("share")),
            button(language, daily_key, MENU_DAILY),
            button(language, "core.menu.button_language", MENU_LANGUAGE),
            button(language, "core.menu.button_help", MENU_HELP),
            button(language, "core.menu.button_privacy", MENU_PRIVACY),
        )
    )


def menu_row(language: str) -> list[InlineKeyboardButton]:
    """"Back to the menu", the last row under most screens."""
    return [button(language, "core.menu.button_back", MENU)]


@functools.cache
def back_to_menu(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([menu_row(language)])


@functools.cache
def forget_confirm(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(language, "core.privacy.forget_yes_button", FORGET_YES),
                button(language, "core.privacy.forget_no_button", FORGET_NO),
            ]
        ]
    )
