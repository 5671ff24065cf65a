"""Delivery benchmark: the engine sending to many supporters through python-telegram-bot's
AIORateLimiter (built as bot/app.py builds it) to a loopback fake Bot API in its own process.

    .venv/bin/python -m bench.bench_delivery            # 10k and 100k at 1,000/s, 900 at 30/s
    .venv/bin/python -m bench.bench_delivery --quick    # 2k and 10k at 1,000/s, 150 at 30/s

For each run: the achieved rate as a fraction of the configured one (target >= 0.95), the busiest
second seen by the fake API, duplicates, and memory: the Python heap's peak during the run
(tracemalloc) and the process's peak RSS so far. Recipients are streamed from SQLite, so memory
should not grow with their number.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from telegram.ext import AIORateLimiter, ExtBot

from bot.delivery import batch_size_for, create_broadcast, run_broadcast
from bot.storage import Storage, stamp
from tests.fake_bot_api import TOKEN

FULL = ((10_000, 1000.0), (100_000, 1000.0), (900, 30.0))
QUICK = ((2_000, 1000.0), (10_000, 1000.0), (150, 30.0))
TEXT = "<b>Day 5 of #16Days</b>: ask your MP to back safe reporting for migrant women."


@dataclass(frozen=True)
class Result:
    recipients: int
    rate: float
    seconds: float
    delivered: int
    duplicates: int
    busiest_second: int
    heap_peak_mb: float
    max_rss_mb: float

    @property
    def achieved(self) -> float:
        return self.delivered / self.seconds

    def row(self) -> str:
        return (
            f"{self.recipients:>10,} {self.rate:>7,.0f} {self.seconds:>8.1f} "
            f"{self.achieved:>9,.0f} {self.achieved / self.rate:>9.3f} {self.busiest_second:>9,} "
            f"{self.duplicates:>5} {self.heap_peak_mb:>9.1f} {self.max_rss_mb:>8.1f}"
        )


HEADER = (
    f"{'recipients':>10} {'rate/s':>7} {'seconds':>8} {'achieved':>9} {'fraction':>9} "
    f"{'busiest s':>9} {'dups':>5} {'heap MB':>9} {'RSS MB':>8}"
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
        }


@asynccontextmanager
async def fake_api() -> AsyncIterator[str]:
    """A fresh fake Bot API process; yields its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fake_bot_api", stdout=asyncio.subprocess.PIPE
    )
    try:
        line = await process.stdout.readline()
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        await process.wait()


async def run_once(recipients: int, rate: float, workdir: Path) -> Result:
    storage = Storage.open(workdir / f"bench-{recipients}-{rate:.0f}.db")
    storage.db["supporters"].insert_all(supporters(recipients), batch_size=1000)
    broadcast_id = create_broadcast(storage, texts={"en": TEXT, "pt": TEXT, "es": TEXT})
    async with fake_api() as root:
        limiter = AIORateLimiter(overall_max_rate=rate, max_retries=3)
        async with ExtBot(TOKEN, base_url=f"{root}/bot", rate_limiter=limiter) as bot:
            gc.collect()
            tracemalloc.reset_peak()
            started = time.monotonic()
            await run_broadcast(bot, storage, broadcast_id, batch_size=batch_size_for(rate))
            seconds = time.monotonic() - started
            _, heap_peak = tracemalloc.get_traced_memory()
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
        heap_peak_mb=heap_peak / 2**20,
        max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


async def main(quick: bool) -> None:
    tracemalloc.start()
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        for recipients, rate in QUICK if quick else FULL:
            result = await run_once(recipients, rate, Path(workdir))
            print(result.row(), flush=True)


if __name__ == "__main__":
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="smaller runs (about 20 seconds)")
    asyncio.run(main(options.parse_args().quick))
