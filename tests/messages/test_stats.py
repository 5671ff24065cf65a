"""The organisers' figures as they read them: /stats in each language, split within Telegram's
limit, the terminal text and the chart; counted by hand in tests/support/figures.py."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import delivery
from bot.stats import gather_stats
from messages.i18n import LANGUAGES
from messages.split import TEXT_LIMIT, split_html, visible_length
from messages.stats import actions_chart, format_stats_text, render_stats
from tests.support.figures import NOW, action, supporter

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_report_shows_the_figures_and_escapes_stored_names(stats):
    report = render_stats("en", stats)
    for expected in (
        "<b>Supporters</b>: 6 · getting the daily prompt: 3",
        "By language: English 4 · Portuguese 1 · Spanish 1",
        "25 November: 2",
        "Signed the petition: 3 (50%)",
        "Sent solidarity: 2 (33%)",
        "1. Ynys Môn &amp; &lt;Anglesey&gt;: <b>2</b> · supportive 1 · form letter 1",
        "2. Glasgow North: <b>1</b> · no replies reported yet",
        "Joined through supporters' referral links: 3 · links that brought someone: 2",
        "<code>AAAA</code> 2",
        "Opened from campaign links: mp 1",
        "#6 broadcast",
        "sent 2 · blocked 1 · unknown 1",
        "waiting for moderation 2 · approved 1",
    ):
        assert expected in report
    assert "<Anglesey>" not in report


def test_a_scheduled_broadcast_is_listed_under_the_day_it_goes_out(storage, campaign):
    christmas = dt.datetime(2026, 12, 25, 10, tzinfo=dt.UTC)
    delivery.create_broadcast(storage, texts={"en": "Merry"}, scheduled_for=christmas)
    report = render_stats("en", gather_stats(storage, campaign, NOW))
    assert "#1 broadcast, 25 December, scheduled" in report


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_in_each_language_with_its_number_format(storage, language, campaign):
    storage.db["supporters"].insert_all(
        supporter(user_id, "pt", "2026-11-26T10:00:00+00:00") for user_id in range(1, 1235)
    )
    report = render_stats(language, gather_stats(storage, campaign, NOW))
    assert {"en": "1,234", "pt": "1.234", "es": "1,234"}[language] in report
    assert {"en": "Supporters", "pt": "Pessoas apoiadoras", "es": "Simpatizantes"}[
        language
    ] in report


def test_spanish_figures_are_written_as_latin_american_readers_write_them(stats):
    """es_419, not Spain's "es": 1,234 and 50%, as in Mexico and in the UK around our readers."""
    report = render_stats("es", stats)
    assert "Firmaron la petición: 3 (50%)" in report
    assert "Enviaron solidaridad: 2 (33%)" in report
    assert "50 %" not in report


def test_an_empty_database_reports_zeros_in_every_language(storage, campaign):
    stats = gather_stats(storage, campaign, NOW)
    for language in LANGUAGES:
        assert render_stats(language, stats)
    report = render_stats("en", stats)
    assert "<b>Supporters</b>: 0" in report
    assert "By language: English 0 · Portuguese 0 · Spanish 0" in report
    assert "No letters yet." in report
    assert "No broadcasts yet." in report
    assert "Nobody has joined through a link yet." in report


def test_a_long_report_is_split_within_telegrams_limit(storage, campaign):
    long_name = "Very Long Constituency Name " * 12
    storage.db["supporters"].insert_all(
        supporter(number, "en", "2026-11-26T10:00:00+00:00", seat=f"E{number}")
        | {"constituency_name": long_name}
        for number in range(1, 21)
    )
    storage.db["actions"].insert_all(
        action(number, "mp_letter_sent", "2026-11-26T10:00:00+00:00", f"E{number}")
        for number in range(1, 21)
    )
    stats = gather_stats(storage, campaign, NOW)
    messages = split_html(render_stats("en", stats))
    assert len(messages) > 1
    assert all(visible_length(message) <= TEXT_LIMIT for message in messages)
    # Nothing lost or repeated: only where the report breaks differs.
    assert " ".join(messages).split() == render_stats("en", stats).split()


def test_terminal_text_has_the_same_figures_without_html(stats):
    printed = format_stats_text(stats)
    assert "Supporters: 6 · getting the daily prompt: 3" in printed
    assert "1. Ynys Môn & <Anglesey>: 2" in printed
    assert "<b>" not in printed


def test_chart_is_a_png_with_data_and_without(stats, storage, campaign):
    assert actions_chart("en", stats).startswith(PNG_SIGNATURE)
    empty = gather_stats(storage, campaign, NOW)
    assert actions_chart("pt", empty).startswith(PNG_SIGNATURE)
