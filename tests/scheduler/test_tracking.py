"""Hashtag tracking's jobs on the real Application: problems reach organisers once, the evening
digest goes out on campaign days, and nothing is scheduled when no source is configured.

The sources are either a fake `Source` (the protocol bot.tracking polls) put where post_init
keeps the real ones, or the real X source answered by aioresponses in X's documented shapes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aioresponses import aioresponses

from bot.app.offline import Fault
from bot.tracking import Found, SourceError, Sources
from scheduler.tracking import (
    DIGEST_JOB,
    POLL_JOB,
    RESET_POLL_JOB,
    poll_hashtags,
    send_digest,
)
from tests.support import social
from tests.support.fakes import X_ERRORS, JobContext, WireResponse
from tests.support.harness import ORGANISER_ID, make_settings, running_bot

LONDON = ZoneInfo("Europe/London")
SECOND_ORGANISER = 5151  # after ORGANISER_ID in the order organisers are told
SUPPORTER = 910_000_001
ORGANISERS = frozenset({ORGANISER_ID, SECOND_ORGANISER})
X_COUNTS = re.compile(r"^https://api\.twitter\.com/2/tweets/counts/recent\?.*$")
# The campaign's months as each organiser reads them in the digest's title.
MONTHS = {11: ("November", "novembro"), 12: ("December", "dezembro")}
BLUESKY = {"bluesky_handle": "stepup.bsky.social", "bluesky_app_password": "app-pass-word"}


class FakeSource:
    """A tracking source (bot.tracking.Source) that finds nothing, or fails as told."""

    name = "bluesky"
    metered = False
    has_counts = False

    def __init__(self) -> None:
        self.failure: Exception | None = None
        self.searches = 0
        self.closed = False

    async def hourly_counts(self, hashtag: str, start: dt.datetime) -> dict[dt.datetime, int]:
        raise NotImplementedError

    async def search(self, hashtag: str, checkpoint: str | None) -> Found:
        self.searches += 1
        if self.failure:
            raise self.failure
        return Found([], checkpoint)

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, organiser_ids=ORGANISERS)


@pytest.fixture
def people(chat):
    """Two organisers, the second reading Portuguese, and a supporter who is no organiser."""
    chat.storage.ensure_supporter(SECOND_ORGANISER, "pt")
    chat.storage.ensure_supporter(SUPPORTER, "en")
    return chat


@pytest.fixture
def source(people) -> FakeSource:
    """The fake as the one source, where post_init keeps the real ones."""
    fake = FakeSource()
    people.app.bot_data.tracking = Sources(bluesky=fake)
    return fake


def london(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=LONDON)


# --- problems reach organisers once ------------------------------------------------------------


async def test_a_new_problem_reaches_each_organiser_once_in_her_language(chat, source):
    source.failure = SourceError("unauthorized", "401")

    await poll_hashtags(JobContext(chat.app))
    await poll_hashtags(JobContext(chat.app))  # still failing: nothing new to say

    assert source.searches == 2
    [english] = chat.texts(ORGANISER_ID)
    [portuguese] = chat.texts(SECOND_ORGANISER)
    assert "Bluesky rejected our credentials (401)" in english
    assert "O Bluesky recusou nossas credenciais (401)" in portuguese
    assert chat.texts(SUPPORTER) == []


async def test_the_end_of_a_problem_reaches_each_organiser_once_in_her_language(chat, source):
    source.failure = SourceError("server_error", "503")
    await poll_hashtags(JobContext(chat.app))
    source.failure = None

    await poll_hashtags(JobContext(chat.app))
    await poll_hashtags(JobContext(chat.app))  # still answering: nothing new to say

    [_, english] = chat.texts(ORGANISER_ID)
    [_, portuguese] = chat.texts(SECOND_ORGANISER)
    assert "Bluesky answers again" in english
    assert "o Bluesky voltou a responder" in portuguese
    assert chat.texts(SUPPORTER) == []


@pytest.mark.parametrize(
    "fault",
    [
        Fault(403, "Forbidden: bot was blocked by the user"),
        Fault(400, "Bad Request: chat not found"),
    ],
)
async def test_an_organiser_who_cannot_be_reached_does_not_stop_the_others(chat, source, fault):
    source.failure = SourceError("server_error", "503")
    chat.api.fail(fault, when=lambda call: call.chat_id == ORGANISER_ID)

    await poll_hashtags(JobContext(chat.app))

    assert len(chat.api.sent(ORGANISER_ID)) == 1  # tried once, refused by Telegram
    [alert] = chat.texts(SECOND_ORGANISER)
    assert "Bluesky" in alert and "servidores" in alert


class HangingSource(FakeSource):
    """X or Bluesky accepting the connection and never answering."""

    async def search(self, hashtag: str, checkpoint: str | None) -> Found:
        self.searches += 1
        await asyncio.Event().wait()
        raise AssertionError("never answered")


async def test_a_poll_hanging_on_its_source_keeps_nobody_waiting(people):
    hanging = HangingSource()
    people.app.bot_data.tracking = Sources(bluesky=hanging)
    poll = asyncio.create_task(poll_hashtags(JobContext(people.app)))
    while not hanging.searches:
        await asyncio.sleep(0.01)

    replies = await asyncio.wait_for(people.send(SUPPORTER, "/help"), 10)

    assert "999" in " ".join(call.text for call in replies) and not poll.done()
    poll.cancel()


class HeldSource(FakeSource):
    """A source whose answers wait until the test lets them go, counting those waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()
        self.waiting = self.most_waiting = 0

    async def search(self, hashtag: str, checkpoint: str | None) -> Found:
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        await self.answer.wait()
        self.waiting -= 1
        return await super().search(hashtag, checkpoint)


