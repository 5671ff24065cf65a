"""Telegram's length limits, and long HTML cut into messages that each fit within them.

Telegram counts a message's length after parsing its HTML: tags are free, `&amp;` is one
character, and characters outside the Basic Multilingual Plane (most emoji) count twice, as UTF-16
does. A text over the limit is refused outright ("message is too long"), so anything that can grow
(/mydata, /stats, letters, reports, digests) goes through `split_html` before it is sent.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from telegram.constants import MessageLimit

from messages.i18n import Html

TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4,096 characters of a text, after entity parsing
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1,024 characters of a photo's or file's caption

# A tag, a character reference, or a run of plain characters.
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")


def visible_length(markup: str) -> int:
    """How long Telegram finds `markup` (HTML): its text without tags, references resolved, in
    UTF-16 code units."""
    return telegram_length(_plain(markup))


def telegram_length(plain: str) -> int:
    """How long Telegram finds a plain text (a message as typed): in UTF-16 code units."""
    return len(plain.encode("utf-16-le")) // 2


def _plain(markup: str) -> str:
    """The text of `markup` as a person reads it."""
    tokens = _TOKEN.findall(markup)
    return html.unescape("".join(token for token in tokens if not token.startswith("<")))


@dataclass
class _Piece:
    """A run of tokens that is never cut: a line, or a word of a line too long for a message."""

    tokens: list[str]
    size: int


@dataclass
class _Message:
    reopened: list[str]  # the start tags this message opens with, carried over from the last one
    tokens: list[str] = field(default_factory=list)
    size: int = 0

    def html(self, still_open: list[str]) -> Html:
        """The message, without the line break or space it was cut at, its tags balanced."""
        tokens = list(self.tokens)
        for index in (0, -1):
            plain = [i for i, token in enumerate(tokens) if not token.startswith("<")]
            if plain:
                at = plain[index]
                tokens[at] = tokens[at].lstrip("\n") if index == 0 else tokens[at].rstrip("\n")
        closing = [f"</{_name(tag)}>" for tag in reversed(still_open)]
        return Html("".join(self.reopened + tokens + closing))


def split_html(markup: str, limit: int = TEXT_LIMIT) -> list[Html]:
    """`markup` as few messages as `limit` allows, each at most `limit` characters as Telegram
    counts them (see `visible_length`).

    Cuts fall between lines where possible, then between words, then between characters; never
    inside a tag or a character reference. A tag open at a cut (a <blockquote>, a <b> spanning
    lines) is closed at the end of one message and opened again at the start of the next, so
    every message is valid HTML on its own. A text that fits even with its tags counted is
    returned as it is; in a longer one, parts with nothing visible are dropped.
    """
    if telegram_length(markup) <= limit:
        # Most texts: even counted with their tags, they fit, and are sent as they are.
        return [Html(markup)]
    messages: list[Html] = []
    open_tags: list[str] = []
    current = _Message(reopened=[])
    for piece in _pieces(markup, limit):
        if current.size + piece.size > limit and current.size:
            messages.append(current.html(open_tags))
            current = _Message(reopened=list(open_tags))
        current.tokens += piece.tokens
        current.size += piece.size
        for token in piece.tokens:
            _track(open_tags, token)
    messages.append(current.html(open_tags))
    return [message for message in messages if _plain(message).strip()]


def _pieces(markup: str, limit: int) -> Iterator[_Piece]:
    """Lines (with their line end); a line longer than `limit` as words, a word longer than
    `limit` as single characters."""
    for line in _runs(_TOKEN.findall(markup), "\n"):
        piece = _piece(line)
        if piece.size <= limit:
            yield piece
            continue
        for word in _runs(line, " "):
            piece = _piece(word)
            if piece.size <= limit:
                yield piece
                continue
            yield from (_piece([token]) for token in _characters(word))


def _runs(tokens: list[str], separator: str) -> Iterator[list[str]]:
    """`tokens` in runs that each end just after `separator` (inside plain text) or at the end."""
    run: list[str] = []
    for token in tokens:
        if token.startswith("<") or separator not in token:
            run.append(token)
            continue
        *ended, rest = token.split(separator)
        for part in ended:
            run.append(part + separator)
            yield run
            run = []
        if rest:
            run.append(rest)
    if run:
        yield run


def _characters(tokens: list[str]) -> Iterator[str]:
    """Tags and references whole, plain text one character at a time."""
    for token in tokens:
        if token.startswith(("<", "&")) and len(token) > 1:
            yield token
        else:
            yield from token


def _piece(tokens: list[str]) -> _Piece:
    return _Piece(tokens, visible_length("".join(tokens)))


def _name(tag: str) -> str:
    match = _TAG_NAME.match(tag)
    return match.group(1).lower() if match else ""


def _track(open_tags: list[str], token: str) -> None:
    """Keep `open_tags` (start tags, innermost last) up to date with one more token."""
    if not token.startswith("<") or len(token) < 3:
        return
    name = _name(token)
    if token.startswith("</"):
        for index in range(len(open_tags) - 1, -1, -1):
            if _name(open_tags[index]) == name:
                del open_tags[index]
                break
    elif name and not token.endswith("/>"):
        open_tags.append(token)
