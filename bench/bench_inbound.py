"""Inbound throughput: updates the whole bot handles per second of CPU, against a bare
python-telegram-bot echo bot driven the same way in the same run. CPU time rather than the
clock's, so that other work on a shared machine does not count against whichever bot it
interrupted; the offline Bot API runs in the same process, so its work counts for every bot.

Every bot is a real `Application` over the offline Bot API, fed real `Update` objects one at a
time, as long polling delivers them. None has a rate limiter: that is Telegram's ceiling, not
the cost of our code. The mix is what a rush looks like: new supporters' /start and opt-in,
menu taps, and the MP journey with its lookups answered by a local fake of postcodes.io and the
Members API.

Our bot answers most updates with richer messages than an echo (a menu, a letter, keyboards)
and about two Telegram calls each, so a second baseline shows what our own code costs: a bare
bot that makes, for each update, exactly the Telegram calls ours made for it.

    .venv/bin/python -m bench.bench_inbound [--supporters 300] [--rounds 3] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from telegram import Message, Update
from telegram.ext import Application, ApplicationBuilder, MessageHandler, TypeHandler, filters

from bench.inbound_mix import SESSION, serve_lookups_locally, supporter_session
from bot.app.offline import Call, OfflineBotAPI, UpdateFactory
from tests.support.harness import make_settings, running_bot


async def echo(update: Update, context) -> None:
    await update.effective_message.reply_text(update.effective_message.text or "…")


def bare_bot() -> Application:
    api = OfflineBotAPI()
    return ApplicationBuilder().token("1:bare").request(api).get_updates_request(api).build()


async def rate(app: Application, batch: list[Update]) -> float:
    """Updates per second of CPU `app` handles, fed `batch` one at a time. CPU time, not the
    clock's: on a shared machine the clock also counts the time other work held the core."""
    started = time.process_time()
    for update in batch:
        await app.process_update(update)
    return len(batch) / (time.process_time() - started)


async def bare_echo_rate(supporters: int) -> float:
    """The bare framework: one handler that echoes, fed the same number of updates."""
    app = bare_bot()
    app.add_handler(MessageHandler(filters.ALL, echo))
    async with app:
        updates = UpdateFactory(app.bot)
        return await rate(
            app, [updates.message(uid, "hello") for uid in range(supporters) for _ in SESSION]
        )


async def record_script(supporters: int) -> list[tuple[dict, list[Call]]]:
    """Each update of the mix with the Telegram calls our bot made for it."""
    script: list[tuple[dict, list[Call]]] = []
    with tempfile.TemporaryDirectory() as folder:
        async with running_bot(make_settings(Path(folder))) as chat:
            chat.app.bot._rate_limiter = None
            await serve_lookups_locally(chat)
            handle = chat.app.process_update

            async def recording(update: object) -> None:
                before = len(chat.api.calls)
                await handle(update)
                script.append((update.to_dict(), chat.api.calls[before:]))

            chat.app.process_update = recording
            for uid in range(1, supporters + 1):
                await supporter_session(chat, uid)
    return script


async def same_calls_rate(script: list[tuple[dict, list[Call]]]) -> float:
    """A bare bot making, for each update, exactly the Telegram calls ours made for it."""
    app = bare_bot()
    replies = iter(calls for _, calls in script)

    async def replay(update: Update, context) -> None:
        for call in next(replies):
            if call.method == "answerCallbackQuery":  # a press this fake Telegram delivered
                api = context.bot.request
                api.presses[str(call.params["callback_query_id"])] = api.clock()
            returns = Message if call.method.startswith(("send", "edit")) else None
            await context.bot.do_api_request(call.method, call.params, return_type=returns)

    app.add_handler(TypeHandler(Update, replay))
    async with app:
        return await rate(app, [Update.de_json(update, app.bot) for update, _ in script])


async def stepup_rate(supporters: int) -> float:
    """Our bot, every supporter walking the realistic mix (updates built before timing, as
    for the other bots)."""
    with tempfile.TemporaryDirectory() as folder:
        async with running_bot(make_settings(Path(folder))) as chat:
            chat.app.bot._rate_limiter = None  # see the module docstring
            await serve_lookups_locally(chat)
            batch = [
                chat.updates.message(uid, payload)
                if kind == "send"
                else chat.updates.callback(uid, payload)
                for uid in range(1, supporters + 1)
                for kind, payload in SESSION
            ]
            return await rate(chat.app, batch)


async def measure(supporters: int, rounds: int) -> tuple[float, float, float]:
    """Median updates/s of ours, the echo and the same-calls bot, over alternating rounds so
    drift hits all alike."""
    script = await record_script(supporters)
    ours, echo_rates, same = [], [], []
    for _ in range(rounds):
        ours.append(await stepup_rate(supporters))
        echo_rates.append(await bare_echo_rate(supporters))
        same.append(await same_calls_rate(script))
    return statistics.median(ours), statistics.median(echo_rates), statistics.median(same)


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
    ours, bare, same = asyncio.run(measure(args.supporters, args.rounds))
    print(f"stepup-bot:                      {ours:>8,.0f} updates per CPU second")
    print(f"bare echo bot:                   {bare:>8,.0f} updates per CPU second")
    print(f"bare bot making our calls:       {same:>8,.0f} updates per CPU second")
    print(f"ratio ours / echo:               {ours / bare:>8.2f}  (target >= 0.70)")
    print(f"ratio ours / bare with our calls:{ours / same:>8.2f}  (target >= 0.50)")


if __name__ == "__main__":
    main()
