"""Crash suite (D1, D6, S1, S2, S3): the real bot process, `python -m bot run`, killed with
SIGKILL again and again while it sends an organiser's broadcast and today's daily prompt and while
supporters are half-way through the solidarity journey, and restarted each time, against the
loopback fake Bot API (tests/fake_bot_api.py) in this process.

    .venv/bin/python -m bench.crash_suite [--cycles 20] [--recipients 3000] [--journeys 6]

Each kill lands the moment the fake API receives a chosen message of the two sends (targets drawn
at random, from a seed, over both), so the message that triggers it is always in flight. What
must hold at the end:
- `PRAGMA integrity_check` is ok (S2);
- every opted-in supporter got the broadcast and today's prompt; the duplicates of each are no
  more than its rows that were 'sending' in SQLite, read straight after each kill and summed over
  the kills (D1); no other day's prompt went out (D6);
- every supporter killed half-way through the journey (message typed, not yet signed) carried on
  after the restart: their signature brought the preview of the message typed before the kill,
  and Send queued it for moderation exactly once (S3).

tests/test_crash_suite.py runs the same machinery with small numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import tomli_w

from bot.campaign import LANGUAGES, Campaign, load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE
from bot.daily import prompt_text
from bot.delivery import create_broadcast, enqueue
from bot.storage import Storage
from handlers import solidarity as journey
from messages.i18n import language_for
from tests.fake_bot_api import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Europe/London")
BROADCAST = "broadcast"
PROMPT = "daily prompt"
BROADCAST_TEXT = "<b>Crash suite</b>: one organiser broadcast for every supporter"
LANGUAGE_CODES = ("en", "pt-br", "es")
# Supporters on the journey have ids apart from the subscribers' 1..recipients.
FIRST_JOURNEY_ID = 10_000_000
POLL_SECONDS = 0.02
LOG_TAIL = 3_000
T = TypeVar("T")


@dataclass(frozen=True)
class Scale:
    cycles: int = 20
    recipients: int = 3_000
    journeys_per_cycle: int = 6  # supporters who start the journey in each cycle
    rate: float = 500.0  # BROADCAST_RATE; a batch (the most in flight) is about a second of it
    seed: int = 16
    # One wait longer than this is a hang (the run stops with the bot's log), not slowness.
    give_up_seconds: float = 60.0


class CrashSuiteError(Exception):
    """The bot exited by itself or a wait gave up; the message ends with the bot's log."""


@dataclass(frozen=True)
class Kill:
    cycle: int
    messages: int  # broadcast and prompt messages the fake API had received by then
    landed_in: str  # the send the killing message belonged to
    in_flight: dict[str, int]  # rows 'sending' per send, read right after the kill


@dataclass(frozen=True)
class Send:
    """One of the two sends, as the fake API saw it and as SQLite ended."""

    name: str
    recipients: int
    served: int  # distinct supporters who got it
    messages: int  # everything that arrived, duplicates included
    in_flight_at_kills: int
    status: str | None
    summary: dict[str, int]

    @property
    def duplicates(self) -> int:
        return self.messages - self.served


