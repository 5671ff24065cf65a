"""/trends through the real Application: organisers get a chart of the hashtags' daily volume and
the day's digest; without X or Bluesky they are told how to switch tracking on; anyone else gets
a refusal and nothing more (X1)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.storage import Storage
from messages import keyboards
from tests.support.harness import ORGANISER_ID, make_settings, running_bot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # day 3 of the campaign
STRANGER = 910_000_009


pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, x_bearer_token="test-bearer")


def post(number: int, likes: int, text: str) -> dict:
    return {
        "post_id": str(1_861_000_000_000_000_000 + number),
        "author": f"@supporter{number}",
        "text": text,
        "url": f"https://x.com/supporter{number}/status/{1_861_000_000_000_000_000 + number}",
        "created_at": f"2026-11-27T09:{number:02d}:00+00:00",
        "likes": likes,
        "reposts": 1,
        "replies": 0,
        "quotes": 0,
    }


def seed(storage: Storage) -> None:
    """Two days of #16Days on X and Bluesky, and the most liked post of the day."""
    storage.save_hashtag_counts(
        "x",
        "16Days",
        {"2026-11-26T10:00:00+00:00": 40, "2026-11-27T09:00:00+00:00": 50},
    )
    storage.save_hashtag_counts("bluesky", "16Days", {"2026-11-27T08:00:00+00:00": 10})
    storage.save_hashtag_posts("x", "16Days", [post(1, 25, "Equal protection for all #16Days")])


async def test_trends_sends_the_chart_then_the_days_change_and_top_posts(chat, api):
    seed(chat.storage)

    replies = await chat.send(ORGANISER_ID, "/trends")

    assert [call.method for call in replies] == ["sendPhoto", "sendMessage"]
    [(_, _, photo)] = api.files
    assert photo.startswith(PNG_SIGNATURE)
    assert replies[0].text == "Posts per day by hashtag"
    digest = replies[1].text
    assert "<b>Hashtags on 27 November</b>" in digest
    assert "#16Days: <b>60</b> (Bluesky 10, X 50), ▲ 50% on the day before" in digest
    assert '<a href="https://x.com/supporter1/status/1861000000000000001">@supporter1</a>' in digest
    assert "(interactions: 26)" in digest


async def test_trends_speaks_the_organisers_language(chat):
    seed(chat.storage)
    await chat.send(ORGANISER_ID, "/start", language_code="pt")
    await chat.press(ORGANISER_ID, f"{keyboards.LANGUAGE_PREFIX}pt", language_code="pt")

    photo, digest = await chat.send(ORGANISER_ID, "/trends")

    assert photo.text == "Publicações por dia, por hashtag"
    assert "<b>Hashtags em 27 de novembro</b>" in digest.text


async def test_before_anything_is_counted_the_chart_and_digest_say_so(chat, api):
    replies = await chat.send(ORGANISER_ID, "/trends")

    assert [call.method for call in replies] == ["sendPhoto", "sendMessage"]
    assert api.files[0][2].startswith(PNG_SIGNATURE)
    assert "No posts counted yet." in replies[1].text


async def test_a_digest_longer_than_a_caption_may_be_still_arrives_whole(chat):
    seed(chat.storage)
    for number in range(2, 7):
        chat.storage.save_hashtag_posts("x", "16Days", [post(number, 10, "Safe to report " * 10)])
    chat.storage.raise_tracking_alert("x", "forbidden", "403")
    chat.storage.raise_tracking_alert("bluesky", "unexpected", "418")

    photo, digest = await chat.send(ORGANISER_ID, "/trends")

    assert len(digest.text) > 1024  # Telegram refuses captions over 1024 characters
    assert len(photo.text) <= 1024
    assert "X refused access (403)" in digest.text and "(418)" in digest.text


async def test_without_x_or_bluesky_trends_says_how_to_switch_tracking_on(tmp_path, api):
    async with running_bot(make_settings(tmp_path), api) as chat:
        replies = await chat.send(ORGANISER_ID, "/trends")

    [answer] = replies
    assert answer.method == "sendMessage"
    assert "not switched on yet" in answer.text
    for setting in ("X_BEARER_TOKEN", "BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"):
        assert f"<code>{setting}</code>" in answer.text
    assert api.files == []


async def test_a_non_organiser_gets_a_refusal_and_nothing_else(chat, api):
    seed(chat.storage)

    replies = await chat.send(STRANGER, "/trends")

    assert [call.method for call in replies] == ["sendMessage"]
    assert "only for campaign organisers" in replies[0].text
    assert api.files == []


async def test_with_no_organisers_configured_nobody_gets_trends(tmp_path, api):
    settings = make_settings(tmp_path, organiser_ids=frozenset(), x_bearer_token="test-bearer")
    async with running_bot(settings, api) as chat:
        replies = await chat.send(ORGANISER_ID, "/trends")

    assert [call.method for call in replies] == ["sendMessage"]
    assert "only for campaign organisers" in replies[0].text
    assert api.files == []


@pytest.mark.parametrize(
    ("language", "since"),
    [
        ("en", "Nothing has come from X since 07:40 UTC on 27 November"),
        ("pt", "Nada chega do X desde as 07:40 UTC de 27 de novembro"),
        ("es", "Desde las 07:40 UTC del 27 de noviembre no llega nada de X"),
    ],
)
async def test_trends_says_since_when_a_source_has_been_silent_rather_than_show_a_fall(
    chat, clock, language, since
):
    seed(chat.storage)
    await chat.send(ORGANISER_ID, "/start", language_code=language)
    clock.move_to(NOW.replace(hour=7, minute=40))
    chat.storage.raise_tracking_alert("x", "server_error", "503")
    clock.move_to(NOW.replace(hour=9))
    chat.storage.raise_tracking_alert("x", "network", "TimeoutError")  # the outage goes on
    clock.move_to(NOW)

    _, digest = await chat.send(ORGANISER_ID, "/trends", language_code=language)

    assert since in digest.text
    assert digest.text.count(since) == 1  # one line for the source, however many problems


async def test_trends_says_when_a_source_in_trouble_is_asked_again(chat, clock):
    chat.storage.raise_tracking_alert("x", "server_error", "503")
    clock.move_to(NOW + dt.timedelta(minutes=10))  # the first poll ran at 12:00:30

    _, digest = await chat.send(ORGANISER_ID, "/trends")

    assert "X is having server problems" in digest.text
    assert "The next poll is at 13:00 UTC." in digest.text
