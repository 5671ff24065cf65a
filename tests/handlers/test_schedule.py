"""/schedule for organisers: the coming prompts and today's progress, previews, pause and resume,
and "send today's now"; and nothing at all for anyone else (X1), tampered buttons handled (X4)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from bot import daily, delivery
from messages import consent, text
from messages import daily as schedule
from messages.daily import prompt_text
from scheduler.daily import CATCH_UP_JOB, LATE_JOB, SEND_NOW_JOB, X_RETRY_JOB
from tests.support import social
from tests.support.fakes import JobContext, run_job
from tests.support.harness import ORGANISER_ID, make_settings, running_bot

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=LONDON)  # day 3, where `clock` stops time
SUPPORTER = 1
LATE = 2  # agrees to the daily prompt after today's went out
HASHTAGS = "#16Days #StepUpMigrantWomen"
ORGANISER_BUTTONS = [
    schedule.SHOW,
    schedule.DAYS,
    f"{schedule.DAY_PREFIX}3",
    f"{schedule.PREVIEW_PREFIX}3:pt",
    schedule.PAUSE,
    schedule.RESUME,
    schedule.SEND,
    schedule.SEND_CONFIRMED,
    "schedule:anything",
]


@pytest.fixture
async def chat(clock, settings, api):
    async with running_bot(settings, api) as chat:
        yield chat


async def opt_in(chat, user_id: int, language: str = "en") -> None:
    await chat.send(user_id, "/start", language_code=language)
    await chat.press(user_id, consent.OPTIN_DAILY, language_code=language)


def prompts_to(chat, user_id: int) -> list:
    return [call for call in chat.api.sent(user_id) if HASHTAGS in call.text]


def answers(calls) -> list[str]:
    return [call.params.get("text", "") for call in calls if call.method == "answerCallbackQuery"]


async def run_queued_send(chat) -> None:
    """Run the queued "send today's now" job as the JobQueue would."""
    for job in chat.app.job_queue.get_jobs_by_name(SEND_NOW_JOB):
        await job.callback(JobContext(chat.app))
        job.schedule_removal()


# --- the overview --------------------------------------------------------------------------------


async def test_schedule_lists_coming_prompts_and_todays_progress(chat):
    await opt_in(chat, SUPPORTER)
    await chat.send(ORGANISER_ID, "/schedule")
    before = chat.last_text(ORGANISER_ID)
    assert "Today, 27 November: day 3 of 16" in before
    assert "Not sent yet" in before
    assert "28 November · day 4 · share: <i>Every share brings new supporters." in before
    await run_job(chat.app, CATCH_UP_JOB)
    await chat.send(ORGANISER_ID, "/schedule")
    after = chat.last_text(ORGANISER_ID)
    assert "Subscribers sent it: 1 of 1 · still to go: 0" in after
    assert "Channel: not set up · X: not set up" in after
    # Everyone subscribed has it: "send today's now" would send nothing, so it is not offered.
    assert set(chat.button_data(ORGANISER_ID)) == {schedule.DAYS, schedule.PAUSE}


@pytest.mark.parametrize(
    ("zone", "language_code", "said"),
    [
        ("Europe/London", "en", "(British Time)"),
        ("Europe/London", "pt-br", "(Horário Britânico)"),
        ("America/Sao_Paulo", "pt-br", "(Horário de Brasília)"),
        ("Europe/Madrid", "es", "(hora de Europa central)"),
        ("UTC", "en", "(Coordinated Universal Time)"),
    ],
)
async def test_the_schedule_names_its_time_zone_as_people_say_it(
    clock, api, tmp_path, zone, language_code, said
):
    async with running_bot(make_settings(tmp_path, tz=zone), api) as chat:
        await chat.send(ORGANISER_ID, "/schedule", language_code)
        overview = chat.last_text(ORGANISER_ID)
    assert said in overview
    assert zone not in overview


async def test_someone_who_blocked_the_bot_before_their_turn_is_counted_as_blocked(chat):
    await opt_in(chat, SUPPORTER)
    await opt_in(chat, 2)
    rules = chat.app.bot_data.rules
    broadcast_id = delivery.create_broadcast(
        chat.storage, texts={"en": "Day 3"}, kind="daily_prompt"
    )
    chat.storage.add_daily_run(NOW.date().isoformat(), 3, broadcast_id)
    assert await delivery.enqueue(chat.storage, broadcast_id, rules) == 2
    chat.storage.mark_blocked(2)  # found out by another message, before their turn
    await delivery.run_broadcast(chat.app.bot, chat.storage, broadcast_id, rules=rules)
    await chat.send(ORGANISER_ID, "/schedule")
    assert "Not delivered: blocked 1 · refused 0 · unsubscribed 0" in chat.last_text(ORGANISER_ID)


async def test_todays_prompt_still_finding_its_recipients_shows_no_figures_yet(chat):
    """While the day's recipients are being written (a slice of supporters at a time), the
    overview says so: counts then would be of those written so far, and everyone not yet
    written would pass for someone who agreed after it went out. "Send today's now" (a button
    from before) sends nothing more and says it is going out, not that it has gone out."""
    for user_id in (SUPPORTER, 2, 3):
        await opt_in(chat, user_id)
    broadcast_id = delivery.create_broadcast(
        chat.storage, texts={"en": "Day 3"}, kind="daily_prompt"
    )
    chat.storage.add_daily_run(NOW.date().isoformat(), 3, broadcast_id)
    chat.storage.begin_deliveries(broadcast_id)
    subject = chat.app.bot_data.rules.subject_for("daily_prompt", NOW)
    selection = delivery.Audience().selection(subject)
    assert chat.storage.prepare_deliveries(broadcast_id, selection, 1)  # one slice of three
    await chat.send(ORGANISER_ID, "/schedule")
    overview = chat.last_text(ORGANISER_ID)
    assert "Starting now: finding who gets it…" in overview
    assert "Subscribers sent it" not in overview
    assert "after today's went out" not in overview
    assert schedule.SEND not in chat.button_data(ORGANISER_ID)
    for button in (schedule.SEND, schedule.SEND_CONFIRMED):
        await chat.press(ORGANISER_ID, button)
        assert chat.last_text(ORGANISER_ID) == text("en", "daily.schedule.going_out")
    assert chat.app.job_queue.get_jobs_by_name(SEND_NOW_JOB) == ()


async def test_the_schedule_speaks_the_organisers_language(chat):
    await chat.send(ORGANISER_ID, "/schedule", language_code="pt-BR")
    assert "dia 3 de 16" in chat.last_text(ORGANISER_ID)


# --- previews ------------------------------------------------------------------------------------


async def test_preview_is_exactly_what_subscribers_get(chat):
    await opt_in(chat, SUPPORTER, "pt")
    await chat.send(ORGANISER_ID, "/schedule")
    await chat.press(ORGANISER_ID, schedule.DAYS)
    assert f"{schedule.DAY_PREFIX}16" in chat.button_data(ORGANISER_ID)
    await chat.press(ORGANISER_ID, f"{schedule.DAY_PREFIX}3")
    assert f"{schedule.PREVIEW_PREFIX}3:pt" in chat.button_data(ORGANISER_ID)
    await chat.press(ORGANISER_ID, f"{schedule.PREVIEW_PREFIX}3:pt")
    preview = chat.api.last(ORGANISER_ID)
    await run_job(chat.app, CATCH_UP_JOB)
    [received] = prompts_to(chat, SUPPORTER)
    assert (preview.text, preview.buttons) == (received.text, received.buttons)


@pytest.mark.parametrize("language", ["en", "pt", "es"])
async def test_any_day_can_be_previewed_in_any_language(chat, language):
    await chat.press(ORGANISER_ID, f"{schedule.PREVIEW_PREFIX}16:{language}")
    preview = chat.api.last(ORGANISER_ID)
    assert preview.text == prompt_text(chat.app.bot_data.campaign, 16, language, "StepUpBot")
    assert preview.buttons[0]["url"] == "https://t.me/StepUpBot?start=menu"
    assert prompts_to(chat, SUPPORTER) == []  # a preview goes to the organiser only


@pytest.mark.parametrize(
    "data",
    [
        f"{schedule.PREVIEW_PREFIX}17:en",
        f"{schedule.PREVIEW_PREFIX}0:en",
        f"{schedule.PREVIEW_PREFIX}3:fr",
        f"{schedule.PREVIEW_PREFIX}3",
        f"{schedule.PREVIEW_PREFIX}٣:en",
        f"{schedule.PREVIEW_PREFIX}3:en:extra",
        f"{schedule.DAY_PREFIX}x",
        f"{schedule.DAY_PREFIX}-1",
        "schedule:unknown",
    ],
)
async def test_tampered_schedule_buttons_get_a_polite_answer(chat, caplog, data):
    caplog.set_level(logging.ERROR)
    replies = await chat.press(ORGANISER_ID, data)
    assert answers(replies) == [text("en", "daily.schedule.stale")]
    assert "Daily prompts" in chat.last_text(ORGANISER_ID)
    assert not any(HASHTAGS in call.text for call in replies)
    assert caplog.records == []


# --- pause and resume ----------------------------------------------------------------------------


async def test_pausing_stops_the_prompt_and_resuming_lets_it_go(chat):
    await opt_in(chat, SUPPORTER)
    await chat.press(ORGANISER_ID, schedule.PAUSE)
    assert "Paused" in chat.last_text(ORGANISER_ID)
    assert schedule.RESUME in chat.button_data(ORGANISER_ID)
    await run_job(chat.app, CATCH_UP_JOB)
    assert prompts_to(chat, SUPPORTER) == []
    await chat.press(ORGANISER_ID, schedule.RESUME)
    assert "Paused" not in chat.last_text(ORGANISER_ID)
    await run_job(chat.app, CATCH_UP_JOB)
    assert len(prompts_to(chat, SUPPORTER)) == 1


# --- send today's now ----------------------------------------------------------------------------


async def test_send_now_asks_first_then_sends_todays_prompt_once(chat):
    await opt_in(chat, SUPPORTER)
    await chat.press(ORGANISER_ID, schedule.SEND)
    assert "Send today's prompt (day 3) now to 1 subscriber?" in chat.last_text(ORGANISER_ID)
    assert schedule.SEND_CONFIRMED in chat.button_data(ORGANISER_ID)
    assert chat.app.job_queue.get_jobs_by_name(SEND_NOW_JOB) == ()
    await chat.press(ORGANISER_ID, schedule.SEND_CONFIRMED)
    assert chat.last_text(ORGANISER_ID) == text("en", "daily.schedule.sending")
    await run_queued_send(chat)
    assert len(prompts_to(chat, SUPPORTER)) == 1
    await chat.press(ORGANISER_ID, schedule.SEND_CONFIRMED)
    assert chat.last_text(ORGANISER_ID) == text("en", "daily.schedule.already_sent")
    await run_queued_send(chat)
    await run_job(chat.app, CATCH_UP_JOB)  # and the day's own job later finds it done
    assert len(prompts_to(chat, SUPPORTER)) == 1


async def test_send_now_pressed_twice_quickly_still_sends_once(chat):
    await opt_in(chat, SUPPORTER)
    await chat.press(ORGANISER_ID, schedule.SEND_CONFIRMED)
    await chat.press(ORGANISER_ID, schedule.SEND_CONFIRMED)
    await run_queued_send(chat)
    assert len(prompts_to(chat, SUPPORTER)) == 1


async def test_send_now_works_while_the_schedule_is_paused(chat):
    await opt_in(chat, SUPPORTER)
    await chat.press(ORGANISER_ID, schedule.PAUSE)
    await chat.press(ORGANISER_ID, schedule.SEND_CONFIRMED)
    await run_queued_send(chat)
    assert len(prompts_to(chat, SUPPORTER)) == 1


async def test_send_now_outside_the_campaign_sends_nothing(chat, clock):
    await opt_in(chat, SUPPORTER)
    clock.move_to(dt.datetime(2026, 12, 11, 10, 0, tzinfo=LONDON))
    await chat.send(ORGANISER_ID, "/schedule")
    assert schedule.SEND not in chat.button_data(ORGANISER_ID)
    await chat.press(ORGANISER_ID, schedule.SEND_CONFIRMED)
    assert chat.last_text(ORGANISER_ID) == text("en", "daily.schedule.no_prompt_today")
    assert chat.app.job_queue.get_jobs_by_name(SEND_NOW_JOB) == ()


async def test_a_late_subscriber_gets_todays_prompt_once_within_half_an_hour(chat):
    await opt_in(chat, SUPPORTER)
    await run_job(chat.app, CATCH_UP_JOB)  # today's prompt goes out to the one subscriber
    await opt_in(chat, LATE)
    await chat.send(ORGANISER_ID, "/schedule")
    overview = chat.last_text(ORGANISER_ID)
    assert "1 subscriber agreed to the daily prompt after today's went out" in overview
    assert "within half an hour" in overview
    await run_job(chat.app, LATE_JOB)
    assert (len(prompts_to(chat, SUPPORTER)), len(prompts_to(chat, LATE))) == (1, 1)
    await run_job(chat.app, LATE_JOB)
    await run_job(chat.app, CATCH_UP_JOB)
    assert (len(prompts_to(chat, SUPPORTER)), len(prompts_to(chat, LATE))) == (1, 1)


async def test_after_a_launch_past_prompt_time_send_now_serves_those_who_joined_since(chat):
    """Newcomer report: started after 09:00, day 1's prompt went to nobody, and "Send today's
    now" asked to confirm and then said it had already gone out."""
    await run_job(chat.app, CATCH_UP_JOB)  # at launch, nobody has subscribed yet
    await opt_in(chat, SUPPORTER)
    await chat.send(ORGANISER_ID, "/schedule")
    assert schedule.SEND in chat.button_data(ORGANISER_ID)
    await chat.press(ORGANISER_ID, schedule.SEND)
    assert "to the 1 subscriber who hasn't had it yet" in chat.last_text(ORGANISER_ID)
    await chat.press(ORGANISER_ID, schedule.SEND_CONFIRMED)
    assert chat.last_text(ORGANISER_ID) == text("en", "daily.schedule.sending")
    await run_queued_send(chat)
    assert len(prompts_to(chat, SUPPORTER)) == 1


