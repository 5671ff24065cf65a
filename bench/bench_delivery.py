"""Delivery benchmark: the engine sending to many supporters through our rate limiter (built
as bot/app/build.py builds it) to a loopback fake Bot API in its own process.

    .venv/bin/python -m bench.bench_delivery            # 10k and 100k at 1,000/s, 900 at 30/s
    .venv/bin/python -m bench.bench_delivery --quick    # 2k and 10k at 1,000/s, 150 at 30/s
    .venv/bin/python -m bench.bench_delivery --httpx    # each run also through httpx
    .venv/bin/python -m bench.bench_delivery --latency 0.15  # Telegram 150 ms away (default 0.1)

`--httpx` repeats each run through python-telegram-bot's own httpx request (pool sized the same)
right after the one through ours (bot/app/request.py, aiohttp), for comparison.

Each run is a fresh process, so its memory figures are its own: resident memory once the
database is seeded and at its peak, which should not grow with the number of recipients (they
are streamed from SQLite a batch at a time). Also shown: the achieved rate as a fraction of the
configured one (target >= 0.95), the busiest second the fake API saw, duplicates, and the CPU
the sending process spent per message, which is what caps the rate on a small machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from telegram.constants import FloodLimit
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.app.request import telegram_request
from bot.consent import Rules
from bot.delivery import Sending, create_broadcast, run_broadcast
from bot.ratelimit import PriorityRateLimiter
from bot.storage import Storage, stamp
from tests.support.bot_api import TOKEN

# A server's distance from Telegram: each call is answered this many seconds after it arrives,
# so the connections a rate needs are busy as long as in the real world (`--latency`).
LATENCY = 0.1
FULL = ((10_000, 1000.0), (100_000, 1000.0), (900, 30.0))
QUICK = ((2_000, 1000.0), (10_000, 1000.0), (150, 30.0))
# A campaign still running, with the default cap: each supporter gets this one broadcast.
RULES = Rules(ends_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC), daily_cap=1, zone=ZoneInfo("UTC"))
TEXT = "<b>Day 5 of #16Days</b>: ask your MP to back safe reporting for migrant women."


@dataclass(frozen=True)
class Result:
    recipients: int
    rate: float
    seconds: float
    delivered: int
    duplicates: int
    busiest_second: int
    cpu_ms_per_message: float
    rss_seeded_mb: float
    rss_peak_mb: float

    @property
    def achieved(self) -> float:
        return self.delivered / self.seconds

    def row(self) -> str:
        return (
            f"{self.recipients:>10,} {self.rate:>7,.0f} {self.seconds:>8.1f} "
            f"{self.achieved:>9,.0f} {self.achieved / self.rate:>9.3f} {self.busiest_second:>9,} "
            f"{self.duplicates:>5} {self.cpu_ms_per_message:>8.2f} "
            f"{self.rss_seeded_mb:>10.1f} {self.rss_peak_mb:>9.1f}"
        )


HEADER = (
    f"{'recipients':>10} {'rate/s':>7} {'seconds':>8} {'achieved':>9} {'fraction':>9} "
    f"{'busiest s':>9} {'dups':>5} {'CPU ms':>8} {'RSS seeded':>10} {'RSS peak':>9}"
)


def supporters(count: int) -> Iterator[dict[str, object]]:
    """Opted-in supporters, generated one at a time (never a list of `count`)."""
    created_at = stamp()
    languages = ("en", "pt", "es")
    for user_id in range(1, count + 1):
        yield {
            "user_id": user_id,
            "language": languages[user_id % 3],
            "created_at": created_at,
            "referral_code": f"r{user_id}",
            "opted_in": 1,
            "updates_opted_in": 1,
        }


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@asynccontextmanager
async def fake_api(latency: float) -> AsyncIterator[str]:
    """A fake Bot API in its own process, answering each call after `latency` seconds; yields
    its root URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.bot_api", str(latency), stdout=asyncio.subprocess.PIPE
    )
    try:
        line = await process.stdout.readline()
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        await process.wait()


async def measure(
    recipients: int, rate: float, workdir: Path, client: str, latency: float
) -> Result:
    """One run, in this process, sending through `client` ("aiohttp" or "httpx") to a fake
    Telegram `latency` seconds away."""
    storage = Storage.open(workdir / "bench.db")
    storage.db["supporters"].insert_all(supporters(recipients), batch_size=1000)
    broadcast_id = create_broadcast(storage, texts={"en": TEXT, "pt": TEXT, "es": TEXT})
    rss_seeded = resident_mb()
    async with fake_api(latency) as root:
        paid = rate > FloodLimit.MESSAGES_PER_SECOND
        limiter = PriorityRateLimiter(rate, paid_broadcasts=paid)
        request = telegram_request(rate)
        if client == "httpx":
            request = HTTPXRequest(request.connection_pool_size, pool_timeout=5.0)
        async with ExtBot(
            TOKEN, base_url=f"{root}/bot", rate_limiter=limiter, request=request
        ) as bot:
            cpu, started = cpu_seconds(), time.monotonic()
            await run_broadcast(
                bot,
                storage,
                broadcast_id,
                rules=RULES,
                sending=Sending.at_rate(rate, paid_broadcasts=paid),
            )
            seconds, cpu = time.monotonic() - started, cpu_seconds() - cpu
        async with httpx.AsyncClient() as client:
            stats = (await client.get(f"{root}/_fake/stats")).json()
    storage.close()
    return Result(
        recipients=recipients,
        rate=rate,
        seconds=seconds,
        delivered=stats["delivered"],
        duplicates=stats["duplicates"],
        busiest_second=max(count for _, count in stats["per_second"]),
        cpu_ms_per_message=cpu * 1000 / recipients,
        rss_seeded_mb=rss_seeded,
        rss_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def run_in_fresh_process(recipients: int, rate: float, client: str, latency: float) -> Result:
    command = [sys.executable, "-m", "bench.bench_delivery", "--one", str(recipients), str(rate)]
    command += ["--client", client, "--latency", str(latency)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return Result(**json.loads(output))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="smaller runs (about 30 seconds)")
    options.add_argument("--httpx", action="store_true", help="each run also through httpx")
    options.add_argument(
        "--latency", type=float, default=LATENCY, help="seconds Telegram takes to answer a call"
    )
    options.add_argument("--client", default="aiohttp", help=argparse.SUPPRESS)
    options.add_argument("--one", nargs=2, metavar=("RECIPIENTS", "RATE"), help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as workdir:
            recipients, rate = int(args.one[0]), float(args.one[1])
            result = asyncio.run(
                measure(recipients, rate, Path(workdir), args.client, args.latency)
            )
        print(json.dumps(asdict(result)))
        return
    clients = ("aiohttp", "httpx") if args.httpx else ("aiohttp",)
    print(f"{'client':>8} {HEADER}", flush=True)
    for recipients, rate in QUICK if args.quick else FULL:
        for client in clients:
            result = run_in_fresh_process(recipients, rate, client, args.latency)
            print(f"{client:>8} {result.row()}", flush=True)


if __name__ == "__main__":
    main()
