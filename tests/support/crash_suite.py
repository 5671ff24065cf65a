"""Crash suite (D1, D6, S1, S2, S3): the real bot process, `python -m bot run`, killed with
SIGKILL again and again while it sends an organiser's broadcast and today's daily prompt and while
supporters are half-way through the solidarity journey, and restarted each time, against the
loopback fake Bot API (tests/support/bot_api.py) served from this process.

    .venv/bin/python -m bench.crash_suite [--cycles 20] [--recipients 3000] [--journeys 6]

Most kills land the moment the fake API receives a chosen message of one of the two sends (the
nth of that send, duplicates counted; n drawn from a seed), so the message that triggers the kill
is always in flight; the others land at start-up, as soon as that cycle's supporters are half-way
through the journey, before sending resumes. `--lanes` runs several bots side by side, each with
its own database and fake API, the cycles shared out between them. What must hold at the end, in
every lane:
- `PRAGMA integrity_check` is ok (S2);
- every opted-in supporter got the broadcast and today's prompt, and nobody else did; duplicates
  of each send are no more than its sends in flight at the kills (D1), summed over the kills: at
  each, its rows 'sending' in SQLite read straight after the kill, but no more than its messages
  that reached the fake API in that cycle (a row left 'sending' through a kill at start-up is
  not counted twice); no other day's prompt went out (D6);
- every supporter killed half-way through the journey (message typed, not yet signed) carried on
  after the restart: their signature brought the preview of the message typed before the kill;
  Send queued it for moderation exactly once, and no copy of it stayed behind as a draft (S3, P5).

tests/bot/app/test_crash_suite.py runs the same machinery with small numbers; `python -m
bench.crash_suite` at full size.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import signal
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import tomli_w
from telegram.constants import FloodLimit

from bot.campaign import LANGUAGES, Campaign, load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE
from bot.consent import DAILY_PROMPT, UPDATES, WHATS_NEXT, Rules
from bot.delivery import create_broadcast, enqueue
from bot.storage import Storage
from handlers import solidarity as journey
from messages import solidarity as screens
from messages.daily import prompt_text
from messages.i18n import language_for
from tests.support.bot_api import BOT_USER, MESSAGE_METHODS, FakeBotApi, Request, start_bot_process

ROOT = Path(__file__).resolve().parents[2]
ZONE = ZoneInfo("Europe/London")
# Who the seeded broadcast is for: every seeded supporter agreed to every kind of message.
SEED_RULES = Rules(ends_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC), daily_cap=1, zone=ZONE)
BROADCAST = "broadcast"
PROMPT = "daily prompt"
AT_START_UP = "start-up"
SENDS = (BROADCAST, PROMPT)
BROADCAST_TEXT = "<b>Crash suite</b>: one organiser broadcast for every supporter"
LANGUAGE_CODES = ("en", "pt-br", "es")
# Supporters on the journey have ids apart from the subscribers' 1..recipients.
FIRST_JOURNEY_ID = 10_000_000
POLL_SECONDS = 0.02
LOG_TAIL = 3_000
T = TypeVar("T")
Target = tuple[str, int] | None  # kill as that send's nth message arrives; None: at start-up


@dataclass(frozen=True)
class Scale:
    cycles: int = 20  # kill -9 and restart cycles, over all lanes
    lanes: int = 1  # bots run side by side, each with its own database and fake API
    recipients: int = 3_000  # opted-in supporters, in each lane
    journeys_per_cycle: int = 6  # supporters who start the journey in each cycle
    rate: float = 500.0  # BROADCAST_RATE; a batch (the most in flight) is about a second of it
    startup_kills: float = 0.2  # the share of cycles killed at start-up rather than mid-send
    seed: int = 16
    # One wait longer than this is a hang (the run stops with the bot's log), not slowness.
    give_up_seconds: float = 60.0

    def kill_plans(self) -> list[list[Target]]:
        """For each lane, each cycle's kill: (send, n) to land as the nth message of that send
        reaches the fake API, or None to land at start-up. The mid-send kills are shared between
        the two sends, at points drawn at random from the first 90% of each, one of them at the
        prompt's very first message (just after it was prepared)."""
        rng = random.Random(self.seed)
        span = range(2, max(3, int(self.recipients * 0.9)))
        plans = []
        for lane in range(self.lanes):
            cycles = self.cycles // self.lanes + (lane < self.cycles % self.lanes)
            at_start_up = set(rng.sample(range(cycles), round(cycles * self.startup_kills)))
            mid_send = cycles - len(at_start_up)
            prompt_kills = mid_send // 2
            in_broadcast = sorted(rng.sample(span, mid_send - prompt_kills))
            in_prompt = [1, *sorted(rng.sample(span, prompt_kills - 1))] if prompt_kills else []
            targets = iter(
                [(BROADCAST, n) for n in in_broadcast] + [(PROMPT, n) for n in in_prompt]
            )
            plans.append([None if c in at_start_up else next(targets) for c in range(cycles)])
        return plans


