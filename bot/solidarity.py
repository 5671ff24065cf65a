"""Solidarity messages: tidying what supporters type, and printing approved ones as cards.

A supporter's message waits in a moderation queue (status pending -> approved or rejected).
Approved messages are printed for refuges as A6 cards, four to an A4 page with cut lines, in
DejaVu Sans (shipped with matplotlib) so Portuguese and Spanish accents print. Characters the
font cannot draw (most emoji) are left out rather than printed as boxes or crashing the export.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
MAX_SIGNATURE_LENGTH = 40

FONT = "DejaVu"
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
VARIATION_SELECTORS = ("\ufe00", "\ufe0f")

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


def font_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


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
    # fpdf2 (and matplotlib, for the font) are slow to import: only /moderate pdf pays for them.
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    pdf.set_creator("stepup-bot")
    pdf.add_font(FONT, fname=font_path())
    pdf.set_font(FONT)
    drawable = frozenset(pdf.current_font.cmap)
    pdf.add_page()  # measuring text needs a page
    fresh_page = True
    free_slots: list[Box] = []
    for card in (_printable(card, drawable) for card in cards):
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


def _printable(card: Card, drawable: frozenset[int]) -> Card:
    """The card without characters the font has no glyph for (fpdf2 would only warn, naming them
    in the log, and print nothing), nor the invisible joiners and selectors that held emoji
    together."""

    def printable(char: str) -> bool:
        return char == "\n" or (
            ord(char) in drawable
            and unicodedata.category(char) != "Cf"
            and not VARIATION_SELECTORS[0] <= char <= VARIATION_SELECTORS[1]
        )

    def keep(text: str) -> str:
        kept = "".join(char for char in text if printable(char))
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
    pdf.ln(footer_height)
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