async def test_a_poll_meeting_another_one_under_way_waits_for_it(people):
    # A poll at a rate limit's reset meeting the regular one: asking X at once, both would
    # spend the day's budget on the same posts.
    held = HeldSource()
    people.app.bot_data.tracking = Sources(bluesky=held)
    regular = asyncio.create_task(poll_hashtags(JobContext(people.app)))
    at_reset = asyncio.create_task(poll_hashtags(JobContext(people.app)))
    await asyncio.sleep(0.1)  # both under way, as far as they can go
    held.answer.set()
    await asyncio.gather(regular, at_reset)
    assert held.most_waiting == 1
    assert held.searches == 2 * len(people.app.bot_data.campaign.all_hashtags)


async def test_an_unexpected_failure_is_logged_and_the_next_poll_still_runs(chat, source, caplog):
    source.failure = RuntimeError("the database is locked")

    with caplog.at_level(logging.ERROR, logger="scheduler.tracking"):
        await poll_hashtags(JobContext(chat.app))  # does not raise
    source.failure = None
    await poll_hashtags(JobContext(chat.app))

    [record] = [r for r in caplog.records if r.name == "scheduler.tracking"]
    assert record.exc_info and record.exc_info[0] is RuntimeError
    assert source.searches > 1  # the second poll searched every hashtag again
    assert chat.texts(ORGANISER_ID) == []


async def test_the_x_source_opened_at_start_is_polled_and_its_401_reported_once(tmp_path):
    settings = make_settings(tmp_path, organiser_ids=ORGANISERS, x_bearer_token="test-bearer")
    with aioresponses() as mocked:
        # X API v2's answer to a bearer token it does not accept.
        mocked.get(
            X_COUNTS, status=401, payload=X_ERRORS[401], response_class=WireResponse, repeat=True
        )
        async with running_bot(settings) as chat:
            await poll_hashtags(JobContext(chat.app))
            await poll_hashtags(JobContext(chat.app))
        requests = sum(len(calls) for calls in mocked.requests.values())

    assert requests == 2  # one per poll: no retry
    for organiser in ORGANISERS:
        [alert] = chat.texts(organiser)
        assert "X rejected our credentials (401)" in alert


