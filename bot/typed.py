"""What a person typed where the bot asked for a name, a signature or a message."""

from __future__ import annotations

import unicodedata

# Characters in the categories that show on screen (letters, symbols) that still print as blank
# space: the Hangul fillers and the blank Braille cell, favourites for "invisible" names.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
VISIBLE_CATEGORIES = frozenset("LNPS")  # letters, numbers, punctuation, symbols (emoji are S)


def says_something(typed: str | None) -> bool:
    """True if `typed` has at least one character a reader would see. Spaces of any kind,
    zero-width and other format characters, control characters, combining marks with nothing
    to sit on, and blank-looking letters say nothing, however many there are."""
    return any(
        unicodedata.category(char)[0] in VISIBLE_CATEGORIES and char not in BLANK_LOOKING
        for char in typed or ""
    )
