"""D1 and S2 for real: the whole bot runs as a subprocess against a loopback Bot API, is killed
with SIGKILL twice in the middle of a broadcast, restarted each time, and must end with every
recipient served, duplicates no more than the sends in flight at the kills, and an intact
database."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.campaign import load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE, Settings
from bot.consent import UPDATES, WHATS_NEXT, Rules
from bot.delivery import create_broadcast, enqueue
from bot.storage import Storage
from tests.support.bot_api import FakeBotApi, start_bot_process

# Paid broadcasts, so a run is over in seconds; a batch (the most in flight) is a second of it.
FAST = {"BROADCAST_RATE": "500", "PAID_BROADCASTS": "true"}

RECIPIENTS = 2_000
TEXT = "<b>Kill test</b>: one message per supporter"
KILL_AFTER = (400, 1_200)  # messages of the broadcast delivered before each kill
GIVE_UP_SECONDS = 240  # guards against a hang; not an assertion about speed


async def seed(path: Path, organiser: int | None = None) -> int:
    storage = Storage.open(path)
    for user_id in range(1, RECIPIENTS + 1):
        storage.ensure_supporter(user_id, "en")
        storage.set_consents(user_id, {UPDATES: True, WHATS_NEXT: True}, "opt-in-v1")
    broadcast_id = create_broadcast(storage, texts={"en": TEXT}, created_by=organiser)
    # Now 'running', as if a process had just started it (rules: the shipped campaign's).
    await enqueue(storage, broadcast_id, Rules.of(load_campaign(DEFAULT_CAMPAIGN_FILE), Settings()))
    storage.close()
    return broadcast_id


def read(path: Path, broadcast_id: int) -> tuple[str, dict[str, int], str]:
    storage = Storage.open(path)
    try:
        status = storage.broadcast_status(broadcast_id)
        return status, storage.broadcast_summary(broadcast_id), storage.integrity()
    finally:
        storage.close()


def received(api: FakeBotApi) -> Counter[int]:
    return Counter(
        request.chat_id
        for request in api.sends()
        if request.status == 200 and request.params.get("text") == TEXT
    )


async def until(condition, bot: asyncio.subprocess.Process, log: Path, what: str) -> None:
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not condition():
        if bot.returncode is not None:
            pytest.fail(f"the bot exited ({bot.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.02)


async def test_a_broadcast_killed_twice_serves_everyone_with_duplicates_bounded(tmp_path):
    database, log = tmp_path / "bot.db", tmp_path / "bot.log"
    broadcast_id = await seed(database)
    in_flight_at_kills = []

    async with FakeBotApi() as api:
        for kill_after in KILL_AFTER:
            bot = await start_bot_process(api.base_url, database, log, **FAST)
            await until(
                lambda n=kill_after: received(api).total() >= n, bot, log, f"{kill_after} sends"
            )
            bot.kill()
            await bot.wait()
            _, summary, _ = read(database, broadcast_id)
            in_flight_at_kills.append(summary.get("sending", 0))

        bot = await start_bot_process(api.base_url, database, log, **FAST)
        await until(
            lambda: read(database, broadcast_id)[0] == "done", bot, log, "the broadcast to end"
        )
        bot.terminate()
        await bot.wait()

    counts = received(api)
    status, summary, integrity = read(database, broadcast_id)
    assert set(counts) == set(range(1, RECIPIENTS + 1)), "someone was never served"
    assert sum(counts.values()) - RECIPIENTS <= sum(in_flight_at_kills)
    assert (status, summary) == ("done", {"sent": RECIPIENTS})
    assert integrity == "ok"


async def test_sigterm_mid_broadcast_records_the_batch_and_the_next_start_finishes_it(tmp_path):
    """D11 with the real process: at SIGTERM the batch in flight is recorded (what a send cut
    short left 'sending' goes out again, the only possible duplicates), the process exits by
    itself, and the next start carries on, with a progress message and the final report to the
    organiser."""
    database, log = tmp_path / "bot.db", tmp_path / "bot.log"
    organiser = RECIPIENTS + 1
    broadcast_id = await seed(database, organiser)
    settings = {**FAST, "ORGANISER_IDS": str(organiser)}

    async with FakeBotApi() as api:
        bot = await start_bot_process(api.base_url, database, log, **settings)
        await until(lambda: received(api).total() >= 400, bot, log, "400 sends")
        bot.terminate()
        await asyncio.wait_for(bot.wait(), GIVE_UP_SECONDS)
        status, summary, _ = read(database, broadcast_id)
        assert status == "running"
        # The batch in flight was recorded: each message Telegram took is noted sent.
        assert summary.get("sent", 0) == received(api).total()
        in_flight = summary.get("sending", 0)

        bot = await start_bot_process(api.base_url, database, log, **settings)
        await until(
            lambda: read(database, broadcast_id)[0] == "done", bot, log, "the broadcast to end"
        )
        await until(lambda: len(api.sends(organiser)) == 4, bot, log, "the final report")
        bot.terminate()
        await bot.wait()

    counts = received(api)
    assert set(counts) == set(range(1, RECIPIENTS + 1)), "someone was never served"
    assert counts.total() - RECIPIENTS <= in_flight
    to_organiser = [request.params["text"] for request in api.sends(organiser)]
    titles = [f"Sending broadcast #{broadcast_id}", "stopped</b> before the end"]
    titles += [f"Sending broadcast #{broadcast_id}", f"Broadcast #{broadcast_id} finished"]
    assert [title in sent for title, sent in zip(titles, to_organiser, strict=True)] == [True] * 4
