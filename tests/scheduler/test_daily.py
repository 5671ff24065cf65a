"""The daily prompt's schedule, across restarts, on a frozen clock (D6, D1, P2).

Each "start" is the real Application on the offline Bot API, followed by the job the JobQueue runs
shortly after start (called directly); messages are counted per chat in `chat.api.calls`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aioresponses import aioresponses

from bot import daily, delivery
from bot.app.offline import OfflineBotAPI
from bot.consent import UPDATES, WHATS_NEXT
from messages import consent
from messages.daily import day_words
from scheduler.daily import (
    CATCH_UP_JOB,
    DAILY_JOB,
    MISFIRE_GRACE,
    send_daily_prompt,
)
from tests.support.fakes import CHANNEL_ID, X_CREDENTIALS, JobContext, XAccount, run_job
from tests.support.harness import make_settings, running_bot

LONDON = ZoneInfo("Europe/London")
HASHTAGS = "#16Days #StepUpMigrantWomen"
SUBSCRIBERS = {1: "en", 2: "pt", 3: "es"}


def london(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LONDON)


NOW = london(11, 27, 9, 5)  # day 3, where `clock` stops time; tests move it by hand


def prompts(api: OfflineBotAPI) -> Counter[int]:
    """Daily prompts received, per chat."""
    return Counter(
        call.chat_id
        for call in api.sent()
        # The hashtags end each prompt; the last one's offer of what comes next follows them.
        if call.method == "sendMessage" and HASHTAGS in call.text
    )


async def subscribe_all(settings, api) -> None:
    """Supporters opt in the way they really do: /start, then "Yes, one a day"."""
    async with running_bot(settings, api) as chat:
        for user_id, language in SUBSCRIBERS.items():
            await chat.send(user_id, "/start", language_code=language)
            await chat.press(user_id, consent.OPTIN_DAILY, language_code=language)


async def start(settings, api, *, at_prompt_time: bool = False) -> None:
    """Start the bot, run its at-start job (and the prompt-time job if asked), stop it."""
    async with running_bot(settings, api) as chat:
        await run_job(chat.app, CATCH_UP_JOB)
        if at_prompt_time:
            await send_daily_prompt(JobContext(chat.app))


@pytest.fixture
async def subscribed(clock, settings, api):
    await subscribe_all(settings, api)
    return api


# --- at most once a day, across restarts (D6) ----------------------------------------------------


async def test_a_restart_at_0905_sends_each_subscriber_one_prompt_in_their_language(
    subscribed, settings
):
    await start(settings, subscribed)
    assert prompts(subscribed) == {1: 1, 2: 1, 3: 1}
    pt_prompt = next(call for call in subscribed.sent(2) if call.text.endswith(HASHTAGS))
    assert pt_prompt.text.startswith("<b>Dia 3 de 16</b>")
    assert pt_prompt.buttons[0]["url"] == "https://t.me/StepUpBot?start=solidarity"


async def test_more_restarts_and_the_prompt_time_job_still_send_one(subscribed, settings, clock):
    await start(settings, subscribed)
    await start(settings, subscribed, at_prompt_time=True)
    clock.move_to(london(11, 27, 17, 30))
    await start(settings, subscribed, at_prompt_time=True)
    assert prompts(subscribed) == {1: 1, 2: 1, 3: 1}


async def test_one_prompt_a_day_for_every_day_of_the_campaign(subscribed, settings, clock):
    for day in range(25, 31):
        clock.move_to(london(11, day, 9, 0))
        await start(settings, subscribed, at_prompt_time=True)
    for day in range(1, 11):
        clock.move_to(london(12, day, 9, 0))
        await start(settings, subscribed, at_prompt_time=True)
    assert prompts(subscribed) == {1: 16, 2: 16, 3: 16}


@pytest.mark.parametrize("moment", [london(11, 24, 9, 30), london(12, 11, 9, 30)])
async def test_nothing_is_sent_before_or_after_the_campaign(subscribed, settings, clock, moment):
    clock.move_to(moment)
    await start(settings, subscribed, at_prompt_time=True)
    assert prompts(subscribed) == {}


async def test_before_the_prompt_time_a_start_waits_for_the_job(subscribed, settings, clock):
    clock.move_to(london(11, 27, 8, 0))
    async with running_bot(settings, subscribed) as chat:
        await run_job(chat.app, CATCH_UP_JOB)
        assert prompts(subscribed) == {}
        clock.move_to(london(11, 27, 9, 0))
        await send_daily_prompt(JobContext(chat.app))
    assert prompts(subscribed) == {1: 1, 2: 1, 3: 1}


async def test_a_prompt_missed_while_down_in_the_morning_goes_out_when_back(
    subscribed, settings, clock
):
    clock.move_to(london(11, 27, 15, 40))  # down from 08:00 to 15:40
    await start(settings, subscribed)
    assert prompts(subscribed) == {1: 1, 2: 1, 3: 1}


async def test_a_prompt_missed_on_an_earlier_day_is_not_sent_late(subscribed, settings, clock):
    clock.move_to(london(11, 28, 8, 30))  # down all of 27 November
    await start(settings, subscribed)
    assert prompts(subscribed) == {}


async def test_paused_schedule_sends_nothing_until_resumed(subscribed, settings, clock):
    async with running_bot(settings, subscribed) as chat:
        daily.set_paused(chat.storage, True)
    await start(settings, subscribed, at_prompt_time=True)
    assert prompts(subscribed) == {}
    async with running_bot(settings, subscribed) as chat:
        daily.set_paused(chat.storage, False)
    clock.move_to(london(11, 28, 9, 0))
    await start(settings, subscribed, at_prompt_time=True)
    assert prompts(subscribed) == {1: 1, 2: 1, 3: 1}


# --- only to people who asked for it (P2, D5) ----------------------------------------------------


async def test_only_supporters_who_said_yes_and_did_not_stop_get_it(subscribed, settings):
    async with running_bot(settings, subscribed) as chat:
        await chat.send(2, "/stop", language_code="pt")
        await chat.send(7, "/start")
        await chat.press(7, consent.OPTIN_NONE)
        await chat.send(8, "/start")  # never answered
    await start(settings, subscribed)
    assert prompts(subscribed) == {1: 1, 3: 1}



def prompt_words(chat) -> daily.Words:
    """The days' words as the running bot renders them."""
    return functools.partial(day_words, chat.app.bot_data.campaign, chat.app.bot.username)