class CrashSuiteError(Exception):
    """The bot exited by itself or a wait gave up; the message ends with the bot's log."""


@dataclass(frozen=True)
class Kill:
    cycle: int
    planned: Target
    landed_in: str  # the send of the last message to arrive before the kill, or AT_START_UP
    in_flight: dict[str, int]  # rows 'sending' per send, read right after the kill
    arrived: dict[str, int]  # messages per send that reached the fake API in this cycle

    def could_duplicate(self, send: str) -> int:
        """A duplicate is a message that reached Telegram while its row was 'sending' in the
        process this kill ended: no more than either count."""
        return min(self.in_flight.get(send, 0), self.arrived.get(send, 0))


@dataclass(frozen=True)
class Send:
    """The broadcast or today's prompt, as the fake API saw it and as SQLite ended."""

    name: str
    recipients: int
    served: int  # distinct supporters who got it
    messages: int  # everything that arrived, duplicates included
    in_flight_at_kills: int  # the bound on duplicates: Kill.could_duplicate, summed
    sending_at_kills: int  # rows 'sending' right after the kills, summed (a looser bound)
    status: str | None
    summary: dict[str, int]

    @property
    def duplicates(self) -> int:
        return self.messages - self.served


@dataclass(frozen=True)
class Lane:
    """One bot's run: its kills and what was true at the end."""

    index: int
    kills: list[Kill]
    sends: list[Send]
    to_others: int  # broadcast or prompt messages to someone who had not opted in
    other_day_prompts: int
    halfway_at_kill: int  # supporters on the journey, message typed and not signed, at a kill
    continued: int  # of those, the ones whose next step found their message after the restart
    stored_once: int  # of those, the ones whose message was queued for moderation exactly once
    drafts_left: int  # of those, the ones whose message was still kept as a draft afterwards
    integrity: str

    def problems(self) -> list[str]:
        found = []
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
        if self.to_others:
            found.append(f"{self.to_others} messages went to supporters who had not opted in")
        if self.other_day_prompts:
            found.append(f"{self.other_day_prompts} prompts of another day went out")
        if self.continued < self.halfway_at_kill:
            lost = self.halfway_at_kill - self.continued
            found.append(f"{lost} supporters lost the message they had typed at a restart")
        if self.stored_once < self.continued:
            missing = self.continued - self.stored_once
            found.append(f"{missing} journey messages were not queued exactly once")
        if self.drafts_left:
            found.append(f"{self.drafts_left} messages handed over were still kept as drafts")
        return found

    def lines(self) -> list[str]:
        landed = Counter(kill.landed_in for kill in self.kills)
        where = ", ".join(
            f"{count} at start-up" if name == AT_START_UP else f"{count} in the {name}"
            for name, count in landed.items()
        )
        lines = [f"lane {self.index}: {len(self.kills)} kills, {where}"]
        for send in SENDS:
            points = [
                str(kill.planned[1])
                for kill in self.kills
                if kill.planned and kill.planned[0] == send
            ]
            lines.append(f"  {'kills':<14} {send} at its message {', '.join(points) or '-'}")
        for send in self.sends:
            lines.append(
                f"  {send.name:<14} served {send.served:,}/{send.recipients:,}; duplicates "
                f"{send.duplicates} <= in flight at the kills {send.in_flight_at_kills} "
                f"(rows 'sending' {send.sending_at_kills}); {send.status}"
            )
        lines += [
            f"  {'others':<14} {self.other_day_prompts} prompts of another day, "
            f"{self.to_others} messages to supporters not opted in",
            f"  {'journeys':<14} {self.halfway_at_kill} half-way at a kill, {self.continued} "
            f"continued after the restart, {self.stored_once} queued once, "
            f"{self.drafts_left} drafts left",
            f"  {'integrity':<14} {self.integrity}",
        ]
        return lines