@dataclass(frozen=True)
class Report:
    scale: Scale
    kills: list[Kill]
    sends: list[Send]
    other_day_prompts: int
    halfway_at_kill: int  # supporters on the journey, message typed and not signed, at a kill
    continued: int  # of those, the ones whose next step found their message after the restart
    stored_once: int  # of those, the ones whose message was queued for moderation exactly once
    integrity: str
    seconds: float
    date_changed: bool  # the run crossed local midnight, so "today's prompt" changed

    @property
    def messages(self) -> int:
        return sum(send.messages for send in self.sends)

    def problems(self) -> list[str]:
        """Every promise the run broke, in words; empty when all held."""
        found = []
        if self.date_changed:
            found.append("the local date changed during the run; run it again")
        if len(self.kills) < self.scale.cycles:
            found.append(f"only {len(self.kills)} of {self.scale.cycles} kills landed")
        if self.integrity != "ok":
            found.append(f"integrity_check: {self.integrity}")
        for send in self.sends:
            if send.served < send.recipients:
                found.append(
                    f"{send.recipients - send.served} supporters never got the {send.name}"
                )
            if send.duplicates > send.in_flight_at_kills:
                found.append(
                    f"{send.duplicates} duplicates of the {send.name}, more than the "
                    f"{send.in_flight_at_kills} sends in flight at the kills"
                )
            if (send.status, send.summary) != ("done", {"sent": send.recipients}):
                found.append(f"the {send.name} ended {send.status} with {send.summary}")
        if self.other_day_prompts:
            found.append(f"{self.other_day_prompts} prompts of another day went out")
        if self.continued < self.halfway_at_kill:
            lost = self.halfway_at_kill - self.continued
            found.append(f"{lost} supporters lost their place in the journey at a restart")
        if self.stored_once < self.halfway_at_kill:
            missing = self.halfway_at_kill - self.stored_once
            found.append(f"{missing} journey messages were not queued exactly once")
        return found

    def lines(self) -> list[str]:
        landed = Counter(kill.landed_in for kill in self.kills)
        lines = [
            f"cycles          {len(self.kills)} kill -9 and restart "
            f"({', '.join(f'{count} in the {name}' for name, count in landed.items())})",
            f"killed at       {', '.join(str(kill.messages) for kill in self.kills)} messages",
            f"messages        {self.messages:,} to {self.scale.recipients:,} supporters "
            f"at {self.scale.rate:,.0f}/s",
        ]
        for send in self.sends:
            lines.append(
                f"{send.name:<15} served {send.served:,}/{send.recipients:,}, duplicates "
                f"{send.duplicates} <= in flight at the kills {send.in_flight_at_kills}, "
                f"{send.status}"
            )
        lines += [
            f"other days      {self.other_day_prompts} prompts",
            f"journeys        {self.halfway_at_kill} half-way at a kill, {self.continued} "
            f"continued after the restart, {self.stored_once} messages queued once",
            f"integrity       {self.integrity}",
            f"wall time       {self.seconds:.1f} s",
            "result          "
            + ("all promises held" if not self.problems() else "; ".join(self.problems())),
        ]
        return lines


# --- the world before the first start ------------------------------------------------------------


def local_today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def write_campaign(path: Path, today: dt.date) -> Campaign:
    """The real campaign file, moved to start today with its prompt at 00:00, so the job at
    start finds today's prompt due and sends it."""
    data = tomllib.loads(DEFAULT_CAMPAIGN_FILE.read_text(encoding="utf-8"))
    length = data["end_date"] - data["start_date"]
    data.update(start_date=today, end_date=today + length, prompt_time=dt.time(0, 0))
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return load_campaign(path)


def seed(database: Path, recipients: int) -> int:
    """Opted-in supporters 1..recipients in three languages, and a broadcast to them that is
    already running, as if a process had started it and died. Returns its id."""
    storage = Storage.open(database)
    try:
        for user_id in range(1, recipients + 1):
            storage.ensure_supporter(user_id, LANGUAGES[user_id % len(LANGUAGES)])
            storage.set_opt_in(user_id, True, "crash-suite")
        broadcast_id = create_broadcast(storage, texts={"en": BROADCAST_TEXT})
        enqueue(storage, broadcast_id)
    finally:
        storage.close()
    return broadcast_id


def kill_targets(scale: Scale, rng: random.Random) -> list[int]:
    """After how many messages (counted over both sends) each kill lands: spread at random over
    the first 90% of them, with one at the broadcast's very last message (just before today's
    prompt is prepared)."""
    total = 2 * scale.recipients
    targets = set(rng.sample(range(1, int(total * 0.9)), scale.cycles - 1)) | {scale.recipients}
    while len(targets) < scale.cycles:
        targets.add(rng.randrange(1, int(total * 0.9)))
    return sorted(targets)


# --- reading SQLite between kills (short connections: none is open across a kill) ----------------


