"""Text that says nothing is told apart from text that says something (issue 13, point 6)."""

from __future__ import annotations

import pytest

from bot.typed import says_something

NOTHING = [
    "",
    "   ",
    "\n\t ",
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width space, joiners, word joiner, BOM
    "\u00a0\u3000\u2028",  # no-break space, ideographic space, line separator
    "\x00\x07\x1b",  # control characters
    "\u3164\u115f\u2800",  # Hangul filler, blank Braille cell
    "\u0301\u034f",  # a combining accent with nothing under it, the grapheme joiner
    "\u202e\u200f",  # direction marks
]
SOMETHING = ["Ana", "A", "🙂", "5", "!", "Zoë\u200b", " \u200bé", "玲"]


@pytest.mark.parametrize("typed", NOTHING)
def test_blank_and_invisible_text_says_nothing(typed):
    assert not says_something(typed)


@pytest.mark.parametrize("typed", SOMETHING)
def test_anything_a_reader_would_see_says_something(typed):
    assert says_something(typed)
