"""The daily prompt itself: what it says, that a day's prompt is made once whatever happens, and
the posts to the channel and to X (X faked at its HTTP layer with aioresponses, in the API's
documented response shapes: POST /2/tweets answers 201 {"data": {"id", "text", ...}})."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from aioresponses import aioresponses

from bot import daily
from bot.app.offline import Fault
from bot.campaign import LANGUAGES, Campaign, load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE, Settings
from bot.delivery import DeliveryReport
from bot.storage import Storage
from messages import daily as words
from messages import text
from tests.support.fakes import (
    CHANNEL_ID,
    X_CREDENTIALS,
    X_ERRORS,
    X_TWEETS,
    XAccount,
    x_rate_limited,
)
from tests.support.harness import make_settings, running_bot

LONDON = ZoneInfo("Europe/London")
THIRD_DAY = dt.date(2026, 11, 27)


@pytest.fixture
def x_account():
    with aioresponses() as mocked:
        yield XAccount(mocked)


@pytest.fixture
def campaign():
    return load_campaign(DEFAULT_CAMPAIGN_FILE)


@pytest.fixture
def storage(tmp_path):
    storage = Storage.open(tmp_path / "daily.db")
    yield storage
    storage.close()


def subscribe(storage: Storage, user_id: int, language: str = "en") -> None:
    storage.ensure_supporter(user_id, language)
    storage.set_opt_in(user_id, True, "test-wording")


def words_of(campaign: Campaign) -> daily.Words:
    """The days' words as the bot renders them (the offline bot is @StepUpBot)."""
    return functools.partial(words.day_words, campaign, "StepUpBot")


async def run_third_day(chat, settings: Settings) -> DeliveryReport | None:
    data = chat.app.bot_data
    return await daily.run_day(
        chat.app.bot, data.storage, settings, data.campaign, THIRD_DAY, words_of(data.campaign)
    )


def daily_broadcasts(storage: Storage) -> int:
    return storage.db.execute(
        "SELECT count(*) FROM broadcasts WHERE kind = 'daily_prompt'"
    ).fetchone()[0]


# --- what the prompt says ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_prompt_names_the_day_carries_the_hashtags_and_the_days_text(campaign, language):
    prompt = words.prompt_text(campaign, 3, language)
    assert prompt.startswith(text(language, "daily.heading", day=3, total=16))
    assert "#16Days #StepUpMigrantWomen" in prompt
    first_words = campaign.prompt_for_day(3).text(language).split()[:4]
    assert " ".join(first_words) in prompt


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
    assert "Sign &lt;now&gt; &amp; share" in words.prompt_text(risky, 1, "en")
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


# --- one broadcast per campaign day --------------------------------------------------------------


def test_preparing_a_day_twice_gives_the_same_broadcast(storage, campaign):
    first = daily.prepare_day(storage, campaign, words_of(campaign), THIRD_DAY)
    again = daily.prepare_day(storage, campaign, words_of(campaign), THIRD_DAY)
    assert first == again
    assert daily_broadcasts(storage) == 1
    broadcast = storage.get_broadcast(first)
    assert broadcast["kind"] == "daily_prompt"
    assert broadcast["campaign_day"] == 3
    assert broadcast["audience"] == {}  # every opted-in, unblocked supporter
    assert broadcast["texts"]["pt"] == words.prompt_text(campaign, 3, "pt")
    assert broadcast["buttons"]["es"]["url"] == "https://t.me/StepUpBot?start=solidarity"


def test_a_day_is_prepared_once_across_a_reopened_database(tmp_path, campaign):
    path = tmp_path / "restart.db"
    first_process = Storage.open(path)
    first = daily.prepare_day(first_process, campaign, words_of(campaign), THIRD_DAY)
    first_process.close()
    second_process = Storage.open(path)
    assert daily.prepare_day(second_process, campaign, words_of(campaign), THIRD_DAY) == first
    assert daily_broadcasts(second_process) == 1
    second_process.close()


def test_racing_processes_prepare_one_broadcast_for_the_day(tmp_path, campaign):
    path = tmp_path / "race.db"
    Storage.open(path).close()

    def prepare(_: int) -> int:
        storage = Storage.open(path)  # each "process" has its own connection
        try:
            return daily.prepare_day(storage, campaign, words_of(campaign), THIRD_DAY)
        finally:
            storage.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(prepare, range(12)))
    storage = Storage.open(path)
    assert len(ids) == 1
    assert daily_broadcasts(storage) == 1
    storage.close()


@pytest.mark.parametrize("date", [dt.date(2026, 11, 24), dt.date(2026, 12, 11)])
def test_no_prompt_outside_the_campaign(storage, campaign, date):
    assert daily.prepare_day(storage, campaign, words_of(campaign), date) is None
    assert daily_broadcasts(storage) == 0


def test_each_campaign_day_gets_its_own_prompt(storage, campaign):
    ids = {
        daily.prepare_day(storage, campaign, words_of(campaign), campaign.date_of_day(day))
        for day in range(1, 17)
    }
    assert len(ids) == 16


def test_an_earlier_days_unfinished_prompt_is_cancelled_at_start_up(storage, campaign):
    days = words_of(campaign)
    yesterday = daily.prepare_day(storage, campaign, days, THIRD_DAY - dt.timedelta(1))
    today = daily.prepare_day(storage, campaign, days, THIRD_DAY)
    daily.recover(storage, THIRD_DAY)
    assert storage.broadcast_status(yesterday) == "cancelled"
    assert storage.broadcast_status(today) == "draft"


