"""Keyboards are kept and sent many times: each send must carry exactly the buttons built."""

from __future__ import annotations

import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from messages import keyboards
from messages.i18n import LANGUAGES


def test_a_kept_keyboard_sends_the_same_buttons_every_time():
    for language in LANGUAGES:
        menu = keyboards.main_menu(language)
        plain = InlineKeyboardMarkup(menu.inline_keyboard)  # python-telegram-bot's own
        first = json.dumps(menu.to_dict())
        assert first == json.dumps(plain.to_dict())
        assert json.dumps(menu.to_dict()) == first
        assert keyboards.main_menu(language) is menu


def test_each_keyboard_serialises_its_own_buttons():
    one = keyboards.Keyboard([[InlineKeyboardButton("One", callback_data="a:one")]])
    two = keyboards.Keyboard([[InlineKeyboardButton("Two", url="https://example.org/two")]])
    assert one.to_dict() == {"inline_keyboard": [[{"text": "One", "callback_data": "a:one"}]]}
    assert two.to_dict() == {
        "inline_keyboard": [[{"text": "Two", "url": "https://example.org/two"}]]
    }
