"""Solidarity messages: tidying what supporters type, and printing approved ones as cards.

A supporter's message waits in a moderation queue (status pending -> approved or rejected).
Approved messages are printed for refuges as A6 cards, four to an A4 page with cut lines, in
Noto Sans, falling back to DejaVu Sans and the Noto fonts for symbols, emoji and other scripts
(Arabic, Hebrew, Devanagari, Ethiopic...), with HarfBuzz shaping so joined and right-to-left
scripts print as written. Chinese, Japanese and Korean are not covered (their fonts are 30 MB):
moderators see which characters a card would leave out before they approve it
(`unprintable`), and the PDF leaves them out rather than printing boxes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import manimgx_fonts

if TYPE_CHECKING:
    from fpdf import FPDF

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
MAX_SIGNATURE_LENGTH = 40

FONT = "NotoSans"  # the first of fonts()
PAGE_MM = (210.0, 297.0)  # A4, portrait
PADDING_MM = 10.0
HEADING_PT = 13
SIGNOFF_PT = 11
FOOTER_PT = 8
# Body text shrinks until the message fits. On an A6 card it stays readable; a message too long
# for that gets a page of its own, where even the longest a campaign file allows (3000 characters)
# fits.
CARD_SIZES_PT = range(14, 7, -1)
PAGE_SIZES_PT = range(14, 5, -1)
LINE_SPACING = 1.35
PT_TO_MM = 25.4 / 72
CUT_LINE_GREY = 170

_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class Card:
    """What one printed card says, in plain text (not HTML), in the message's language."""

    heading: str
    body: str
    signoff: str
    footer: str


def tidy_message(typed: str | None) -> str:
    """The message as typed, without control characters or surrounding and repeated blank space;
    line breaks inside it are kept."""
    lines = _without_controls((typed or "").replace("\r\n", "\n"), keep="\n").split("\n")
    joined = "\n".join(_SPACES.sub(" ", line).strip() for line in lines)
    return _BLANK_LINES.sub("\n\n", joined).strip()


def tidy_signature(typed: str | None) -> str:
    """A name or initials on one line, spaces collapsed."""
    return " ".join(_without_controls(typed or "", keep="").split())


def _without_controls(text: str, keep: str) -> str:
    return "".join(
        char if char in keep or unicodedata.category(char) != "Cc" else " " for char in text
    )


@functools.cache
def fonts() -> dict[str, Path]:
    """The fonts cards are printed in, by name: the main one first, then the fallbacks in the
    order fpdf2 tries them for a character the ones before lack. DejaVu Sans (shipped with
    matplotlib) comes last for the symbols Noto leaves out, such as ★."""
    import matplotlib

    noto = Path(manimgx_fonts.__file__).parent
    scripts = sorted(
        path
        for path in noto.glob("NotoSans?*.ttf")
        if not path.name.startswith(("NotoSans[", "NotoSans-", "NotoSansSymbols"))
    )
    paths = [
        noto / "NotoSans[wght].ttf",
        noto / "NotoSansSymbols[wght].ttf",
        noto / "NotoEmoji[wght].ttf",
        *scripts,
        Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf",
    ]
    return {path.name.split("[")[0].removesuffix(".ttf"): path for path in paths}


@functools.cache
def _coverage() -> dict[str, frozenset[int]]:
    """The code points each font has a glyph for."""
    from fontTools.ttLib import TTFont

    return {
        name: frozenset(TTFont(path, lazy=True)["cmap"].getBestCmap())
        for name, path in fonts().items()
    }


@functools.cache
def _drawable() -> frozenset[int]:
    """Every code point some card font has a glyph for."""
    return frozenset().union(*_coverage().values())


def _fonts_for(code_points: set[int]) -> list[str]:
    """The main font and each fallback that draws one of `code_points` the fonts before it
    cannot: fpdf2 embeds every font it is given, and each costs a tenth of a second or more."""
    needed: list[str] = []
    covered: frozenset[int] = frozenset()
    for name, coverage in _coverage().items():
        if not needed or (code_points - covered) & coverage:
            needed.append(name)
            covered |= coverage
    return needed


