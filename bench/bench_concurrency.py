"""Concurrency benchmarks: what a rush, a hanging service and a broadcast do to the people
talking to the bot.

The whole bot runs in this process as `stepup-bot run` runs it (its update processor, rate
limiter and jobs started), in front of a loopback fake Bot API that answers every call after a
network latency and refuses with 429, as Telegram does, sends beyond 30 a second overall or one
a second in a chat. Supporters' updates enter at the Application's update queue, as long
polling delivers them. Three runs, each timed from the moment an update is queued to the
moment the bot's answer reaches the fake:

- rush: new supporters press /start within ten seconds. Reported: the time until all are
  welcomed divided by (messages sent / configured rate), target at most 1.1; first-reply
  latency (p50, p95); messages per new supporter; 429s.
- hang: postcodes.io never answers one supporter's postcode while others ask for /help.
  Reported: the others' p95 reply latency (target at most 1 s) and how long the typist waits
  for the WriteToThem fallback (target at most 6 s).
- busy: a 10,000-recipient broadcast at the configured rate while 200 supporters use the bot,
  arriving evenly over a minute, each sending /start, /help and /menu four seconds apart (time
  to read the answer, so the first message the bot sends a chat after an update is that
  update's answer). Reported: the p95 reply latency over all their updates (target at most
  1.5 s) and the share of the capacity replies leave that the broadcast used (target at least
  0.9). The capacity replies leave is the configured rate times the run's length (from the
  first update queued to the bot going idle) minus the messages sent to the supporters in
  that time; the broadcast's share is the broadcast messages Telegram accepted in that time
  divided by it.
- shutdown: the real bot process (`python -m bot run`) sending a 10,000-recipient broadcast
  at the configured rate, 100 ms a call, is sent SIGTERM a few seconds into it, several times
  (each start resumes the broadcast). Reported: seconds from the signal to the process's exit
  (target at most 5 s) and the sends left in flight, unrecorded, at exit (the batch in flight
  is recorded unless the grace period ran out).

- locks: the bot's storage writing as updates do (a new supporter every 10 ms) while another
  connection holds the database's write lock for two seconds (`stepup-bot mps sync`, another
  process), and while a reader keeps a snapshot for two seconds (a backup) as the checkpoint
  that scrubs /forget's erased rows runs. Reported: the event loop's longest stall (target
  about 50 ms), with each write first awaiting `Storage.writable` as the bot's updates, jobs
  and batches do, and without (how the bot wrote before).

    .venv/bin/python -m bench.bench_concurrency [--quick] [--rate 25] [--only busy ...]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from telegram import Update
from telegram.constants import FloodLimit
from telegram.ext import Application

from bench.bench_delivery import supporters
from bench.inbound_mix import SESSION
from bot.app.build import build_application
from bot.app.offline import UpdateFactory
from bot.campaign import load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE, Settings
from bot.consent import Rules
from bot.delivery import create_broadcast, enqueue
from bot.storage import Storage
from bot.storage.base import CHECKPOINT_WAIT_SECONDS
from messages import mp, text
from scheduler import broadcasts
from tests.support.bot_api import MESSAGE_METHODS, TOKEN, FakeBotApi, start_bot_process
from tests.support.harness import make_settings
from tests.support.parliament import FakeServices, lookup_routes

GIVE_UP_SECONDS = 900
READING_SECONDS = 4.0  # between one supporter's steps in the busy run
QUIET_POLLS = 5  # the bot is idle when nothing is queued or at work this many polls in a row


@asynccontextmanager
async def live_bot(
    workdir: Path, latency: float, rate: float, lookups: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[tuple[Application, FakeBotApi]]:
    """The bot started as `stepup-bot run` starts it, over the fake Bot API."""
    async with FakeBotApi(latency=latency, flood_limit=FloodLimit.MESSAGES_PER_SECOND) as api:
        settings = make_settings(
            workdir,
            telegram_bot_token=TOKEN,
            telegram_base_url=api.base_url,
            broadcast_rate=rate,
            paid_broadcasts=False,
        )
        app = build_application(settings, lookups=lookups)
        await app.initialize()
        await app.post_init(app)
        await app.start()
        try:
            yield app, api
        finally:
            await app.stop()
            await app.shutdown()
            await app.post_shutdown(app)


async def feed(app: Application, timed: Iterable[tuple[float, Update]]) -> dict[int, float]:
    """Queue each update at its offset in seconds from now; returns when each was queued."""
    start = time.monotonic()
    queued = {}
    for offset, update in timed:
        delay = start + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        queued[update.update_id] = time.monotonic()
        app.update_queue.put_nowait(update)
    return queued


async def idle(app: Application) -> None:
    """Until every queued update has been handled."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    quiet = 0
    while quiet < QUIET_POLLS:
        busy = app.update_queue.qsize() or app.update_processor.current_concurrent_updates
        quiet = 0 if busy else quiet + 1
        if time.monotonic() > deadline:
            raise TimeoutError("the bot never went idle")
        await asyncio.sleep(0.05)


