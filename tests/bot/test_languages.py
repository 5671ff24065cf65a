"""Which language a supporter's sentence is in, offline, for the MP letter's language check."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.languages import written_in


@pytest.mark.parametrize(
    ("sentence", "language"),
    [
        ("My sister went through this and had nowhere to go.", "en"),
        ("No woman should be afraid to ask for help.", "en"),
        ("I'm a mum and I want a fairer country.", "en"),
        ("Minha irmã passou por isso e não teve para onde ir.", "pt"),
        ("Nenhuma mulher deveria ter medo de pedir ajuda.", "pt"),
        ("Sou mãe e quero um país mais justo.", "pt"),
        ("Mi hermana pasó por esto y no tuvo adónde ir.", "es"),
        ("Ninguna mujer debería tener miedo de pedir ayuda.", "es"),
        ("Soy madre y quiero un país más justo.", "es"),
    ],
)
def test_a_sentence_is_placed_in_its_language(sentence, language):
    assert written_in(sentence) == language


@pytest.mark.parametrize("sentence", ["ok", "Ana Silva", "💜💜💜", "12345 678", ""])
def test_too_little_to_tell_is_no_language(sentence):
    assert written_in(sentence) is None


def test_the_model_is_reported_loaded_only_once_it_is():
    """Until then a sentence goes to a thread: loading takes about a second, which on the event
    loop every supporter would wait out (issue 11)."""
    probe = (
        "from bot import languages; print(languages.loaded());"
        "languages.written_in('Estamos con todas las sobrevivientes'); print(languages.loaded())"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert shown.stdout.split() == ["False", "True"]