# --- what a previous process left (D1) -----------------------------------------------------------


async def test_a_prompt_interrupted_mid_run_is_finished_on_restart_without_repeats(
    subscribed, settings
):
    async with running_bot(settings, subscribed) as chat:
        broadcast_id = daily.prepare_day(
            chat.storage, chat.app.bot_data.campaign, prompt_words(chat), dt.date(2026, 11, 27)
        )
        await delivery.enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules)
        chat.storage.claim_deliveries(broadcast_id, 2)  # in flight when the process died
    await start(settings, subscribed)
    assert prompts(subscribed) == {1: 1, 2: 1, 3: 1}


async def test_an_earlier_days_unfinished_prompt_is_not_sent_beside_todays(subscribed, settings):
    async with running_bot(settings, subscribed) as chat:
        yesterday = daily.prepare_day(
            chat.storage, chat.app.bot_data.campaign, prompt_words(chat), dt.date(2026, 11, 26)
        )
        await delivery.enqueue(chat.storage, yesterday, chat.app.bot_data.rules)
    await start(settings, subscribed)
    day_2_heading = "<b>Day 2 of 16</b>"
    assert not any(call.text.startswith(day_2_heading) for call in subscribed.sent())
    assert prompts(subscribed) == {1: 1, 2: 1, 3: 1}


# --- the jobs themselves -------------------------------------------------------------------------


async def test_the_prompt_job_runs_daily_at_0900_london_with_misfire_grace(chat):
    [job] = chat.app.job_queue.get_jobs_by_name(DAILY_JOB)
    trigger = job.job.trigger
    assert str(trigger.timezone) == "Europe/London"
    assert trigger.get_next_fire_time(None, london(11, 27, 8, 0)) == london(11, 27, 9, 0)
    # In summer too: 09:00 London time, not 09:00 UTC.
    summer = dt.datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)
    assert trigger.get_next_fire_time(None, summer - dt.timedelta(hours=2)) == summer
    assert job.job.misfire_grace_time == MISFIRE_GRACE > 0
    assert job.job.coalesce is True
    assert len(chat.app.job_queue.get_jobs_by_name(CATCH_UP_JOB)) == 1


async def test_the_job_queue_runs_the_at_start_job_by_itself(settings, api):
    with time_machine.travel(london(11, 27, 9, 5), tick=True):
        await subscribe_all(settings, api)
        async with running_bot(settings, api) as chat:
            await chat.app.job_queue.start()
            try:
                for _ in range(200):
                    if len(prompts(api)) == len(SUBSCRIBERS):
                        break
                    await asyncio.sleep(0.05)
            finally:
                await chat.app.job_queue.stop()
    assert prompts(api) == {1: 1, 2: 1, 3: 1}


# --- the channel and X, once a day across restarts -----------------------------------------------


async def test_channel_and_x_are_posted_once_a_day_across_restarts(clock, tmp_path):
    settings = make_settings(tmp_path, channel_id=str(CHANNEL_ID), **X_CREDENTIALS)
    api = OfflineBotAPI()
    with aioresponses() as mocked:
        x_account = XAccount(mocked)
        for _ in range(3):
            await start(settings, api, at_prompt_time=True)
        first_day = (len(api.sent(CHANNEL_ID)), len(x_account.posts))
        clock.move_to(london(11, 28, 9, 30))
        await start(settings, api)
        await start(settings, api)
    assert first_day == (1, 1)
    assert (len(api.sent(CHANNEL_ID)), len(x_account.posts)) == (2, 2)
    assert x_account.posts[1].startswith("Day 4 of 16: ")


async def test_a_broadcast_started_after_a_restart_is_not_resumed_a_second_time(settings, api):
    async with running_bot(settings, api) as chat:
        for uid in (1, 2, 3):
            chat.storage.ensure_supporter(uid, "en")
            chat.storage.set_consents(uid, {UPDATES: True, WHATS_NEXT: True}, "v1")
        # An organiser presses "Send now" in the seconds before the at-start job runs...
        broadcast_id = delivery.create_broadcast(chat.storage, texts={"en": "Now!"})
        await delivery.enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules)
        in_flight = chat.storage.claim_deliveries(broadcast_id, 3)
        await run_job(chat.app, CATCH_UP_JOB)
        # ...and the at-start job leaves that run alone: its sends stay in flight, unrepeated.
        assert len(in_flight) == 3
        assert chat.storage.broadcast_summary(broadcast_id).get("sending") == 3
        assert not [call for call in chat.api.sent() if call.text == "Now!"]