@dataclass(frozen=True)
class Report:
    scale: Scale
    lanes: list[Lane]
    seconds: float
    date_changed: bool  # the run crossed local midnight, so "today's prompt" changed

    @property
    def kills(self) -> list[Kill]:
        return [kill for lane in self.lanes for kill in lane.kills]

    @property
    def messages(self) -> int:
        return sum(send.messages for lane in self.lanes for send in lane.sends)

    def problems(self) -> list[str]:
        """Every promise the run broke, in words; empty when all held."""
        found = ["the local date changed during the run; run it again"] if self.date_changed else []
        if len(self.kills) < self.scale.cycles:
            found.append(f"only {len(self.kills)} of {self.scale.cycles} kills landed")
        for lane in self.lanes:
            found += [f"lane {lane.index}: {problem}" for problem in lane.problems()]
        return found

    def lines(self) -> list[str]:
        scale = self.scale
        lines = [
            f"crash suite: {len(self.kills)} cycles of kill -9 and restart in {scale.lanes} "
            f"lane(s); {scale.recipients:,} supporters and {scale.journeys_per_cycle} new "
            f"journeys a cycle per lane; BROADCAST_RATE {scale.rate:,.0f}; seed {scale.seed}",
        ]
        for lane in self.lanes:
            lines += lane.lines()
        problems = self.problems()
        lines += [
            f"messages       {self.messages:,} broadcast and prompt messages received",
            f"wall time      {self.seconds:.1f} s",
            "result         " + ("; ".join(problems) if problems else "every promise held"),
        ]
        return lines


# --- the world before the first start ------------------------------------------------------------


def local_today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def midday_zone() -> ZoneInfo:
    """A whole-hour zone where it is now between 11:30 and 12:30: a bot given it as `TZ` and a
    test reading dates in it see one date for hours, whatever the wall clock says."""
    now = dt.datetime.now(dt.UTC)
    hours_ahead = round(12 - now.hour - now.minute / 60)  # from -12 to +12
    # POSIX's sign: Etc/GMT-5 is five hours ahead of UTC.
    return ZoneInfo(f"Etc/GMT{-hours_ahead:+d}" if hours_ahead else "Etc/UTC")


def write_campaign(path: Path, today: dt.date) -> Campaign:
    """The real campaign file, moved to start today with its prompt at 00:00, so the job at
    start finds today's prompt due and sends it."""
    data = tomllib.loads(DEFAULT_CAMPAIGN_FILE.read_text(encoding="utf-8"))
    length = data["end_date"] - data["start_date"]
    data.update(start_date=today, end_date=today + length, prompt_time=dt.time(0, 0))
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return load_campaign(path)


async def seed(database: Path, recipients: int, journeys: int) -> int:
    """Opted-in supporters 1..recipients in three languages, and a broadcast to them that is
    already running, as if a process had started it and died; and the `journeys` supporters
    who will take the journey, started (/start made their rows) without opting in. Returns the
    broadcast's id."""
    storage = Storage.open(database)
    try:
        for user_id in range(FIRST_JOURNEY_ID, FIRST_JOURNEY_ID + journeys):
            code = LANGUAGE_CODES[user_id % len(LANGUAGE_CODES)]
            storage.ensure_supporter(user_id, language_for(code))
        for user_id in range(1, recipients + 1):
            storage.ensure_supporter(user_id, LANGUAGES[user_id % len(LANGUAGES)])
            storage.set_consents(
                user_id, {DAILY_PROMPT: True, UPDATES: True, WHATS_NEXT: True}, "crash-suite"
            )
        broadcast_id = create_broadcast(storage, texts={"en": BROADCAST_TEXT})
        await enqueue(storage, broadcast_id, SEED_RULES)
    finally:
        storage.close()
    return broadcast_id


# --- reading SQLite (short connections: none is open across a kill) -----------------------------


def read_db(database: Path, read: Callable[[Storage], T]) -> T:
    storage = Storage.open(database)
    try:
        return read(storage)
    finally:
        storage.close()


def prompt_broadcast(storage: Storage, today: dt.date) -> int | None:
    run = storage.daily_run(today.isoformat())
    return run["broadcast_id"] if run else None


def journey_states(storage: Storage) -> dict[int, object]:
    """Each supporter's place in the solidarity journey (private chats: chat id = user id)."""
    return {user: state for (_, user), state in storage.load_conversations("solidarity").items()}


