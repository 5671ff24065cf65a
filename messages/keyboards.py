"""Inline keyboards, and the callback data they carry.

Callback data is `<area>:<verb>[:<argument>]`. Handlers match on the same constants, so a button
and the handler for it cannot drift apart. Anything else that arrives is stale or tampered with.
"""

from __future__ import annotations

import functools
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from messages.i18n import LANGUAGES, catalog, label

LANGUAGE_PREFIX = "lang:"
MENU_PREFIX = "menu:"
MENU = "menu:show"
MENU_MESSAGES = "menu:messages"
MENU_LANGUAGE = "menu:language"
MENU_HELP = "menu:help"
MENU_PRIVACY = "menu:privacy"
MENU_MYDATA = "menu:mydata"
FORGET_ASK = "forget:ask"
FORGET_YES = "forget:yes"
FORGET_NO = "forget:no"


class Keyboard(InlineKeyboardMarkup):
    """Every inline keyboard the bot sends: python-telegram-bot's, which works out its dict for
    Telegram once. Its objects are frozen once built, so the dict cannot go stale; a keyboard
    kept and sent under thousands of messages (the menu, "back to the menu") would otherwise be
    converted again for each, at about 35 µs of CPU. The dict returned is shared: read it,
    never change it."""

    __slots__ = ("_serialised",)

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        if not recursive:
            return super().to_dict(recursive=False)
        try:
            return self._serialised
        except AttributeError:
            serialised = super().to_dict()
            object.__setattr__(self, "_serialised", serialised)  # past the freeze: see above
            return serialised


def journey_data(journey: str) -> str:
    return f"{MENU_PREFIX}{journey}"


def rows(*buttons: InlineKeyboardButton, width: int = 2) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def button(language: str, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label(language, key), callback_data=data)


@functools.cache  # keyboards are immutable, and these are shown on nearly every tap
def language_choice() -> InlineKeyboardMarkup:
    """Each language named in itself, so anyone can find theirs."""
    return Keyboard(
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
def main_menu(language: str) -> InlineKeyboardMarkup:
    return Keyboard(
        rows(
            button(language, "core.menu.button_petition", journey_data("petition")),
            button(language, "core.menu.button_mp", journey_data("mp")),
            button(language, "core.menu.button_solidarity", journey_data("solidarity")),
            button(language, "core.menu.button_share", journey_data("share")),
            button(language, "core.menu.button_lobby", journey_data("lobby")),
            button(language, "consent.menu_button", MENU_MESSAGES),
            button(language, "core.menu.button_language", MENU_LANGUAGE),
            button(language, "core.menu.button_help", MENU_HELP),
            button(language, "core.menu.button_privacy", MENU_PRIVACY),
            button(language, "core.privacy.erase_button", FORGET_ASK),
        )
    )


def menu_row(language: str) -> list[InlineKeyboardButton]:
    """ "Back to the menu", the last row under most screens."""
    return [button(language, "core.menu.button_back", MENU)]


@functools.cache
def back_to_menu(language: str) -> InlineKeyboardMarkup:
    return Keyboard([menu_row(language)])


@functools.cache
def write_to_mp(language: str) -> InlineKeyboardMarkup:
    """Under a postcode typed where it can't be used: the journey that can, or the menu."""
    return Keyboard(
        [[button(language, "core.menu.button_mp", journey_data("mp"))], menu_row(language)]
    )


@functools.cache
def erase_or_back(language: str) -> InlineKeyboardMarkup:
    """Under the /mydata page itself: erase it all (two taps with the confirmation), or go
    back; seeing it again would only draw the same page."""
    return Keyboard(
        [
            [button(language, "core.privacy.erase_button", FORGET_ASK)],
            menu_row(language),
        ]
    )


@functools.cache
def my_data(language: str) -> InlineKeyboardMarkup:
    """Under /privacy: see what is kept, erase it all (two taps with the confirmation), or go
    back."""
    return Keyboard(
        [
            [button(language, "core.privacy.mydata_button", MENU_MYDATA)],
            *erase_or_back(language).inline_keyboard,
        ]
    )


@functools.cache
def forget_confirm(language: str) -> InlineKeyboardMarkup:
    return Keyboard(
        [
            [
                button(language, "core.privacy.forget_yes_button", FORGET_YES),
                button(language, "core.privacy.forget_no_button", FORGET_NO),
            ]
        ]
    )