async def test_after_a_429_x_is_asked_again_when_its_limit_resets_not_at_the_next_poll(tmp_path):
    moment = london(11, 27, 10)  # 10:00 UTC
    reset = moment + dt.timedelta(minutes=20)
    async with social.FakeX() as x, social.FakeBluesky() as bluesky:
        x.fault = social.x_rate_limited(reset)
        settings = make_settings(
            tmp_path,
            organiser_ids=ORGANISERS,
            tracking_poll_minutes=60,
            x_bearer_token=social.X_BEARER,
            x_api_url=x.url,
            bluesky_handle=social.BLUESKY_HANDLE,
            bluesky_app_password=social.BLUESKY_PASSWORD,
            bluesky_api_url=bluesky.url,
        )
        with time_machine.travel(moment, tick=False) as clock:
            async with running_bot(settings) as chat:
                await poll_hashtags(JobContext(chat.app))
                await chat.send(ORGANISER_ID, "/trends")
                trends = chat.last_text(ORGANISER_ID)
                x.fault = None
                asked, searched = x.calls("/counts/recent"), bluesky.calls("/searchPosts")
                (at_reset,) = chat.app.job_queue.get_jobs_by_name(RESET_POLL_JOB.format(source="x"))
                clock.move_to(reset)
                await at_reset.run(chat.app)
                asked_at_reset = x.calls("/counts/recent") - asked

    texts = chat.texts(ORGANISER_ID)
    alert, recovered = texts[0], texts[-1]
    when = "tracking pauses until 10:20 UTC, when X is asked again"
    assert when in alert and when in trends
    assert at_reset.job.trigger.run_date == reset
    assert asked_at_reset > 0 and "X answers again" in recovered
    assert bluesky.calls("/searchPosts") == searched  # only X was waiting for its reset


# --- the evening digest ------------------------------------------------------------------------


def seed_day(chat, day: dt.date) -> None:
    chat.storage.save_hashtag_counts("bluesky", "16Days", {f"{day.isoformat()}T10:00:00+00:00": 42})


@pytest.mark.parametrize(
    "moment",
    [london(11, 25, 20), london(11, 27, 20), london(12, 10, 20), london(12, 11, 20)],
    ids=["first day", "third day", "last day", "day after"],
)
async def test_the_digest_reaches_every_organiser_on_campaign_days(chat, people, moment):
    seed_day(chat, moment.date())

    with time_machine.travel(moment, tick=False):
        await send_digest(JobContext(chat.app))

    [english] = chat.texts(ORGANISER_ID)
    [portuguese] = chat.texts(SECOND_ORGANISER)
    english_month, portuguese_month = MONTHS[moment.month]
    assert f"<b>Hashtags on {moment.day} {english_month}</b>" in english
    assert "#16Days: <b>42</b>" in english
    assert f"<b>Hashtags em {moment.day} de {portuguese_month}</b>" in portuguese
    assert chat.texts(SUPPORTER) == []


@pytest.mark.parametrize("moment", [london(11, 24, 20), london(12, 12, 20)])
async def test_no_digest_outside_the_campaign(chat, people, moment):
    seed_day(chat, moment.date())

    with time_machine.travel(moment, tick=False):
        await send_digest(JobContext(chat.app))

    assert chat.api.sent() == []


# --- scheduling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "configured", [{"x_bearer_token": "bearer"}, BLUESKY], ids=["x", "bluesky"]
)
async def test_polls_and_digest_are_scheduled_by_name_when_a_source_is_configured(
    tmp_path, configured
):
    settings = make_settings(tmp_path, tracking_poll_minutes=15, **configured)
    async with running_bot(settings) as chat:
        [poll] = chat.app.job_queue.get_jobs_by_name(POLL_JOB)
        [digest] = chat.app.job_queue.get_jobs_by_name(DIGEST_JOB)

    assert poll.job.trigger.interval == dt.timedelta(minutes=15)
    assert poll.job.misfire_grace_time > 0 and poll.job.coalesce is True
    trigger = digest.job.trigger
    assert str(trigger.timezone) == "Europe/London"
    assert trigger.get_next_fire_time(None, london(11, 27, 9)) == london(11, 27, 20)
    assert digest.job.misfire_grace_time > 0 and digest.job.coalesce is True


async def test_nothing_is_scheduled_without_x_or_bluesky(chat):
    assert chat.app.job_queue.get_jobs_by_name(POLL_JOB) == ()
    assert chat.app.job_queue.get_jobs_by_name(DIGEST_JOB) == ()


async def test_the_sources_are_closed_when_the_bot_stops(settings):
    x, bluesky = FakeSource(), FakeSource()
    async with running_bot(settings) as chat:
        chat.app.bot_data.tracking = Sources(x=x, bluesky=bluesky)
        assert not (x.closed or bluesky.closed)

    assert x.closed and bluesky.closed
