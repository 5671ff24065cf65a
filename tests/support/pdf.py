"""Reading back the PDFs the bot makes, as a viewer would: the text drawn and where (pypdf)."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pypdf import PdfReader

MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Drawn:
    """One piece of text as a PDF viewer draws it: where it starts, in millimetres from the top
    left of its page."""

    text: str
    page: int
    x: float
    y: float


def drawn(pdf: bytes) -> list[Drawn]:
    """Every piece of text drawn in the PDF, read back by pypdf through the fonts' ToUnicode
    maps, in drawing order (kerning offsets it reads as control characters are dropped)."""
    pieces: list[Drawn] = []
    for number, page in enumerate(PdfReader(BytesIO(pdf)).pages):
        height = float(page.mediabox.height)

        def visit(text, cm, tm, font, size, number=number, height=height):
            text = "".join(char for char in text if char >= " " or char == "\n").strip()
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            if text:
                pieces.append(Drawn(text, number, x * MM_PER_PT, (height - y) * MM_PER_PT))

        page.extract_text(visitor_text=visit)
    return pieces


def pdf_text(pdf: bytes) -> str:
    """The text a PDF viewer would show, one drawn piece per line."""
    return "\n".join(piece.text for piece in drawn(pdf))


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces as single spaces, to compare wrapped lines."""
    return " ".join(text.split())


def page_count(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)
