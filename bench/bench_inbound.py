"""Inbound throughput: updates per second the whole bot handles on one core, against a bare
python-telegram-bot echo bot driven the same way in the same run.

Both bots are real `Application`s over the offline Bot API, fed real `Update` objects one at a
time, as long polling delivers them. Neither has a rate limiter: that is Telegram's ceiling,
not the cost of our code. The mix is what a rush looks like: new supporters' /start and opt-in,
menu taps, and the MP journey with its lookups answered by a local fake of postcodes.io and the
Members API.

    .venv/bin/python -m bench.bench_inbound [--supporters 300] [--rounds 3] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, MessageHandler, filters

from bench.inbound_mix import SESSION, serve_lookups_locally, supporter_session
from bot.offline import OfflineBotAPI, UpdateFactory
from tests.harness import make_settings, running_bot


async def echo(update: Update, context) -> None:
    await update.effective_message.reply_text(update.effective_message.text or "…")


async def bare_echo_rate(supporters: int) -> float:
    """The bare framework: one handler that echoes, fed the same number of updates."""
    api = OfflineBotAPI()
    app = ApplicationBuilder().token("1:bare").request(api).get_updates_request(api).build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    await app.initialize()
    updates = UpdateFactory(app.bot)
    batch = [updates.message(uid, "hello") for uid in range(supporters) for _ in SESSION]
    started = time.perf_counter()
    for update in batch:
        await app.process_update(update)
    elapsed = time.perf_counter() - started
    await app.shutdown()
    return len(batch) / elapsed


async def stepup_rate(supporters: int) -> float:
    """Our bot, every supporter walking the realistic mix."""
    with tempfile.TemporaryDirectory() as folder:
        async with running_bot(make_settings(Path(folder))) as chat:
            chat.app.bot._rate_limiter = None  # see the module docstring
            await serve_lookups_locally(chat)
            handled = 0
            started = time.perf_counter()
            for uid in range(1, supporters + 1):
                handled += await supporter_session(chat, uid)
            elapsed = time.perf_counter() - started
    return handled / elapsed


async def measure(supporters: int, rounds: int) -> tuple[float, float]:
    """Median updates/s of each bot over alternating rounds, so drift hits both alike."""
    ours, bare = [], []
    for _ in range(rounds):
        ours.append(await stepup_rate(supporters))
        bare.append(await bare_echo_rate(supporters))
    return statistics.median(ours), statistics.median(bare)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supporters", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of our bot")
    args = parser.parse_args(argv)
    if args.profile:
        from pyinstrument import Profiler

        with Profiler() as profiler:
            asyncio.run(stepup_rate(args.supporters))
        print(profiler.output_text(unicode=True, color=False))
        return
    ours, bare = asyncio.run(measure(args.supporters, args.rounds))
    print(f"stepup-bot: {ours:,.0f} updates/s")
    print(f"bare echo bot: {bare:,.0f} updates/s")
    print(f"ratio (ours / bare): {ours / bare:.2f}  (target >= 0.70)")


if __name__ == "__main__":
    main()