def read_db(database: Path, read: Callable[[Storage], T]) -> T:
    storage = Storage.open(database)
    try:
        return read(storage)
    finally:
        storage.close()


def prompt_broadcast(storage: Storage, today: dt.date) -> int | None:
    run = storage.daily_run(today.isoformat())
    return run["broadcast_id"] if run else None


def conversation_state(storage: Storage, user_id: int) -> object:
    return storage.load_conversations("solidarity").get((user_id, user_id))


def draft(storage: Storage, user_id: int) -> dict | None:
    return storage.load_json_rows("user_data", "user_id").get(user_id, {}).get(journey.DRAFT)


def queued_messages(storage: Storage, user_id: int) -> list[dict]:
    return storage.personal_data(user_id).get("solidarity_messages", [])


# --- one supporter's journey ---------------------------------------------------------------------


@dataclass(frozen=True)
class Supporter:
    user_id: int
    language_code: str

    @property
    def language(self) -> str:
        return language_for(self.language_code)

    @property
    def body(self) -> str:
        return f"You are not alone, from supporter {self.user_id} <with> love & strength"

    @property
    def signature(self) -> str:
        return f"S{self.user_id}"

    def preview(self) -> str:
        return journey.preview_text(self.language, {"body": self.body, "signature": self.signature})


# --- the run -------------------------------------------------------------------------------------


