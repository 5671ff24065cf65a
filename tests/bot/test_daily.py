"""The daily prompt itself: a day's prompt is made once whatever happens, and the posts to the
channel and to X (X faked at its HTTP layer with aioresponses, in the API's
documented response shapes: POST /2/tweets answers 201 {"data": {"id", "text", ...}})."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from aioresponses import aioresponses

from bot import daily
from bot.app.offline import Fault
from bot.campaign import Campaign
from bot.config import Settings
from bot.consent import DAILY_PROMPT
from bot.delivery import DeliveryReport
from bot.storage import Storage
from messages import daily as words
from tests.support import social
from tests.support.fakes import (
    CHANNEL_ID,
    X_CREDENTIALS,
    X_ERRORS,
    X_TWEETS,
    XAccount,
)
from tests.support.harness import make_settings, running_bot

LONDON = ZoneInfo("Europe/London")
THIRD_DAY = dt.date(2026, 11, 27)


@pytest.fixture
def x_account():
    with aioresponses() as mocked:
        yield XAccount(mocked)


def subscribe(storage: Storage, user_id: int, language: str = "en") -> None:
    storage.ensure_supporter(user_id, language)
    storage.set_consents(user_id, {DAILY_PROMPT: True}, "test-wording")


def words_of(campaign: Campaign) -> daily.Words:
    """The days' words as the bot renders them (the offline bot is @StepUpBot)."""
    return functools.partial(words.day_words, campaign, "StepUpBot")


async def run_third_day(chat, settings: Settings) -> DeliveryReport | None:
    data = chat.app.bot_data
    return await daily.run_day(
        chat.app.bot,
        data.storage,
        settings,
        data.campaign,
        THIRD_DAY,
        words_of(data.campaign),
        data.sending,
    )


def daily_broadcasts(storage: Storage) -> int:
    return storage.db.execute(
        "SELECT count(*) FROM broadcasts WHERE kind = 'daily_prompt'"
    ).fetchone()[0]


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
    assert broadcast["texts"]["pt"] == words.prompt_text(campaign, 3, "pt", "StepUpBot")
    assert broadcast["buttons"]["es"]["url"] == "https://t.me/StepUpBot?start=solidarity"


async def test_the_last_days_prompt_offers_what_comes_next_to_its_subscribers_only(chat, settings):
    """No extra message for the offer: it rides in the prompt, which only subscribers get."""
    data = chat.app.bot_data
    subscribe(data.storage, 1)
    data.storage.ensure_supporter(2, "en")
    data.storage.set_consents(2, {DAILY_PROMPT: False}, "test-wording")
    last_day = data.campaign.end_date
    await daily.run_day(
        chat.app.bot,
        data.storage,
        settings,
        data.campaign,
        last_day,
        words_of(data.campaign),
        data.sending,
    )
    (prompt,) = chat.api.sent(1)
    assert "start=messages" in prompt.text and "What comes next?" in prompt.text
    assert chat.api.sent(2) == []


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
                "detail": "Your client app is not configured with the appropriate oauth1 app"
                " permissions for this endpoint.",
                "type": "https://api.twitter.com/2/problems/oauth1-permissions",
                "title": "Forbidden",
                "status": 403,
            },
            {},
        ),
        (429, b"<html>Too Many Requests</html>", {"Content-Type": "text/html"}),
        (503, X_ERRORS[503], {}),
        (503, b"", {}),
    ],
    # A 429 saying when X's limit resets is tried again then (tests/handlers/test_schedule.py).
    ids=["401", "403", "429-without-reset", "503", "503-empty"],
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
        statuses = [data.storage.daily_run(THIRD_DAY.isoformat())["x_status"]]
        for _ in range(daily.X_TRIES_A_DAY):  # the later runs of the day (every half hour)
            await run_third_day(chat, settings)
            statuses.append(data.storage.daily_run(THIRD_DAY.isoformat())["x_status"])
    assert report.sent == 1
    # Tried again by the next runs of the day, three tries in all, then left for a restart.
    assert statuses == [daily.RETRY, daily.RETRY, daily.FAILED, daily.FAILED]
    refusals = [r for r in caplog.records if r.getMessage().startswith("X refused")]
    assert len(refusals) == daily.X_TRIES_A_DAY and str(failure[0]) in caplog.text
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


