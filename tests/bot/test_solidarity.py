"""Solidarity messages: what is kept of what supporters type, and the printable cards."""

from __future__ import annotations

import logging
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.solidarity import (
    CARD_SLOTS,
    MAX_SIGNATURE_LENGTH,
    Card,
    cards_pdf,
    tidy_message,
    tidy_signature,
    unprintable,
)
from tests.support.pdf import drawn, flat, page_count, pdf_text


def a_card(body: str, signoff: str = "— Ana") -> Card:
    return Card("A message of solidarity for you", body, signoff, "Step Up Migrant Women · #16Days")


# --- tidying what is typed --------------------------------------------------------------------


def test_message_keeps_its_line_breaks_but_not_surrounding_space():
    typed = "  Querida amiga,\r\n\r\n\r\n\r\nVocê não está sozinha.\t\t 💜  \n\n"
    assert tidy_message(typed) == "Querida amiga,\n\nVocê não está sozinha. 💜"


def test_message_of_only_blank_space_or_control_characters_is_empty():
    assert tidy_message(" \n\t \x00\x07 ") == ""
    assert tidy_message(None) == ""


def test_signature_is_one_line():
    assert tidy_signature("  Ana \n Maria\t") == "Ana Maria"
    assert tidy_signature("\n\x1b") == ""


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=3000))
def test_tidied_text_has_no_control_characters_or_edge_space(typed):
    body = tidy_message(typed)
    signature = tidy_signature(typed)
    assert body == body.strip() and signature == signature.strip()
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", body)
    assert "\n" not in signature
    assert "\n\n\n" not in body


# --- the PDF ----------------------------------------------------------------------------------


def test_pdf_prints_each_message_with_its_signature_and_accents():
    cards = [
        a_card("Você não está sozinha. Força, coração!", "— Conceição"),
        a_card("No estás sola. ¡Ánimo, compañera!", "— alguien que está contigo"),
    ]
    pdf = cards_pdf(cards, title="Solidarity messages")
    assert pdf.startswith(b"%PDF-")
    shown = flat(pdf_text(pdf))
    for expected in (
        "Você não está sozinha. Força, coração!",
        "— Conceição",
        "No estás sola. ¡Ánimo, compañera!",
        "— alguien que está contigo",
        "A message of solidarity for you",
    ):
        assert expected in shown


def test_four_cards_share_a_page_and_the_fifth_starts_another():
    assert page_count(cards_pdf([a_card(f"Message {n}") for n in range(4)], title="t")) == 1
    assert page_count(cards_pdf([a_card(f"Message {n}") for n in range(5)], title="t")) == 2


def test_each_message_sits_in_its_own_card():
    bodies = [f"Card {n} says: {' '.join(['juntas somos mais fortes'] * 6)}" for n in range(4)]
    pdf = cards_pdf([a_card(body, f"— Signer {n}") for n, body in enumerate(bodies)], title="t")
    pieces = drawn(pdf)
    for n, slot in enumerate(CARD_SLOTS):
        mine = pieces[pieces.index(next(p for p in pieces if p.text.startswith(f"Card {n}"))) :]
        mine = mine[: next(i for i, p in enumerate(mine) if p.text == f"— Signer {n}") + 1]
        assert flat(" ".join(p.text for p in mine[:-1])) == flat(bodies[n])
        for piece in mine:
            assert slot.left < piece.x < slot.left + slot.width, (n, piece)
            assert slot.top < piece.y < slot.top + slot.height, (n, piece)
        lines = [round(piece.y, 1) for piece in mine]
        assert len(lines) == len(set(lines))  # no line drawn over another


def test_emoji_and_other_scripts_are_printed():
    body = "Força 💜 ✊🏽 ★ مرحبا يا أختي שלום לך नमस्ते ሰላም Ἀθῆναι Привет"
    shown = pdf_text(cards_pdf([a_card(body, "— Ana 🌈")], title="t"))
    for word in [*body.split(), "🌈"]:
        assert word in shown, word
    assert unprintable(body) == []


def test_chinese_and_japanese_are_named_to_the_moderator_and_left_out_of_the_card(caplog):
    caplog.set_level(logging.DEBUG)
    body = "加油 姐妹 がんばって Força!"
    assert unprintable(body) == ["加", "油", "姐", "妹", "が", "ん", "ば", "っ", "て"]
    shown = pdf_text(cards_pdf([a_card(body)], title="t"))
    assert "Força!" in shown
    assert "\ufffd" not in shown and "加" not in shown
    assert "missing" not in caplog.text and "加" not in caplog.text


def test_invisible_joiners_are_not_named_to_the_moderator():
    assert unprintable("👩\u200d🦱 \ufe0f\u2066x\u2069 \u00ad") == []


def test_a_long_message_still_fits_whole_on_its_own_page():
    long_body = ("Nenhuma mulher deve ter medo de pedir ajuda. " * 70)[:3000]
    unbroken = "W" * 3000
    pdf = cards_pdf([a_card("short"), a_card(long_body), a_card(unbroken)], title="t")
    shown = flat(pdf_text(pdf))
    assert flat(long_body) in shown
    assert unbroken in shown.replace(" ", "")
    assert page_count(pdf) == 3


@settings(max_examples=30, deadline=None)
@given(body=st.text(max_size=600), signature=st.text(max_size=MAX_SIGNATURE_LENGTH))
def test_any_text_makes_a_valid_pdf(body, signature):
    assert cards_pdf([a_card(body, f"— {signature}")], title="t").startswith(b"%PDF-")
