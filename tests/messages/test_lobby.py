"""The lobby day's words organisers read while composing one: which texts each language has."""

from __future__ import annotations

import pytest

from messages.lobby import versions

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