# --- against a loopback X: tweepy's real session over a socket (tests/support/social.py) ----------


@pytest.fixture
async def loopback_x():
    async with social.FakeX() as x:
        yield x


def loopback_settings(tmp_path, x: social.FakeX, **overrides: object) -> Settings:
    return make_settings(tmp_path, **social.x_account_settings(x), **overrides)


async def test_a_post_that_reached_x_before_a_crash_is_not_posted_again(tmp_path, loopback_x):
    settings = loopback_settings(tmp_path, loopback_x)
    async with running_bot(settings) as chat:
        data = chat.app.bot_data
        await run_third_day(chat, settings)
        # The process dies after X took the post, before it was recorded: 'posting' is left.
        data.storage.record_daily_post(THIRD_DAY.isoformat(), daily.X, daily.POSTING)
        daily.recover(data.storage, THIRD_DAY)  # what the next start does
        await run_third_day(chat, settings)
        run = data.storage.daily_run(THIRD_DAY.isoformat())
    # X refused the same text again; that is the proof it is out, not a failure.
    assert loopback_x.posts == [words.x_text(data.campaign, "StepUpBot", 3)]
    assert loopback_x.refused_duplicates == 1
    assert run["x_status"] == daily.POSTED


X_TOOK_IT_UNREADABLY = {
    "html": social.html_page(201),
    "other-shape": social.Fault("status", 201, {"errors": [{"message": "Internal error"}]}),
    "cut": social.Fault("cut", 201, {"data": {"id": "1861", "text": "Day 3 of 16"}}),
}


@pytest.mark.parametrize("fault", X_TOOK_IT_UNREADABLY.values(), ids=X_TOOK_IT_UNREADABLY.keys())
async def test_a_post_x_took_with_an_unreadable_answer_is_recorded_once_without_a_traceback(
    tmp_path, loopback_x, caplog, fault
):
    loopback_x.fault = fault
    settings = loopback_settings(tmp_path, loopback_x)
    caplog.set_level(logging.INFO, logger="bot.daily")
    async with running_bot(settings) as chat:
        await run_third_day(chat, settings)
        run = chat.app.bot_data.storage.daily_run(THIRD_DAY.isoformat())
    assert run["x_status"] == daily.POSTED  # a 2xx: X has it, the next start must not post it
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.daily" and "X" in r.message]
    assert len(lines) == 1 and "unreadable" in lines[0]
    assert not [record for record in caplog.records if record.exc_info]


async def test_the_x_client_is_made_off_the_event_loop(tmp_path, loopback_x, monkeypatch):
    # Its first making imports tweepy (60 ms or more), at the prompt time, when supporters write.
    threads = []
    make = daily.x_client

    def spy(settings: Settings):
        threads.append(threading.current_thread())
        return make(settings)

    monkeypatch.setattr(daily, "x_client", spy)
    settings = loopback_settings(tmp_path, loopback_x)
    assert (await daily.post_to_x(settings, "Day 3 of 16")).status == daily.POSTED
    assert threads and threads[0] is not threading.main_thread()


async def test_x_behind_a_proxy_at_a_path_of_its_own_gets_the_post(tmp_path):
    async with social.FakeX(prefix="/x-api") as proxied:
        settings = loopback_settings(tmp_path, proxied)
        outcome = await daily.post_to_x(settings, "Day 3 of 16 #16Days")
    assert outcome.status == daily.POSTED and proxied.posts == ["Day 3 of 16 #16Days"]


async def test_a_post_x_could_not_take_goes_out_at_the_next_run_of_the_day(tmp_path, loopback_x):
    loopback_x.fault = social.server_error(503)
    loopback_x.fault.times = 1  # X is back half an hour later
    settings = loopback_settings(tmp_path, loopback_x)
    async with running_bot(settings) as chat:
        await run_third_day(chat, settings)
        failed = chat.app.bot_data.storage.daily_run(THIRD_DAY.isoformat())["x_status"]
        await run_third_day(chat, settings)
        run = chat.app.bot_data.storage.daily_run(THIRD_DAY.isoformat())
    assert (failed, run["x_status"]) == (daily.RETRY, daily.POSTED)
    assert loopback_x.posts == [words.x_text(chat.app.bot_data.campaign, "StepUpBot", 3)]
