"""The daily prompt's words: what supporters, the channel and X read each day (X's own way of
counting characters included), and the /schedule overview organisers read."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import daily
from bot.campaign import LANGUAGES
from bot.config import Settings
from messages import daily as words
from messages import text

THIRD_DAY = dt.date(2026, 11, 27)


# --- what the prompt says ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_prompt_names_the_day_carries_the_hashtags_and_the_days_text(campaign, language):
    prompt = words.prompt_text(campaign, 3, language, "StepUpBot")
    assert prompt.startswith(text(language, "daily.heading", day=3, total=16))
    assert "#16Days #StepUpMigrantWomen" in prompt
    first_words = campaign.prompt_for_day(3).text(language).split()[:4]
    assert " ".join(first_words) in prompt


@pytest.mark.parametrize("language", LANGUAGES)
def test_only_the_last_prompt_offers_what_comes_next_with_a_link_to_the_messages_screen(
    campaign, language
):
    """Issue 13: what comes next was only on the Messages screen. It is offered once, in the
    last prompt, so nobody who didn't ask for prompts gets a message for it."""
    offer = words.whats_next_offer(campaign, language, "StepUpBot")
    assert 'href="https://t.me/StepUpBot?start=messages"' in offer
    last = campaign.total_days
    assert words.prompt_text(campaign, last, language, "StepUpBot").endswith(offer)
    for day in range(1, last):
        assert offer not in words.prompt_text(campaign, day, language, "StepUpBot")


@pytest.mark.parametrize("language", LANGUAGES)
def test_prompt_button_opens_the_days_journey_by_deep_link(campaign, language):
    button = words.prompt_button(campaign, "StepUpBot", 2, language)
    assert button.url == "https://t.me/StepUpBot?start=mp"
    assert button.label == text(language, "daily.button_mp")


def test_a_campaign_text_with_markup_characters_is_escaped(campaign):
    prompt = campaign.prompt_for_day(1)
    risky = campaign.model_copy(
        update={
            "daily_prompts": (
                prompt.model_copy(
                    update={"text": prompt.text.model_copy(update={"en": "Sign <now> & share"})}
                ),
                *campaign.daily_prompts[1:],
            )
        }
    )
    assert "Sign &lt;now&gt; &amp; share" in words.prompt_text(risky, 1, "en", "StepUpBot")
    assert "Sign <now> & share" in words.x_text(risky, "StepUpBot", 1)  # X is plain text


def test_channel_post_is_english_with_portuguese_and_spanish_below(campaign):
    post = words.channel_text(campaign, 3)
    positions = [post.index(campaign.prompt_for_day(3).text(lang)[:20]) for lang in LANGUAGES]
    assert positions == sorted(positions)
    assert post.endswith("#16Days #StepUpMigrantWomen")
    markup = words.channel_markup(campaign, "StepUpBot", 3)
    urls = {row[0].url for row in markup.inline_keyboard}
    assert urls == {"https://t.me/StepUpBot?start=solidarity"}
    assert len(markup.inline_keyboard) == len(LANGUAGES)


@pytest.mark.parametrize("day", range(1, 17))
def test_every_x_post_fits_280_characters_with_hashtags_and_link(campaign, day):
    post = words.x_text(campaign, "StepUpBot", day)
    link = daily.deep_link("StepUpBot", campaign.prompt_for_day(day).journey)
    assert words.x_length(post, link) <= 280
    assert post.startswith(f"Day {day} of 16: ")
    assert link in post
    assert post.endswith("#16Days #StepUpMigrantWomen")


def test_a_long_prompt_is_trimmed_at_a_word_for_x_keeping_link_and_hashtags(campaign):
    long_text = "Equal protection for every survivor whatever her status " * 12
    prompt = campaign.prompt_for_day(1)
    long_campaign = campaign.model_copy(
        update={
            "daily_prompts": (
                prompt.model_copy(
                    update={"text": prompt.text.model_copy(update={"en": long_text.strip()})}
                ),
                *campaign.daily_prompts[1:],
            )
        }
    )
    post = words.x_text(long_campaign, "StepUpBot", 1)
    link = daily.deep_link("StepUpBot", "petition")
    assert words.x_length(post, link) <= 280
    assert post.endswith(f"…\n{link}\n\n#16Days #StepUpMigrantWomen")
    trimmed = post.split("…")[0].removeprefix("Day 1 of 16: ")
    assert long_text.startswith(trimmed)
    assert long_text[len(trimmed)] == " "  # cut between words, not inside one


def test_x_counts_links_as_23_and_emoji_as_two():
    link = "https://t.me/StepUpBot?start=petition"
    assert words.x_length(f"a {link}", link) == 2 + 23
    assert words.x_length("💜é", link) == 3


# --- the organisers' overview --------------------------------------------------------------------


def test_schedule_overview_lists_the_coming_prompts_after_today(campaign):
    settings = Settings(_env_file=None)
    overview = words.render_schedule("en", campaign, settings, THIRD_DAY, None, paused=False)
    assert "09:00 (British Time)" in overview
    assert "Today, 27 November: day 3 of 16" in overview
    assert "Not sent yet: it goes out at 09:00." in overview
    assert "28 November · day 4 · share: <i>Every share brings new supporters." in overview
    assert "day 3 ·" not in overview  # today's is shown above, not as coming
    assert "10 December · day 16" in overview


@pytest.mark.parametrize(
    ("language", "figures"),
    [
        ("en", "Subscribers sent it: 1,234 of 5,000 · still to go: 3,766"),
        ("pt", "Pessoas inscritas que já receberam: 1.234 de 5.000 · faltam: 3.766"),
        ("es", "Personas suscritas que ya lo recibieron: 1,234 de 5,000 · faltan: 3,766"),
    ],
)
def test_schedule_figures_are_grouped_as_each_language_writes_numbers(campaign, language, figures):
    """The same digits as /stats and a broadcast's progress, not a bare 1234."""
    status = daily.DayStatus(
        day=3,
        broadcast_status="running",
        counts={"sent": 1234, "pending": 3766},
        total=5000,
        channel_status=None,
        x_status=None,
    )
    today = words.render_today(language, campaign, Settings(_env_file=None), THIRD_DAY, status)
    assert figures in today


def test_schedule_overview_after_the_campaign_says_it_has_ended(campaign):
    settings = Settings(_env_file=None)
    overview = words.render_schedule(
        "es", campaign, settings, dt.date(2026, 12, 20), None, paused=True
    )
    assert "En pausa" in overview
    assert "la campaña terminó el 10 de diciembre" in overview
