"""Hashtag tracking as organisers read it: the digest (escaped post text, changes, problems
still open) and the trends catalog in every language."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import tracking
from messages import trends
from messages.i18n import LANGUAGES, catalog, placeholders
from tests.support.figures import hashtag_counts

NOW = dt.datetime(2026, 11, 25, 10, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "<b>Hashtags on 25 November</b>"),
        ("pt", "<b>Hashtags em 25 de novembro</b>"),
        ("es", "<b>Hashtags del 25 de noviembre</b>"),
    ],
)
def test_digest_shows_volumes_change_top_posts_and_open_problems(storage, language, title):
    hashtag_counts(storage)
    storage.save_hashtag_posts(
        "x",
        "16Days",
        [
            {
                "post_id": "1",
                "author": "@lawrs",
                "text": "Equal protection <b>now</b> & always #16Days",
                "url": "https://x.com/lawrs/status/1",
                "created_at": "2026-11-25T09:10:00+00:00",
                "likes": 10,
                "reposts": 2,
                "replies": 1,
                "quotes": 0,
            }
        ],
    )
    storage.raise_tracking_alert("x", "forbidden", "403")

    digest = trends.render_digest(language, tracking.digest(storage, NOW.date()))

    assert title in digest and "2026-11-25" not in digest  # the day as the organiser writes it
    assert "#16Days" in digest and "<b>80</b>" in digest
    assert "60%" in digest  # 80 against 50 the day before
    assert '<a href="https://x.com/lawrs/status/1">@lawrs</a>' in digest
    assert "&lt;b&gt;now&lt;/b&gt; &amp; always" in digest  # post text is escaped
    assert "13" in digest  # likes + reposts + replies + quotes
    assert "403" in digest


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "#16Days: <b>1,500</b> (Bluesky 300, X 1,200), ▲ 1,400%"),
        ("pt", "#16Days: <b>1.500</b> (Bluesky 300, X 1.200), ▲ 1.400%"),
        ("es", "#16Days: <b>1,500</b> (Bluesky 300, X 1,200), ▲ 1,400%"),
    ],
)
def test_the_digest_writes_numbers_as_each_language_does(language, line):
    change = tracking.DayChange("16Days", {"x": 1200, "bluesky": 300}, previous=100)

    digest = trends.render_digest(language, tracking.Digest(NOW.date(), [change], []))

    assert line in digest


def test_digest_says_plainly_when_nothing_is_tracked_yet(storage):
    digest = trends.render_digest("en", tracking.digest(storage, NOW.date()))

    assert "No posts counted yet." in digest and "No posts found yet." in digest


def test_trends_messages_exist_in_every_language_with_the_same_placeholders():
    english = {k: v for k, v in catalog("en").items() if k.startswith("trends.")}
    for language in LANGUAGES:
        other = {k: v for k, v in catalog(language).items() if k.startswith("trends.")}
        assert other.keys() == english.keys(), language
        for key, template in english.items():
            assert placeholders(other[key]) == placeholders(template), (language, key)
    problems = {
        "unauthorized",
        "forbidden",
        "rate_limited",
        "server_error",
        "network",
        "unexpected",
    }
    assert {f"trends.problem_{problem}" for problem in problems} <= english.keys()