def sends_to(api: FakeBotApi, chats: set[int]) -> list:
    return [
        request
        for request in api.requests
        if request.method in MESSAGE_METHODS and request.status == 200 and request.chat_id in chats
    ]


def first_replies(
    api: FakeBotApi, timed: list[tuple[float, Update]], queued: dict[int, float]
) -> list[float]:
    """Seconds from each update being queued to the first message the bot sent to its chat
    after it."""
    asked = [(update.effective_chat.id, queued[update.update_id]) for _, update in timed]
    by_chat: dict[int, list[float]] = {}
    for request in sends_to(api, {chat for chat, _ in asked}):
        by_chat.setdefault(request.chat_id, []).append(request.at)
    return [min(at for at in by_chat[chat] if at >= when) - when for chat, when in asked]


def p(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


async def rush(workdir: Path, people: int, latency: float, rate: float) -> str:
    async with live_bot(workdir, latency, rate) as (app, api):
        updates = UpdateFactory(app.bot)
        chats = range(1, people + 1)
        timed = [(10 * n / people, updates.message(chat, "/start")) for n, chat in enumerate(chats)]
        queued = await feed(app, timed)
        await idle(app)
    sent = sends_to(api, set(chats))
    started = min(queued.values())
    ratio = (max(request.at for request in sent) - started) / (len(sent) / rate)
    waits = first_replies(api, timed, queued)
    return (
        f"rush: {people:,} /start in 10 s, {latency * 1000:.0f} ms a call, {rate:g}/s: "
        f"time / (messages / rate) = {ratio:.2f}; first reply p50 {p(waits, 50):.2f} s, "
        f"p95 {p(waits, 95):.2f} s; {len(sent) / people:.2f} messages per supporter; "
        f"{api.over_limit} refused with 429"
    )


class Hanging:
    """postcodes.io never answering; the Members API as usual."""

    def __init__(self) -> None:
        self.services = FakeServices(lookup_routes())

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/postcodes/"):
            await asyncio.Event().wait()
        return self.services(request)


async def walk(app: Application, updates: UpdateFactory, chat: int, steps) -> None:
    for kind, payload in steps:
        if kind == "send":
            await app.process_update(updates.message(chat, payload))
        else:
            await app.process_update(updates.callback(chat, payload))


async def hang(workdir: Path, others: int, latency: float, rate: float) -> str:
    typist = others + 1
    to_postcode = SESSION[: SESSION.index(("press", mp.FIND)) + 1]
    async with live_bot(workdir, latency, rate, httpx.MockTransport(Hanging())) as (app, api):
        updates = UpdateFactory(app.bot)
        await walk(app, updates, typist, to_postcode)
        postcode = updates.message(typist, "SW1A 1AA")
        # Ten a second: well within the rate, so any wait is the hang's doing.
        helps = [(0.2 + n / 10, updates.message(n, "/help")) for n in range(1, others + 1)]
        queued = await feed(app, [(0.0, postcode), *helps])
        await idle(app)
    waits = first_replies(api, helps, queued)
    typed = queued[postcode.update_id]
    fallback = text("en", "mp.lookup_unavailable")
    answer = min(
        request.at
        for request in sends_to(api, {typist})
        if request.at > typed and request.params.get("text") == fallback
    )
    return (
        f"hang: postcodes.io silent for one typist while {others} others ask for /help (10 a "
        "second), "
        f"{latency * 1000:.0f} ms a call: others' reply p95 {p(waits, 95):.2f} s (max "
        f"{max(waits):.2f} s); the typist's WriteToThem fallback after {answer - typed:.2f} s"
    )


async def busy(workdir: Path, recipients: int, people: int, seconds: float, rate: float) -> str:
    async with live_bot(workdir, 0.1, rate) as (app, api):
        storage = app.bot_data.storage
        storage.db["supporters"].insert_all(supporters(recipients), batch_size=1000)
        broadcast_id = create_broadcast(storage, texts={"en": "<b>Day 5</b>: write to your MP"})
        run = broadcasts.start(app, broadcast_id)
        updates = UpdateFactory(app.bot)
        chats = range(recipients + 1, recipients + people + 1)
        steps = ("/start", "/help", "/menu")
        timed = sorted(
            (seconds * n / people + READING_SECONDS * step, updates.message(chat, text))
            for n, chat in enumerate(chats)
            for step, text in enumerate(steps)
        )
        begun = time.monotonic()
        queued = await feed(app, timed)
        await idle(app)
        ended = time.monotonic()
        broadcasts.cancel(app, broadcast_id)
        await run
    window = [request for request in api.requests if begun <= request.at <= ended]
    replies = sum(1 for request in sends_to(api, set(chats)) if begun <= request.at <= ended)
    delivered = sum(
        1
        for request in window
        if request.method in MESSAGE_METHODS
        and request.status == 200
        and request.chat_id <= recipients
    )
    left = rate * (ended - begun) - replies
    waits = first_replies(api, timed, queued)
    return (
        f"busy: a {recipients:,}-recipient broadcast at {rate:g}/s while {people} supporters "
        f"arriving over {seconds:.0f} s send {len(timed)} updates: reply p50 "
        f"{p(waits, 50):.2f} s, p95 {p(waits, 95):.2f} s; the broadcast used "
        f"{delivered / left:.2f} of the capacity replies left ({delivered:,} of {left:,.0f}); "
        f"{api.over_limit} refused with 429"
    )


async def shutdown(workdir: Path, recipients: int, stops: int, rate: float) -> str:
    database, log = workdir / "bot.db", workdir / "bot.log"
    storage = Storage.open(database)
    storage.db["supporters"].insert_all(supporters(recipients), batch_size=1000)
    broadcast_id = create_broadcast(storage, texts={"en": "<b>Day 5</b>: write to your MP"})
    # Running, as if a process had started it: every start resumes it (rules as shipped).
    await enqueue(storage, broadcast_id, Rules.of(load_campaign(DEFAULT_CAMPAIGN_FILE), Settings()))
    storage.close()
    exits, left = [], []
    async with FakeBotApi(latency=0.1, flood_limit=FloodLimit.MESSAGES_PER_SECOND) as api:
        for _ in range(stops):
            bot = await start_bot_process(
                api.base_url, database, log, BROADCAST_RATE=f"{rate:g}", PAID_BROADCASTS="false"
            )
            sent = api.stats()["delivered"]
            deadline = time.monotonic() + GIVE_UP_SECONDS
            while api.stats()["delivered"] < sent + 3 * rate:  # three seconds into sending
                if bot.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the bot never got going:\n{log.read_text()[-3000:]}")
                await asyncio.sleep(0.05)
            signalled = time.monotonic()
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), GIVE_UP_SECONDS)
            exits.append(time.monotonic() - signalled)
            storage = Storage.open(database)
            left.append(storage.broadcast_summary(broadcast_id).get("sending", 0))
            storage.close()
    return (
        f"shutdown: SIGTERM to the real process {stops} times in a {recipients:,}-recipient "
        f"broadcast at {rate:g}/s, 100 ms a call: exit after median "
        f"{statistics.median(exits):.2f} s, longest {max(exits):.2f} s; sends left in flight at "
        f"exit: {max(left)} at most"
    )