@dataclass
class CrashRun:
    scale: Scale
    workdir: Path
    api: FakeBotApi
    today: dt.date
    campaign: Campaign
    broadcast_id: int
    bot: asyncio.subprocess.Process | None = None
    messages: int = 0
    kill_at: int | None = None
    kills: list[Kill] = field(default_factory=list)
    continued: list[int] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.workdir / "bot.db"

    @property
    def log(self) -> Path:
        return self.workdir / "bot.log"

    # --- the process ---

    async def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": self.api.base_url,
            "DATABASE_PATH": str(self.database),
            "CAMPAIGN_FILE": str(self.workdir / "campaign.toml"),
            "BROADCAST_RATE": str(self.scale.rate),
            "ORGANISER_IDS": "",
        }
        with self.log.open("ab") as output:
            self.bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=env,
                cwd=self.workdir,  # so no developer's .env is read
                stdout=output,
                stderr=output,
            )

    async def stop(self) -> None:
        """Make sure the process is gone (SIGKILL if it is still running)."""
        if self.bot and self.bot.returncode is None:
            self.bot.kill()
        if self.bot:
            await self.bot.wait()

    def on_message(self, chat_id: int | str) -> None:
        """Called by the fake API as each message arrives, before it answers: the kill lands
        while the message that triggers it is in flight."""
        if not (isinstance(chat_id, int) and 1 <= chat_id <= self.scale.recipients):
            return  # an answer to someone on the journey
        self.messages += 1
        if self.kill_at is not None and self.messages >= self.kill_at:
            self.kill_at = None
            if self.bot and self.bot.returncode is None:
                self.bot.kill()

    async def until(self, condition: Callable[[], bool], what: str, *, alive: bool = True) -> None:
        deadline = time.monotonic() + self.scale.give_up_seconds
        while not condition():
            if alive and self.bot and self.bot.returncode is not None:
                raise CrashSuiteError(f"the bot exited ({self.bot.returncode}) before {what}")
            if time.monotonic() > deadline:
                raise CrashSuiteError(f"gave up waiting for {what}")
            await asyncio.sleep(POLL_SECONDS)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-LOG_TAIL:] if self.log.exists() else ""

    # --- the cycles ---

    async def cycle(self, index: int, target: int) -> None:
        """Start; the previous cohort signs and sends, a new one types its message; then the
        kill lands at the `target`th message; read what was in flight."""
        await self.start()
        try:
            await asyncio.gather(
                *(self.finish_journey(s) for s in self.cohort(index - 1)),
                *(self.begin_journey(s) for s in self.cohort(index)),
            )
            self.kill_at = max(target, self.messages + 1)
            await self.until(
                lambda: self.bot.returncode is not None, f"message {target}", alive=False
            )
        finally:
            self.kill_at = None
            await self.stop()
        self.kills.append(Kill(index, self.messages, self.last_send(), self.in_flight()))

    async def complete(self) -> None:
        """A last start without a kill: everything still owed goes out."""
        await self.start()
        try:
            await asyncio.gather(
                *(self.finish_journey(s) for s in self.cohort(self.scale.cycles - 1))
            )
            await self.until(self.both_sends_ended, "both sends to end")
        finally:
            if self.bot.returncode is None:
                self.bot.terminate()
            await self.stop()

    def both_sends_ended(self) -> bool:
        def ended(storage: Storage) -> bool:
            prompt = prompt_broadcast(storage, self.today)
            return prompt is not None and all(
                storage.broadcast_status(broadcast_id) == "done"
                for broadcast_id in (self.broadcast_id, prompt)
            )

        return read_db(self.database, ended)

    def in_flight(self) -> dict[str, int]:
        def sending(storage: Storage) -> dict[str, int]:
            ids = {BROADCAST: self.broadcast_id, PROMPT: prompt_broadcast(storage, self.today)}
            return {
                name: storage.broadcast_summary(broadcast_id).get("sending", 0)
                for name, broadcast_id in ids.items()
                if broadcast_id is not None
            }

        return read_db(self.database, sending)

    def last_send(self) -> str:
        """Which send the killing message belonged to."""
        for request in reversed(self.api.sends()):
            if isinstance(request.chat_id, int) and request.chat_id <= self.scale.recipients:
                return self.classify(request.params.get("text")) or "?"
        return "start-up"

    # --- journeys ---

    def cohort(self, index: int) -> list[Supporter]:
        if index < 0:
            return []
        first = FIRST_JOURNEY_ID + index * self.scale.journeys_per_cycle
        return [
            Supporter(user_id, LANGUAGE_CODES[user_id % len(LANGUAGE_CODES)])
            for user_id in range(first, first + self.scale.journeys_per_cycle)
        ]

    async def begin_journey(self, supporter: Supporter) -> None:
        """Write a message, type it, and wait until the bot has asked for a signature and
        written that state down: the supporter is half-way when the kill lands."""
        self.api.press(supporter.user_id, journey.WRITE, supporter.language_code)
        self.api.send_text(supporter.user_id, supporter.body, supporter.language_code)

        def halfway(storage: Storage) -> bool:
            saved = draft(storage, supporter.user_id)
            return (
                conversation_state(storage, supporter.user_id) == journey.ASK_SIGNATURE
                and saved is not None
                and saved["body"] == supporter.body
            )

        await self.until(lambda: read_db(self.database, halfway), "a journey to reach half-way")

    async def finish_journey(self, supporter: Supporter) -> None:
        """After the restart: sign. Carrying on means the preview shows the message typed
        before the kill; then Send, and wait until it is queued and the journey over."""
        user_id = supporter.user_id
        answers = self.api.delivered[user_id]
        self.api.send_text(user_id, supporter.signature, supporter.language_code)
        await self.until(lambda: self.api.delivered[user_id] > answers, "an answer to a signature")
        if self.api.last_messages[user_id].get("text") != supporter.preview():
            return  # it lost its place; the report counts it
        self.continued.append(user_id)
        self.api.press(user_id, journey.SEND, supporter.language_code)

        def over(storage: Storage) -> bool:
            return (
                bool(queued_messages(storage, user_id))
                and conversation_state(storage, user_id) is None
                and draft(storage, user_id) is None
            )

        await self.until(lambda: read_db(self.database, over), "a journey's message to be queued")

    def journeys_stored_once(self) -> int:
        def stored(storage: Storage, supporter: Supporter) -> bool:
            rows = queued_messages(storage, supporter.user_id)
            return [(row["body"], row["signature"]) for row in rows] == [
                (supporter.body, supporter.signature)
            ]

        cohorts = [self.cohort(index) for index in range(self.scale.cycles)]
        return read_db(
            self.database,
            lambda storage: sum(stored(storage, s) for cohort in cohorts for s in cohort),
        )

    # --- what arrived ---

    def classify(self, message: str | None) -> str | None:
        """BROADCAST, PROMPT (today's), 'day N' (another day's prompt) or None."""
        if message == BROADCAST_TEXT:
            return BROADCAST
        day = self.prompt_days.get(message)
        if day is None:
            return None
        return PROMPT if day == self.campaign.day_number(self.today) else f"day {day}"

    @cached_property
    def prompt_days(self) -> dict[str, int]:
        return {
            prompt_text(self.campaign, day, language): day
            for day in range(1, self.campaign.total_days + 1)
            for language in LANGUAGES
        }

    def report(self, seconds: float) -> Report:
        received: dict[str, Counter[int]] = {BROADCAST: Counter(), PROMPT: Counter()}
        other_days = 0
        for request in self.api.sends():
            kind = self.classify(request.params.get("text")) if request.status == 200 else None
            if kind in received:
                received[kind][request.chat_id] += 1
            elif kind is not None:
                other_days += 1

        def final(storage: Storage) -> tuple[dict, str]:
            ids = {BROADCAST: self.broadcast_id, PROMPT: prompt_broadcast(storage, self.today)}
            ended = {
                name: (storage.broadcast_status(i), storage.broadcast_summary(i))
                for name, i in ids.items()
                if i is not None
            }
            return ended, storage.integrity()

        ended, integrity = read_db(self.database, final)
        sends = [
            Send(
                name=name,
                recipients=self.scale.recipients,
                served=len(counts),
                messages=counts.total(),
                in_flight_at_kills=sum(kill.in_flight.get(name, 0) for kill in self.kills),
                status=ended.get(name, (None, {}))[0],
                summary=ended.get(name, (None, {}))[1],
            )
            for name, counts in received.items()
        ]
        return Report(
            scale=self.scale,
            kills=self.kills,
            sends=sends,
            other_day_prompts=other_days,
            halfway_at_kill=self.scale.cycles * self.scale.journeys_per_cycle,
            continued=len(self.continued),
            stored_once=self.journeys_stored_once(),
            integrity=integrity,
            seconds=seconds,
            date_changed=local_today() != self.today,
        )