def drafts(storage: Storage) -> dict[int, dict]:
    return {
        user: data[journey.DRAFT]
        for user, data in storage.load_json_rows("user_data", "user_id").items()
        if journey.DRAFT in data
    }


def queued_messages(storage: Storage, user_id: int) -> list[tuple[str, str | None]]:
    rows = storage.personal_data(user_id).get("solidarity_messages", [])
    return [(row["body"], row["signature"]) for row in rows]


# --- a supporter on the journey ------------------------------------------------------------------


@dataclass(frozen=True)
class Supporter:
    user_id: int
    language_code: str

    @property
    def body(self) -> str:
        return f"You are not alone, from supporter {self.user_id} <with> love & strength"

    @property
    def signature(self) -> str:
        return f"S{self.user_id}"

    def preview(self) -> str:
        draft = {"body": self.body, "signature": self.signature}
        return screens.preview_text(language_for(self.language_code), draft, unprintable=[])


# --- one lane ------------------------------------------------------------------------------------


@dataclass
class CrashRun:
    """One bot process at a time, its database, and the fake API it talks to."""

    scale: Scale
    workdir: Path
    api: FakeBotApi
    today: dt.date
    campaign: Campaign
    broadcast_id: int
    bot: asyncio.subprocess.Process | None = None
    arrived: Counter[str | None] = field(default_factory=Counter)  # per kind (`classify`)
    last_kind: str | None = None
    kill_at: Target = None
    kills: list[Kill] = field(default_factory=list)
    cohorts: list[list[Supporter]] = field(default_factory=list)
    continued: list[Supporter] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.workdir / "bot.db"

    @property
    def log(self) -> Path:
        return self.workdir / "bot.log"

    def read(self, read: Callable[[Storage], T]) -> T:
        return read_db(self.database, read)

    # --- the process ---

    async def start(self) -> None:
        self.bot = await start_bot_process(
            self.api.base_url,
            self.database,
            self.log,
            CAMPAIGN_FILE=str(self.workdir / "campaign.toml"),
            BROADCAST_RATE=str(self.scale.rate),
            PAID_BROADCASTS=str(self.scale.rate > FloodLimit.MESSAGES_PER_SECOND).lower(),
        )

    async def stop(self) -> None:
        """Make sure the process is gone (SIGKILL if it is still running)."""
        self.kill_at = None
        if self.bot and self.bot.returncode is None:
            self.bot.kill()
        if self.bot:
            await self.bot.wait()

    def on_delivered(self, chat_id: int | str, params: dict) -> None:
        """Called by the fake API as each message arrives, before it answers: a kill lands while
        the message that triggers it is in flight."""
        if not (isinstance(chat_id, int) and 1 <= chat_id <= self.scale.recipients):
            return  # an answer to someone on the journey
        kind = self.last_kind = self.classify(params.get("text"))
        self.arrived[kind] += 1
        if self.kill_at and kind == self.kill_at[0] and self.arrived[kind] >= self.kill_at[1]:
            self.kill_at = None
            if self.bot and self.bot.returncode is None:
                self.bot.kill()

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.scale.give_up_seconds
        while not condition():
            if self.bot and self.bot.returncode is not None:
                raise CrashSuiteError(f"the bot exited ({self.bot.returncode}) before {what}")
            if time.monotonic() > deadline:
                raise CrashSuiteError(f"gave up waiting for {what}")
            await asyncio.sleep(POLL_SECONDS)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-LOG_TAIL:] if self.log.exists() else ""

    # --- the cycles ---

    async def cycle(self, index: int, target: Target) -> None:
        """Start; the previous cohort signs and sends, a new one types its message (in turns, so
        the kill follows a supporter's message in one cycle and a supporter's Send in the next);
        then the kill: at start-up (target None) or as the target message arrives. Then read
        what was in flight."""
        before, self.last_kind = Counter(self.arrived), None
        await self.start()
        try:
            finish = partial(self.finish_journeys, self.cohorts[-1] if self.cohorts else [])
            begin = partial(self.begin_journeys, self.new_cohort())
            for step in (begin, finish) if index % 2 else (finish, begin):
                await step()
            if target is None:
                self.bot.kill()
            else:
                send, number = target
                self.kill_at = (send, max(number, self.arrived[send] + 1))
            try:
                await asyncio.wait_for(self.bot.wait(), self.scale.give_up_seconds)
            except TimeoutError:
                raise CrashSuiteError(f"gave up waiting for the kill at {target}") from None
            if self.bot.returncode != -signal.SIGKILL:
                raise CrashSuiteError(f"the bot exited ({self.bot.returncode}) by itself")
        finally:
            await self.stop()
        arrived = {kind: count for kind, count in (self.arrived - before).items() if kind}
        landed = self.last_kind or AT_START_UP
        self.kills.append(Kill(index, target, landed, self.in_flight(), arrived))

    async def complete(self) -> None:
        """A last start without a kill: everything still owed goes out; then a clean stop."""
        await self.start()
        try:
            await self.finish_journeys(self.cohorts[-1] if self.cohorts else [])
            await self.until(lambda: self.read(self.sends_ended), "both sends to end")
            self.bot.terminate()
            await self.bot.wait()
        finally:
            await self.stop()

    def sends_ended(self, storage: Storage) -> bool:
        prompt = prompt_broadcast(storage, self.today)
        return prompt is not None and all(
            storage.broadcast_status(broadcast_id) == "done"
            for broadcast_id in (self.broadcast_id, prompt)
        )

    def broadcast_ids(self, storage: Storage) -> dict[str, int]:
        ids = {BROADCAST: self.broadcast_id, PROMPT: prompt_broadcast(storage, self.today)}
        return {name: broadcast_id for name, broadcast_id in ids.items() if broadcast_id}

    def in_flight(self) -> dict[str, int]:
        def sending(storage: Storage) -> dict[str, int]:
            return {
                name: storage.broadcast_summary(broadcast_id).get("sending", 0)
                for name, broadcast_id in self.broadcast_ids(storage).items()
            }

        return self.read(sending)

    # --- journeys ---

    def new_cohort(self) -> list[Supporter]:
        first = FIRST_JOURNEY_ID + len(self.cohorts) * self.scale.journeys_per_cycle
        cohort = [
            Supporter(user_id, LANGUAGE_CODES[user_id % len(LANGUAGE_CODES)])
            for user_id in range(first, first + self.scale.journeys_per_cycle)
        ]
        self.cohorts.append(cohort)
        return cohort

    async def begin_journeys(self, cohort: list[Supporter]) -> None:
        """They press Write a message, then type their messages (their updates interleave, as
        several people's do). Wait until the bot has asked each for a signature, written that
        place in the journey down and confirmed the updates (so none is served again): the
        cohort is half-way when the kill lands."""
        updates = [self.api.press(s.user_id, screens.WRITE, s.language_code) for s in cohort]
        updates += [self.api.send_text(s.user_id, s.body, s.language_code) for s in cohort]

        def halfway(storage: Storage) -> bool:
            states = journey_states(storage)
            return all(states.get(s.user_id) == journey.ASK_SIGNATURE for s in cohort)

        await self.until(
            lambda: all(map(self.api.confirmed, updates)) and self.read(halfway),
            "supporters to be half-way through the journey",
        )

    async def finish_journeys(self, cohort: list[Supporter]) -> None:
        """After the restart each signs. Carrying on means the bot answers with the preview of
        the message typed before the kill; those who carried on press Send, and we wait until
        their messages are queued and their journeys over."""
        answers = {s.user_id: self.api.delivered[s.user_id] for s in cohort}
        updates = [self.api.send_text(s.user_id, s.signature, s.language_code) for s in cohort]
        await self.until(
            lambda: (
                all(map(self.api.confirmed, updates))
                and all(self.api.delivered[user] > count for user, count in answers.items())
            ),
            "answers to the signatures",
        )
        carried_on = [
            s for s in cohort if self.api.last_messages[s.user_id].get("text") == s.preview()
        ]
        self.continued += carried_on
        updates = [self.api.press(s.user_id, screens.SEND, s.language_code) for s in carried_on]

        def over(storage: Storage) -> bool:
            states = journey_states(storage)
            return all(
                s.user_id not in states and queued_messages(storage, s.user_id) for s in carried_on
            )

        await self.until(
            lambda: all(map(self.api.confirmed, updates)) and self.read(over),
            "journey messages to be queued",
        )

    # --- what arrived ---

    @cached_property
    def prompt_days(self) -> dict[str, int]:
        return {
            prompt_text(self.campaign, day, language, BOT_USER["username"]): day
            for day in range(1, self.campaign.total_days + 1)
            for language in LANGUAGES
        }

    def classify(self, message: str | None) -> str | None:
        """BROADCAST, PROMPT (today's), 'day N' (another day's prompt) or None."""
        if message == BROADCAST_TEXT:
            return BROADCAST
        day = self.prompt_days.get(message)
        if day is None:
            return None
        return PROMPT if day == self.campaign.day_number(self.today) else f"day {day}"

    def to_subscriber(self, request: Request) -> bool:
        """A message delivered to one of the opted-in supporters."""
        return (
            request.method in MESSAGE_METHODS
            and request.status == 200
            and isinstance(request.chat_id, int)
            and 1 <= request.chat_id <= self.scale.recipients
        )

    def report(self, index: int) -> Lane:
        received: dict[str, Counter[int]] = {name: Counter() for name in SENDS}
        for request in self.api.sends():
            kind = self.classify(request.params.get("text"))
            if kind in received and self.to_subscriber(request):
                received[kind][request.chat_id] += 1
        other_days = sum(
            count for kind, count in self.arrived.items() if kind not in (*SENDS, None)
        )
        to_others = sum(
            1
            for request in self.api.sends()
            if request.status == 200
            and not self.to_subscriber(request)
            and self.classify(request.params.get("text"))
        )

        def final(storage: Storage) -> tuple[dict[str, tuple], str, int, int]:
            ended = {
                name: (
                    storage.broadcast_status(broadcast_id),
                    storage.broadcast_summary(broadcast_id),
                )
                for name, broadcast_id in self.broadcast_ids(storage).items()
            }
            stored_once = sum(
                queued_messages(storage, s.user_id) == [(s.body, s.signature)]
                for s in self.continued
            )
            left = len(drafts(storage).keys() & {s.user_id for s in self.continued})
            return ended, storage.integrity(), stored_once, left

        ended, integrity, stored_once, drafts_left = self.read(final)
        sends = [
            Send(
                name=name,
                recipients=self.scale.recipients,
                served=len(counts),
                messages=counts.total(),
                in_flight_at_kills=sum(kill.could_duplicate(name) for kill in self.kills),
                sending_at_kills=sum(kill.in_flight.get(name, 0) for kill in self.kills),
                status=ended.get(name, (None, {}))[0],
                summary=ended.get(name, (None, {}))[1],
            )
            for name, counts in received.items()
        ]
        return Lane(
            index=index,
            kills=self.kills,
            sends=sends,
            to_others=to_others,
            other_day_prompts=other_days,
            halfway_at_kill=len(self.kills) * self.scale.journeys_per_cycle,
            continued=len(self.continued),
            stored_once=stored_once,
            drafts_left=drafts_left,
            integrity=integrity,
        )