async def test_with_nobody_to_receive_it_send_now_is_not_offered_and_the_overview_says_so(chat):
    await chat.send(ORGANISER_ID, "/schedule")
    assert "Nobody would get today's prompt" in chat.last_text(ORGANISER_ID)
    assert set(chat.button_data(ORGANISER_ID)) == {schedule.DAYS, schedule.PAUSE}
    for button in (schedule.SEND, schedule.SEND_CONFIRMED):  # from an older overview
        await chat.press(ORGANISER_ID, button)
        assert chat.last_text(ORGANISER_ID) == text("en", "daily.schedule.nobody_to_send")
    assert chat.app.job_queue.get_jobs_by_name(SEND_NOW_JOB) == ()
    await opt_in(chat, SUPPORTER)
    await chat.send(ORGANISER_ID, "/schedule")
    assert "Nobody would get" not in chat.last_text(ORGANISER_ID)
    assert schedule.SEND in chat.button_data(ORGANISER_ID)


@pytest.mark.parametrize(
    ("language_code", "asked"),
    [
        ("en", "(day 3) now to the channel?"),
        ("pt-br", "(dia 3) para o canal?"),
        ("es", "(día 3) al canal?"),
    ],
)
async def test_with_only_a_channel_send_now_says_it_goes_to_the_channel(
    clock, api, tmp_path, language_code, asked
):
    async with running_bot(make_settings(tmp_path, channel_id="@stepupchannel"), api) as chat:
        await chat.send(ORGANISER_ID, "/schedule", language_code)
        await chat.press(ORGANISER_ID, schedule.SEND, language_code)
        assert asked in chat.last_text(ORGANISER_ID)


