"""Start-up cost: the real bot process (`python -m bot run`) against the loopback fake Bot API
(tests/fake_bot_api.py) served from this process, measured from launch to its first
`getUpdates` (the moment it can answer supporters), then left idle.

    .venv/bin/python -m bench.bench_startup [--runs 5] [--idle 10]

Columns: `CPU s` is the bot process's user + system CPU time when its first getUpdates arrives
(imports, settings, campaign file, database, command menus, jobs); `wall s` the same moment on
the clock; `idle RSS MB` its resident memory after `--idle` seconds of polling with nothing to
do. Targets: at most 1.0 s of CPU and 110 MB. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.bot_api import FakeBotApi, start_bot_process

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
GIVE_UP_SECONDS = 60


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of a running process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class FirstPollApi(FakeBotApi):
    """The fake Bot API, noting the bot's CPU time when its first getUpdates arrives."""

    def __init__(self) -> None:
        super().__init__(keep_requests=False)
        self.pid = 0
        self.first_poll: asyncio.Future[tuple[float, float]] | None = None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.first_poll is not None and not self.first_poll.done():
            self.first_poll.set_result((cpu_seconds(self.pid), time.monotonic()))
        return await super()._get_updates(params)


@dataclass
class Run:
    cpu: float
    wall: float
    idle_rss: float


async def one_run(workdir: Path, idle: float) -> Run:
    async with FirstPollApi() as api:
        api.first_poll = asyncio.get_running_loop().create_future()
        log = workdir / "bot.log"
        launched = time.monotonic()
        bot = await start_bot_process(api.base_url, workdir / "bot.db", log)
        api.pid = bot.pid
        try:
            cpu, polled = await asyncio.wait_for(
                asyncio.shield(api.first_poll), GIVE_UP_SECONDS
            )
            await asyncio.sleep(idle)
            if bot.returncode is not None:
                raise RuntimeError(f"the bot exited:\n{log.read_text()[-2000:]}")
            memory = rss_mb(bot.pid)
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
            await bot.wait()
    return Run(cpu, polled - launched, memory)


async def measure(runs: int, idle: float) -> list[Run]:
    results = []
    for _ in range(runs):
        # A fresh database each time: the first start also creates the schema.
        with tempfile.TemporaryDirectory(prefix="stepup-startup-") as folder:
            results.append(await one_run(Path(folder), idle))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle before RSS")
    args = parser.parse_args()
    results = asyncio.run(measure(args.runs, args.idle))
    print(f"{'run':>4} {'CPU s':>7} {'wall s':>7} {'idle RSS MB':>12}")
    for index, run in enumerate(results, 1):
        print(f"{index:>4} {run.cpu:>7.2f} {run.wall:>7.2f} {run.idle_rss:>12.1f}")
    print(
        f"{'median':>4} {statistics.median(r.cpu for r in results):>7.2f} "
        f"{statistics.median(r.wall for r in results):>7.2f} "
        f"{statistics.median(r.idle_rss for r in results):>12.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