# --- the channel and X ---------------------------------------------------------------------------


async def test_channel_and_x_are_posted_once_however_often_the_day_runs(tmp_path, x_account):
    settings = make_settings(tmp_path, channel_id=str(CHANNEL_ID), **X_CREDENTIALS)
    async with running_bot(settings) as chat:
        data = chat.app.bot_data
        for _ in range(3):
            await run_third_day(chat, settings)
        channel_posts = chat.api.sent(CHANNEL_ID)
        run = data.storage.daily_run(THIRD_DAY.isoformat())
    assert len(channel_posts) == 1
    assert channel_posts[0].text == words.channel_text(data.campaign, 3)
    assert x_account.posts == [words.x_text(data.campaign, "StepUpBot", 3)]
    assert (run["channel_status"], run["x_status"]) == (daily.POSTED, daily.POSTED)


async def test_without_channel_or_x_settings_nothing_is_posted_outside_telegram(chat, x_account):
    data = chat.app.bot_data
    subscribe(data.storage, 1)
    await run_third_day(chat, data.settings)
    assert x_account.posts == []
    assert {call.chat_id for call in chat.api.sent()} == {1}


@pytest.mark.parametrize(
    "failure",
    [
        (401, X_ERRORS[401], {}),
        (
            403,
            {
                "detail": "You are not allowed to create a Tweet with duplicate content.",
                "type": "about:blank",
                "title": "Forbidden",
                "status": 403,
            },
            {},
        ),
        x_rate_limited(dt.datetime(2026, 11, 27, 9, 15, tzinfo=dt.UTC)),
        (429, b"<html>Too Many Requests</html>", {"Content-Type": "text/html"}),
        (503, X_ERRORS[503], {}),
        (503, b"", {}),
    ],
    ids=["401", "403", "429", "429-html", "503", "503-empty"],
)
async def test_an_x_error_is_recorded_and_logged_and_supporters_still_get_the_prompt(
    tmp_path, x_account, caplog, failure
):
    x_account.failure = failure
    settings = make_settings(tmp_path, **X_CREDENTIALS)
    caplog.set_level(logging.WARNING, logger="bot.daily")
    async with running_bot(settings) as chat:
        data = chat.app.bot_data
        subscribe(data.storage, 1)
        report = await run_third_day(chat, settings)
        await run_third_day(chat, settings)
        run = data.storage.daily_run(THIRD_DAY.isoformat())
    assert report.sent == 1
    assert run["x_status"] == daily.FAILED
    assert str(failure[0]) in caplog.text
    assert "token-secret" not in caplog.text


async def test_an_x_timeout_is_unsure_and_not_repeated(tmp_path, caplog):
    settings = make_settings(tmp_path, **X_CREDENTIALS)
    with aioresponses() as mocked:
        mocked.post(X_TWEETS, exception=TimeoutError(), repeat=True)
        async with running_bot(settings) as chat:
            data = chat.app.bot_data
            await run_third_day(chat, settings)
            await run_third_day(chat, settings)
            run = data.storage.daily_run(THIRD_DAY.isoformat())
        posts = [key for key in mocked.requests if key[0] == "POST"]
    assert run["x_status"] == daily.UNKNOWN
    assert len(mocked.requests[posts[0]]) == 1


async def test_a_failed_channel_post_is_tried_again_only_after_a_restart(tmp_path):
    settings = make_settings(tmp_path, channel_id=str(CHANNEL_ID))
    async with running_bot(settings) as chat:
        data = chat.app.bot_data
        chat.api.fail(
            Fault(403, "Forbidden: bot is not a member of the channel chat"),
            when=lambda call: call.chat_id == CHANNEL_ID,
        )
        for _ in range(2):
            await run_third_day(chat, settings)
        attempts = len(chat.api.sent(CHANNEL_ID))
        failed = data.storage.daily_run(THIRD_DAY.isoformat())["channel_status"]
        daily.recover(data.storage, THIRD_DAY)  # what the next start does
        await run_third_day(chat, settings)
        after_restart = data.storage.daily_run(THIRD_DAY.isoformat())["channel_status"]
    assert (attempts, failed) == (1, daily.FAILED)
    assert after_restart == daily.POSTED


# --- the organisers' overview --------------------------------------------------------------------


def test_schedule_overview_lists_the_coming_prompts_after_today(campaign):
    settings = Settings(_env_file=None)
    overview = words.render_schedule("en", campaign, settings, THIRD_DAY, None, paused=False)
    assert "09:00 (Europe/London)" in overview
    assert "Today, 27 November: day 3 of 16" in overview
    assert "Not sent yet: it goes out at 09:00." in overview
    assert "28 November · day 4 · share: <i>Every share brings new supporters." in overview
    assert "day 3 ·" not in overview  # today's is shown above, not as coming
    assert "10 December · day 16" in overview


def test_schedule_overview_after_the_campaign_says_it_has_ended(campaign):
    settings = Settings(_env_file=None)
    overview = words.render_schedule(
        "es", campaign, settings, dt.date(2026, 12, 20), None, paused=True
    )
    assert "En pausa" in overview
    assert "la campaña terminó el 10 de diciembre" in overview
