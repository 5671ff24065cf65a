"""Reading back the PDFs the bot draws, as a viewer would show them."""

from __future__ import annotations

import re
import zlib


def pdf_text(pdf: bytes) -> str:
    """The text a PDF viewer would show, one drawn line per line: page content is inflated, and
    each glyph id is read back through the font's ToUnicode map (fpdf2 embeds one subset font)."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            streams.append(raw.decode("latin-1"))
    content = "\n".join(streams)
    glyphs = {
        int(code, 16): chr(int(char, 16))
        for block in re.findall(r"beginbfchar(.*?)endbfchar", content, re.S)
        for code, char in re.findall(r"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4,8})>", block)
    }
    lines = []
    for drawn in re.findall(r"\(((?:\\.|[^\\)])*)\) Tj", content, re.S):
        codes = re.sub(r"\\(.)", lambda m: "\r" if m[1] == "r" else m[1], drawn, flags=re.S)
        encoded = codes.encode("latin-1")
        lines.append(
            "".join(
                glyphs.get(int.from_bytes(encoded[i : i + 2], "big"), "\ufffd")
                for i in range(0, len(encoded), 2)
            )
        )
    return "\n".join(lines)


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces as single spaces, to compare wrapped lines."""
    return " ".join(text.split())
