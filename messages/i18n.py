"""Locale catalogs: `messages/locales/<language>/<area>.toml`.

A key is `<area>.<name>` (nested tables add more dots). Catalog strings are trusted HTML written
by us; every value substituted into a placeholder is escaped here, once, unless it is already
`Html` (a fragment we rendered ourselves).
"""

from __future__ import annotations

import html
import re
import string
import tomllib
from functools import cache
from pathlib import Path

from bot.campaign import DEFAULT_LANGUAGE, LANGUAGES

LOCALES = Path(__file__).parent / "locales"
TAG = re.compile(r"<[^>]+>")


class Html(str):
    """Text that is already safe HTML and must not be escaped again."""


def _flatten(prefix: str, table: dict) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            flat.update(_flatten(name, value))
        else:
            flat[name] = value
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    """Every message of one language, keyed `<area>.<name>`."""
    entries: dict[str, str] = {}
    for path in sorted((LOCALES / language).glob("*.toml")):
        entries.update(_flatten(path.stem, tomllib.loads(path.read_text(encoding="utf-8"))))
    return entries


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def language_for(code: str | None) -> str:
    """Our language for a Telegram `language_code`: pt*, es*, otherwise English."""
    prefix = (code or "").lower()[:2]
    return prefix if prefix in LANGUAGES else DEFAULT_LANGUAGE


def escape(value: object) -> str:
    if isinstance(value, Html):
        return value
    return html.escape(str(value))


def text(language: str, key: str, **values: object) -> Html:
    """The message `key` in `language`, with `values` escaped into its placeholders."""
    template = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE)[key]
    return Html(template.format(**{name: escape(value) for name, value in values.items()}))


def plain(html_text: str) -> str:
    """Telegram HTML as plain text (for a terminal, an image, a preview): tags dropped, entities
    decoded."""
    return html.unescape(TAG.sub("", html_text))