async def run_lane(
    scale: Scale, index: int, plan: list[Target], workdir: Path, today: dt.date
) -> Lane:
    workdir.mkdir(parents=True, exist_ok=True)
    campaign = write_campaign(workdir / "campaign.toml", today)
    journeys = (len(plan) + 1) * scale.journeys_per_cycle
    broadcast_id = await seed(workdir / "bot.db", scale.recipients, journeys)
    async with FakeBotApi() as api:
        crash = CrashRun(scale, workdir, api, today, campaign, broadcast_id)
        api.on_delivered = crash.on_delivered
        try:
            for cycle, target in enumerate(plan):
                await crash.cycle(cycle, target)
            await crash.complete()
        except CrashSuiteError as error:
            log = crash.log_tail()
            raise CrashSuiteError(f"lane {index}: {error}\n--- bot log ---\n{log}") from None
        finally:
            await crash.stop()
        return crash.report(index)


async def run(scale: Scale, workdir: Path) -> Report:
    """The whole suite in `workdir`: per lane, seed, its kill and restart cycles, a last run to
    the end; then the report. Raises CrashSuiteError (with the bot's log) if a wait hangs."""
    clock = time.monotonic()
    today = local_today()
    tasks = [
        asyncio.create_task(run_lane(scale, index, plan, workdir / f"lane-{index}", today))
        for index, plan in enumerate(scale.kill_plans())
    ]
    try:
        lanes = await asyncio.gather(*tasks)
    finally:
        # One lane failing stops the others, each killing its bot on the way out.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return Report(scale, lanes, time.monotonic() - clock, local_today() != today)