async def test_send_now_with_nothing_to_send_says_so_without_asking_to_confirm(chat):
    await opt_in(chat, SUPPORTER)
    await run_job(chat.app, CATCH_UP_JOB)
    await chat.press(ORGANISER_ID, schedule.SEND)  # from an overview shown before it went out
    assert chat.last_text(ORGANISER_ID) == text("en", "daily.schedule.already_sent")
    assert schedule.SEND_CONFIRMED not in chat.button_data(ORGANISER_ID)


# --- nobody else (X1) ----------------------------------------------------------------------------


async def test_schedule_command_is_refused_to_a_non_organiser(chat):
    replies = await chat.send(SUPPORTER, "/schedule")
    assert [call.text for call in replies] == [text("en", "core.errors.not_allowed")]


@pytest.mark.parametrize("data", ORGANISER_BUTTONS)
async def test_schedule_buttons_do_nothing_for_a_non_organiser(chat, data):
    await opt_in(chat, SUPPORTER)
    before = len(chat.api.sent(SUPPORTER))
    replies = await chat.press(SUPPORTER, data)
    assert answers(replies) == [text("en", "core.errors.not_allowed")]
    assert len(chat.api.sent(SUPPORTER)) == before  # no preview, no edited message
    assert not daily.is_paused(chat.storage)
    assert chat.app.job_queue.get_jobs_by_name(SEND_NOW_JOB) == ()
    assert chat.storage.daily_run("2026-11-27") is None


