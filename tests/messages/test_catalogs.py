"""Every string a person reads exists in English, Portuguese and Spanish, with the same
placeholders, and renders as HTML Telegram accepts."""

from __future__ import annotations

import datetime as dt

import pytest

from messages.core import date
from messages.i18n import LANGUAGES, catalog, placeholders, text
from tests.support.harness import tags_in

# The tags Telegram's HTML parse mode accepts.
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}


def test_the_three_catalogs_have_the_same_keys():
    english = set(catalog("en"))
    for language in LANGUAGES:
        assert set(catalog(language)) == english, language


@pytest.mark.parametrize("language", ["pt", "es"])
def test_placeholders_match_english(language):
    mismatched = {
        key: (placeholders(english), placeholders(catalog(language)[key]))
        for key, english in catalog("en").items()
        if placeholders(english) != placeholders(catalog(language)[key])
    }
    assert mismatched == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_uses_only_telegram_html(language):
    for key, template in catalog(language).items():
        assert tags_in(template) <= TELEGRAM_TAGS, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_empty(language):
    assert all(value.strip() for value in catalog(language).values())


def test_values_are_escaped_once_at_render_time():
    rendered = text("en", "core.menu.item_done", action="<b>x</b> & y")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in rendered


def test_dates_read_the_same_whatever_babel_release_is_installed():
    """Our own patterns, not a locale skeleton whose rendering changed in Babel 2.19."""
    day = dt.date(2026, 11, 28)
    assert date("en", day) == "28 November"
    assert date("en", day, with_year=True) == "28 November 2026"
    assert date("pt", day, with_year=True) == "28 de novembro de 2026"
    assert date("es", day, with_year=True) == "28 de noviembre de 2026"
