"""X in the real process: `python -m bot run` posting the daily prompt to a loopback X
(tests/support/social.py) reached through X_API_URL by tweepy's own session, while the loopback
Bot API (tests/support/bot_api.py) plays Telegram. The campaign starts today with its prompt at
00:00, so the job at start (two seconds in) sends today's prompt: to the channel, to X and to
the opted-in supporters. The bot runs in a zone where it is about noon (`midday_zone`), so
"today" is the same date for the test and for every start of the bot, whatever the hour.

- Killed with SIGKILL the moment X takes the post, before its answer leaves: after the restart X
  has the post once (it refuses the same text again, which the bot reads as "already out"), and
  the channel gets the prompt once, the supporters once each (D1: or twice, if it was in flight
  to them at the kill).
- X never answering: supporters are answered meanwhile, the prompt reaches them and the channel
  while the post to X still waits, X is given up after 15 s, and the log says so in one line
  with no secret in it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import daily
from bot.consent import DAILY_PROMPT
from bot.storage import Storage
from tests.support import social
from tests.support.bot_api import FakeBotApi, start_bot_process
from tests.support.crash_suite import midday_zone, read_db, write_campaign

CHANNEL_ID = -1001234567890
SUBSCRIBERS = (1, 2, 3)
SUPPORTER = 77  # writes to the bot while X hangs
GIVE_UP_SECONDS = 90


@pytest.fixture
def zone() -> ZoneInfo:
    return midday_zone()


@pytest.fixture
def today(zone) -> dt.date:
    return dt.datetime.now(zone).date()


@pytest.fixture
def workdir(tmp_path, today) -> Path:
    write_campaign(tmp_path / "campaign.toml", today)
    storage = Storage.open(tmp_path / "bot.db")
    try:
        for user_id in SUBSCRIBERS:
            storage.ensure_supporter(user_id, "en")
            storage.set_consents(user_id, {DAILY_PROMPT: True}, "social-process")
    finally:
        storage.close()
    return tmp_path


async def start(
    workdir: Path, api: FakeBotApi, x: social.FakeX, zone: ZoneInfo
) -> asyncio.subprocess.Process:
    return await start_bot_process(
        api.base_url,
        workdir / "bot.db",
        workdir / "bot.log",
        CAMPAIGN_FILE=str(workdir / "campaign.toml"),
        CHANNEL_ID=str(CHANNEL_ID),
        X_API_URL=x.url,
        TZ=zone.key,
        **social.X_CREDENTIALS,
    )


async def until(bot: asyncio.subprocess.Process, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not condition():
        assert bot.returncode is None, f"the bot exited before {what}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.05)


async def stop(bot: asyncio.subprocess.Process) -> None:
    if bot.returncode is None:
        bot.send_signal(signal.SIGTERM)
    await asyncio.wait_for(bot.wait(), GIVE_UP_SECONDS)


def x_status(workdir: Path, today: dt.date) -> str | None:
    def status(storage: Storage) -> str | None:
        run = storage.daily_run(today.isoformat())
        return run["x_status"] if run else None

    return read_db(workdir / "bot.db", status)


def sends_in_flight(storage: Storage, today: dt.date) -> int:
    """The day's prompt messages handed to Telegram and not yet recorded as sent."""
    run = storage.daily_run(today.isoformat())
    return storage.broadcast_summary(run["broadcast_id"]).get("sending", 0) if run else 0


def x_settled(workdir: Path, today: dt.date) -> bool:
    """The post to X was made or given up: neither waiting nor in flight."""
    return x_status(workdir, today) not in (None, daily.POSTING)


def everyone_has_the_prompt(api: FakeBotApi) -> bool:
    return all(api.delivered[chat] for chat in (*SUBSCRIBERS, CHANNEL_ID))


def assert_clean_log(workdir: Path) -> str:
    log = (workdir / "bot.log").read_text(errors="replace")
    assert not [secret for secret in social.SECRETS if secret in log]
    assert "Traceback" not in log
    return log


async def test_a_post_x_took_just_before_a_kill_is_not_posted_again_after_the_restart(
    workdir, zone, today
):
    async with FakeBotApi() as api, social.FakeX() as x:
        bot = await start(workdir, api, x, zone)
        x.on_post = lambda text: bot.kill()  # SIGKILL before X's answer leaves
        await asyncio.wait_for(bot.wait(), GIVE_UP_SECONDS)
        assert (len(x.posts), x_status(workdir, today)) == (1, daily.POSTING)
        # The prompt goes to supporters meanwhile: some sends may have been in flight.
        in_flight = read_db(workdir / "bot.db", lambda storage: sends_in_flight(storage, today))

        x.on_post = None
        bot = await start(workdir, api, x, zone)
        try:
            await until(bot, lambda: x_settled(workdir, today), "X's post")
            await until(bot, lambda: everyone_has_the_prompt(api), "the prompt to everyone")
        finally:
            await stop(bot)

    assert x_status(workdir, today) == daily.POSTED
    assert (len(x.posts), x.refused_duplicates) == (1, 1)
    assert api.delivered[CHANNEL_ID] == 1
    delivered = [api.delivered[chat] for chat in SUBSCRIBERS]
    # D1: everyone served, duplicates no more than the sends in flight at the kill.
    assert min(delivered) == 1 and sum(delivered) - len(SUBSCRIBERS) <= in_flight
    assert "X already has the daily prompt" in assert_clean_log(workdir)


async def test_while_x_never_answers_supporters_are_answered_and_get_the_prompt_without_waiting(
    workdir, zone, today
):
    async with FakeBotApi() as api, social.FakeX() as x:
        x.fault = social.Fault("hang")
        bot = await start(workdir, api, x, zone)
        try:
            await until(bot, lambda: x.calls("/2/tweets"), "the post to X")
            api.send_text(SUPPORTER, "/start")
            await until(bot, lambda: api.delivered[SUPPORTER], "an answer to /start")
            await until(bot, lambda: everyone_has_the_prompt(api), "the prompt to everyone")
            # Answered, and the prompt delivered, while the post to X still hangs.
            assert x_status(workdir, today) == daily.POSTING
            await until(bot, lambda: x_settled(workdir, today), "X given up")
        finally:
            await stop(bot)

    assert x_status(workdir, today) == daily.UNKNOWN  # X may have it: not posted again blindly
    assert x.calls("/2/tweets") == 1 and x.posts == []
    x_lines = [line for line in assert_clean_log(workdir).splitlines() if " X" in line]
    assert len(x_lines) == 1 and "timed out" in x_lines[0]