async def test_a_post_x_refused_at_prompt_time_goes_out_with_the_next_half_hourly_run(
    clock, tmp_path, api
):
    async with social.FakeX() as x:
        x.fault = social.server_error(503)
        settings = make_settings(tmp_path, **social.x_account_settings(x))
        async with running_bot(settings, api) as chat:
            await opt_in(chat, SUPPORTER)
            await run_job(chat.app, CATCH_UP_JOB)  # the prompt goes out; X is down
            await chat.send(ORGANISER_ID, "/schedule")
            overview = chat.last_text(ORGANISER_ID)
            x.fault = None
            await run_job(chat.app, LATE_JOB)  # nobody late: only the post to X is due
            await chat.send(ORGANISER_ID, "/schedule")
            after = chat.last_text(ORGANISER_ID)
    assert "X: failed; tried again within half an hour" in overview
    assert "X: posted" in after
    assert len(x.posts) == 1 and len(prompts_to(chat, SUPPORTER)) == 1


async def test_a_post_x_rate_limited_at_prompt_time_goes_out_when_x_says_its_limit_resets(
    clock, tmp_path, api
):
    reset = NOW + dt.timedelta(minutes=20)
    async with social.FakeX() as x:
        x.fault = social.x_rate_limited(reset)
        settings = make_settings(tmp_path, **social.x_account_settings(x))
        async with running_bot(settings, api) as chat:
            await opt_in(chat, SUPPORTER)
            await run_job(chat.app, CATCH_UP_JOB)  # the prompt goes out; X says "wait"
            await chat.send(ORGANISER_ID, "/schedule")
            overview = chat.last_text(ORGANISER_ID)
            x.fault = None
            clock.move_to(NOW + dt.timedelta(minutes=10))
            await run_job(chat.app, LATE_JOB)  # before the reset: X is not asked in vain
            asked_before_the_reset = x.calls("/2/tweets")
            (at_reset,) = chat.app.job_queue.get_jobs_by_name(X_RETRY_JOB)
            clock.move_to(reset + daily.X_RESET_MARGIN)
            await at_reset.run(chat.app)
            await chat.send(ORGANISER_ID, "/schedule")
            after = chat.last_text(ORGANISER_ID)
    assert "X: rate limit reached; tried again at 10:20, when it resets" in overview
    assert asked_before_the_reset == 1
    assert at_reset.job.trigger.run_date == reset + daily.X_RESET_MARGIN
    assert "X: posted" in after
    assert len(x.posts) == 1 and len(prompts_to(chat, SUPPORTER)) == 1