async def run(scale: Scale, workdir: Path) -> Report:
    """The whole suite in `workdir`: seed, `scale.cycles` kill and restart cycles, a last run to
    the end, then the report. Raises CrashSuiteError (with the bot's log) if a wait hangs."""
    clock = time.monotonic()
    today = local_today()
    campaign = write_campaign(workdir / "campaign.toml", today)
    broadcast_id = seed(workdir / "bot.db", scale.recipients)
    targets = kill_targets(scale, random.Random(scale.seed))
    async with FakeBotApi() as api:
        crash = CrashRun(scale, workdir, api, today, campaign, broadcast_id)
        api.on_message = crash.on_message
        try:
            for index, target in enumerate(targets):
                await crash.cycle(index, target)
            await crash.complete()
        except CrashSuiteError as error:
            raise CrashSuiteError(f"{error}\n--- bot log ---\n{crash.log_tail()}") from None
        finally:
            await crash.stop()
        return crash.report(time.monotonic() - clock)


def main(argv: list[str] | None = None) -> int:
    defaults = Scale()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=defaults.cycles)
    parser.add_argument("--recipients", type=int, default=defaults.recipients)
    parser.add_argument(
        "--journeys",
        type=int,
        default=defaults.journeys_per_cycle,
        help="supporters who start the journey in each cycle",
    )
    parser.add_argument("--rate", type=float, default=defaults.rate, help="BROADCAST_RATE")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    scale = Scale(args.cycles, args.recipients, args.journeys, args.rate, args.seed)
    with tempfile.TemporaryDirectory(prefix="crash-suite-") as workdir:
        report = asyncio.run(run(scale, Path(workdir)))
    print("\n".join(report.lines()))
    return 1 if report.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
