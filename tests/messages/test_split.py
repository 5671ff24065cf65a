"""Long texts reach people within Telegram's limits, as valid HTML, with nothing lost."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

# What Telegram shows for a message, refusing it (EntityError) as Telegram would.
from bot.app.offline import parsed_text
from messages.split import CAPTION_LIMIT, TEXT_LIMIT, split_html, visible_length


def test_a_short_text_is_one_message_unchanged():
    assert split_html("<b>Hello</b>\nthere") == ["<b>Hello</b>\nthere"]


def test_length_is_counted_as_telegram_counts_it():
    assert visible_length('<a href="https://example.org/a-long-address">link</a>') == 4
    assert visible_length("&lt;b&gt; &amp;") == 5
    assert visible_length("💜") == 2  # outside the BMP: two UTF-16 units


def test_lines_are_kept_whole_when_they_fit():
    lines = [f"line {number:04d} " + "x" * 80 for number in range(200)]
    messages = split_html("\n".join(lines))
    assert len(messages) > 1
    for message in messages:
        assert visible_length(message) <= TEXT_LIMIT
        assert all(line.startswith("line ") and len(line) == 90 for line in message.split("\n"))
    assert "\n".join(messages).split("\n") == lines


def test_a_quote_spanning_the_cut_is_closed_and_opened_again():
    letter = "\n".join("a sentence of the letter" for _ in range(400))
    body = f"<blockquote>{letter}</blockquote>"
    messages = split_html(body)
    assert len(messages) > 1
    for message in messages:
        assert message.startswith("<blockquote>") and message.endswith("</blockquote>")
        parsed_text(message)


def test_a_link_is_reopened_with_its_address():
    body = '<a href="https://example.org/?a=1&amp;b=2">' + "word " * 1000 + "</a>"
    messages = split_html(body)
    assert len(messages) > 1
    assert all(m.startswith('<a href="https://example.org/?a=1&amp;b=2">') for m in messages)


def test_a_caption_limit_can_be_asked_for():
    messages = split_html("é " * 1000, CAPTION_LIMIT)
    assert all(visible_length(message) <= CAPTION_LIMIT for message in messages)


markup_pieces = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300).map(html.escape),
    st.sampled_from(["\n", " ", "\n\n", "💜", "&amp;", "&lt;", "x" * 500]),
)


@st.composite
def telegram_html(draw) -> str:
    """Well-formed Telegram HTML: escaped text, nested b/i/blockquote/a, many lines."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        tag = draw(st.sampled_from([None, "b", "i", "blockquote", "a", "pre", "code"]))
        inner = "".join(draw(st.lists(markup_pieces, max_size=8)))
        if tag is None:
            parts.append(inner)
        elif tag == "a":
            parts.append(f'<a href="https://example.org/x">{inner}</a>')
        else:
            parts.append(f"<{tag}>{inner}</{tag}>")
    return "".join(parts)


@given(telegram_html(), st.sampled_from([TEXT_LIMIT, CAPTION_LIMIT, 50]))
def test_every_piece_fits_is_valid_and_nothing_is_lost(markup, limit):
    messages = split_html(markup, limit)
    for message in messages:
        assert visible_length(message) <= limit
    texts = [parsed_text(message) for message in messages]
    # Only the spaces and line breaks where a message was cut may go.
    assert "".join("".join(texts).split()) == "".join(parsed_text(markup).split())