def unprintable(message: str) -> list[str]:
    """The visible characters of `message` no card font can draw, each once, in order: what the
    printed card would leave out (e.g. Chinese, Japanese, Korean). Invisible formatting
    characters are not listed."""
    drawable = _drawable()
    missing = (
        char
        for char in message
        if ord(char) not in drawable
        and not char.isspace()
        and unicodedata.category(char) not in ("Cc", "Cf", "Mn")
    )
    return list(dict.fromkeys(missing))


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, in millimetres from the top left."""

    left: float
    top: float
    width: float
    height: float


WHOLE_PAGE = Box(0, 0, *PAGE_MM)
# Four A6 cards to an A4 page: top left, top right, bottom left, bottom right.
CARD_SLOTS = tuple(
    Box(column * PAGE_MM[0] / 2, row * PAGE_MM[1] / 2, PAGE_MM[0] / 2, PAGE_MM[1] / 2)
    for row in (0, 1)
    for column in (0, 1)
)


def cards_pdf(cards: list[Card], *, title: str) -> bytes:
    """A printable PDF of `cards`: A6 cards, four to an A4 page with cut lines; a message too long
    for a card gets a page of its own."""
    # fpdf2 is slow to import: only /moderate pdf pays for it.
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    pdf.set_creator("stepup-bot")
    cards = [_printable(card) for card in cards]
    used = {ord(char) for card in cards for part in astuple(card) for char in part}
    needed = _fonts_for(used)  # FONT first
    for name in needed:
        pdf.add_font(name, fname=fonts()[name])
    pdf.set_font(FONT)
    pdf.set_fallback_fonts(needed[1:])
    pdf.set_text_shaping(True)
    pdf.add_page()  # measuring text needs a page
    fresh_page = True
    free_slots: list[Box] = []
    for card in cards:
        size = _body_size(pdf, card, CARD_SLOTS[0], CARD_SIZES_PT)
        if size is None:
            if not fresh_page:
                pdf.add_page()
            whole_page_size = _body_size(pdf, card, WHOLE_PAGE, PAGE_SIZES_PT)
            _draw_card(pdf, card, WHOLE_PAGE, whole_page_size or PAGE_SIZES_PT[-1])
            fresh_page, free_slots = False, []
            continue
        if not free_slots:
            if not fresh_page:
                pdf.add_page()
            _cut_lines(pdf)
            free_slots = list(CARD_SLOTS)
        _draw_card(pdf, card, free_slots.pop(0), size)
        fresh_page = False
    return bytes(pdf.output())


def _printable(card: Card) -> Card:
    """The card without characters no font has a glyph for: fpdf2 would warn, naming them in
    the log, and print nothing (the moderator was told which when approving)."""
    drawable = _drawable()

    def keep(text: str) -> str:
        kept = "".join(char for char in text if char == "\n" or ord(char) in drawable)
        return "\n".join(_SPACES.sub(" ", line).strip() for line in kept.split("\n")).strip()

    return Card(keep(card.heading), keep(card.body), keep(card.signoff), keep(card.footer))


def _cut_lines(pdf: FPDF) -> None:
    pdf.set_draw_color(CUT_LINE_GREY)
    pdf.set_dash_pattern(dash=2, gap=2)
    pdf.line(PAGE_MM[0] / 2, 0, PAGE_MM[0] / 2, PAGE_MM[1])
    pdf.line(0, PAGE_MM[1] / 2, PAGE_MM[0], PAGE_MM[1] / 2)
    pdf.set_dash_pattern()


def _lines(pdf: FPDF, text: str, width: float, size_pt: int) -> int:
    pdf.set_font(FONT, size=size_pt)
    return len(pdf.multi_cell(width, _line_height(size_pt), text, dry_run=True, output="LINES"))


def _body_size(pdf: FPDF, card: Card, box: Box, sizes: range) -> int | None:
    """The largest of `sizes` at which the body fits in `box` with everything else, or None."""
    width = box.width - 2 * PADDING_MM
    heading = _lines(pdf, card.heading, width, HEADING_PT) * _line_height(HEADING_PT)
    room = box.height - 2 * PADDING_MM - heading - _fixed_lines_height()
    for size in sizes:
        if _lines(pdf, card.body, width, size) * _line_height(size) <= room:
            return size
    return None


def _fixed_lines_height() -> float:
    """The gap under the heading, the signoff with a line of space above it, and the footer."""
    return _line_height(FOOTER_PT) * 2 + _line_height(SIGNOFF_PT) * 2


def _draw_card(pdf: FPDF, card: Card, box: Box, body_pt: int) -> None:
    x = box.left + PADDING_MM
    width = box.width - 2 * PADDING_MM
    bottom = box.top + box.height - PADDING_MM
    footer_height = _line_height(FOOTER_PT)
    signoff_height = _line_height(SIGNOFF_PT)

    pdf.set_xy(x, box.top + PADDING_MM)
    pdf.set_font(FONT, size=HEADING_PT)
    pdf.multi_cell(width, _line_height(HEADING_PT), card.heading, align="C", new_x="LEFT")
    # set_xy, not ln(): ln() goes back to the page margin, under the left-hand card.
    pdf.set_xy(x, pdf.get_y() + footer_height)
    pdf.set_font(FONT, size=body_pt)
    pdf.multi_cell(width, _line_height(body_pt), card.body, align="L", new_x="LEFT")

    pdf.set_xy(x, bottom - footer_height - signoff_height)
    pdf.set_font(FONT, size=SIGNOFF_PT)
    pdf.cell(width, signoff_height, card.signoff, align="R")
    pdf.set_xy(x, bottom - footer_height)
    pdf.set_font(FONT, size=FOOTER_PT)
    pdf.cell(width, footer_height, card.footer, align="C")


def _line_height(size_pt: int) -> float:
    return size_pt * PT_TO_MM * LINE_SPACING