def hold(database: Path, begin: str, seconds: float) -> threading.Thread:
    """Another connection in a transaction (`begin`) for `seconds`, from a thread of its own."""

    def run() -> None:
        conn = sqlite3.connect(database, isolation_level=None)
        conn.execute(begin)
        conn.execute("SELECT count(*) FROM supporters").fetchone()  # a reader takes its snapshot
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


async def longest_stall(storage: Storage, gated: bool, during) -> float:
    """The event loop's longest stall, in seconds, while `during` holds the database and the
    bot's storage writes a new supporter every 10 ms."""
    stop = asyncio.Event()
    stall = 0.0

    async def watch() -> None:
        nonlocal stall
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            stall = max(stall, time.perf_counter() - before - 0.005)

    async def write() -> None:
        user_id = 10**9
        while not stop.is_set():
            if gated:
                await storage.writable()
            storage.ensure_supporter(user_id, "en")
            user_id += 1
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(watch()), asyncio.create_task(write())]
    thread = await during()
    await asyncio.to_thread(thread.join)
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*tasks)
    return stall


async def locks(workdir: Path, recipients: int) -> str:
    storage = Storage.open(workdir / "bot.db")
    storage.db["supporters"].insert_all(supporters(recipients), batch_size=1000)

    async def writer(_: bool) -> threading.Thread:
        return hold(storage.path, "BEGIN IMMEDIATE", 2.0)

    async def backup_and_checkpoint(gated: bool) -> threading.Thread:
        reader = hold(storage.path, "BEGIN", 2.0)
        await asyncio.sleep(0.1)
        # Before, the checkpoint waited a second for the reader, and nobody could write meanwhile.
        await asyncio.to_thread(storage.checkpoint, CHECKPOINT_WAIT_SECONDS if gated else 1.0)
        return reader

    stalls = {
        (name, gated): await longest_stall(storage, gated, functools.partial(during, gated))
        for name, during in (("writer", writer), ("checkpoint", backup_and_checkpoint))
        for gated in (True, False)
    }
    storage.close()
    return (
        "locks: the event loop's longest stall while another connection holds the write lock "
        f"2 s: {stalls['writer', True] * 1000:.0f} ms (writing without waiting for it: "
        f"{stalls['writer', False] * 1000:.0f} ms); while a backup reads 2 s and the scrubbing "
        f"checkpoint runs: {stalls['checkpoint', True] * 1000:.0f} ms (without, and the "
        f"checkpoint waiting 1 s as it did: "
        f"{stalls['checkpoint', False] * 1000:.0f} ms)"
    )


async def main_async(args: argparse.Namespace) -> None:
    people = 200 if args.quick else 1000
    with tempfile.TemporaryDirectory() as folder:
        runs = [
            ("rush-100", rush(Path(folder, "rush-100"), people, 0.1, args.rate)),
            ("rush-30", rush(Path(folder, "rush-30"), people, 0.03, args.rate)),
            ("hang", hang(Path(folder, "hang"), 50 if args.quick else 100, 0.1, args.rate)),
            (
                "busy",
                busy(
                    Path(folder, "busy"),
                    10_000,
                    100 if args.quick else 200,
                    30 if args.quick else 60,
                    args.rate,
                ),
            ),
            ("locks", locks(Path(folder, "locks"), 100_000)),
            (
                "shutdown",
                shutdown(Path(folder, "shutdown"), 10_000, 3 if args.quick else 5, args.rate),
            ),
        ]
        for name, run in runs:
            if args.only and name.split("-")[0] not in args.only:
                run.close()
                continue
            Path(folder, name).mkdir()
            print(await run, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, a few minutes")
    parser.add_argument("--rate", type=float, default=25.0, help="BROADCAST_RATE")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("rush", "hang", "busy", "locks", "shutdown"),
        help="these runs only",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
