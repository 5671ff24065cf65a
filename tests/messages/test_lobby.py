"""The lobby day's words organisers read while composing one: which texts each language has."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.lobby import Coverage, LobbyEvent
from messages.lobby import dashboard, versions

TWO_OF_THREE = {
    "title": {"en": "Mass lobby", "pt": "Lobby coletivo", "es": "Lobby colectivo"},
    "place": {"en": "Central Lobby", "pt": "Central Lobby", "es": ""},
    "bring": {"en": "Photo ID", "pt": "", "es": ""},
}


@pytest.mark.parametrize(
    ("language", "portuguese", "spanish"),
    [
        (
            "en",
            "• Portuguese: its own title and place; English for the rest",
            "• Spanish: its own title;",
        ),
        (
            "pt",
            "• português, traduzido: nome e local; o resto em inglês",
            "• espanhol, traduzido: nome;",
        ),
        (
            "es",
            "• portugués, traducido: nombre y lugar; el resto en inglés",
            "• español, traducido: nombre;",
        ),
    ],
)
def test_the_translated_texts_are_listed_as_each_language_joins_a_list(
    language, portuguese, spanish
):
    """ "nome e local", not "nome, local", and nothing that must agree with one field or two
    ("nome próprios"); the language names as said mid-sentence."""
    lines = versions(language, TWO_OF_THREE).splitlines()

    assert lines[0] == portuguese
    assert lines[1].startswith(spanish)


def lobby_day_with(going: int, uncovered: list[tuple[str, str, int]]) -> str:
    """The English dashboard of an open lobby day with `going` yeses, nobody from `uncovered`."""
    starts = dt.datetime(2026, 12, 9, 10, tzinfo=dt.UTC)
    event = LobbyEvent(
        id=1,
        title={"en": "Mass lobby"},
        place={"en": "Central Lobby"},
        bring={},
        starts_at=starts,
        rsvp_deadline=starts,
        hashtag="#masslobby",
        status="open",
    )
    coverage = Coverage(
        going=going,
        cancelled=0,
        requests=0,
        mps_by_party={"Labour": going} if going else {},
        uncovered=uncovered,
        outcomes={},
        asked=0,
        stories={},
    )
    two_days_before = starts - dt.timedelta(days=2)
    return dashboard("en", event, ZoneInfo("Europe/London"), two_days_before, coverage)


def test_a_new_lobby_day_does_not_claim_every_constituency_is_covered():
    """With nobody going and no supporter's constituency known, "every constituency with
    supporters has someone going" would tell organisers there is nowhere to recruit."""
    board = lobby_day_with(going=0, uncovered=[])

    assert "Every constituency" not in board
    assert "No supporter's constituency is known yet" in board


def test_where_nobody_is_going_yet_is_listed_or_said_to_be_nowhere():
    assert "• Aldershot: 2" in lobby_day_with(going=1, uncovered=[("E1", "Aldershot", 2)])
    assert "Every constituency with supporters has someone going" in lobby_day_with(1, [])