async def test_a_rate_limit_lasting_past_the_day_ends_the_days_tries_at_x(clock, tmp_path, api):
    tomorrow = NOW + dt.timedelta(days=1)
    async with social.FakeX() as x:
        x.fault = social.x_rate_limited(tomorrow)
        settings = make_settings(tmp_path, **social.x_account_settings(x))
        async with running_bot(settings, api) as chat:
            await run_job(chat.app, CATCH_UP_JOB)
            clock.move_to(NOW + dt.timedelta(minutes=30))
            await run_job(chat.app, LATE_JOB)
            await chat.send(ORGANISER_ID, "/schedule")
            overview = chat.last_text(ORGANISER_ID)
            retries = chat.app.job_queue.get_jobs_by_name(X_RETRY_JOB)
    assert "X: failed (see the logs" in overview
    assert x.calls("/2/tweets") == 1 and retries == ()


async def test_with_some_x_keys_empty_the_schedule_names_them_and_nothing_goes_to_x(
    clock, tmp_path, api
):
    async with social.FakeX() as x:
        some_keys = {
            key: value
            for key, value in social.x_account_settings(x).items()
            if key in ("x_api_url", "x_api_key", "x_api_secret")
        }
        settings = make_settings(tmp_path, **some_keys)
        async with running_bot(settings, api) as chat:
            await opt_in(chat, SUPPORTER)
            await run_job(chat.app, CATCH_UP_JOB)
            await chat.send(ORGANISER_ID, "/schedule")
            overview = chat.last_text(ORGANISER_ID)
    missing = "X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET empty in the settings"
    assert f"X: incomplete: {missing} (posting needs all four X keys)" in overview
    assert x.requests == [] and len(prompts_to(chat, SUPPORTER)) == 1
