"""Fill a database with a campaign's worth of made-up supporters, for the database benchmark.

Realistic shapes, not real people: three languages (mostly English), about 60% opted in to the
daily prompt and a few who blocked the bot, constituencies drawn unevenly from 650 GSS-like
codes, a quarter of supporters recruited through someone's referral link, a rush of new
supporters on launch day, and actions spread over the run-up and the campaign, most of them
shares and solidarity posts by supporters who get the daily prompt. MP letters get their
14-day follow-ups, solidarity letters their messages, and a handful of broadcasts their
deliveries.

Rows go in through Storage's sqlite-utils tables in large batches: 100,000 supporters and
1,000,000 actions take a minute or two (bench_database.py keeps the result). The same seed
gives the same database.

    .venv/bin/python -m bench.generate bench/results/campaign.db --supporters 100000
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from bot.campaign import Campaign, load_campaign
from bot.config import DEFAULT_CAMPAIGN_FILE
from bot.progress import (
    MP_LETTER_SENT,
    PETITION_SIGNED,
    SHARED,
    SOLIDARITY_POSTED,
    SOLIDARITY_WRITTEN,
)
from bot.storage import Storage, stamp

BATCH = 20_000
LANGUAGES = {"en": 0.75, "pt": 0.15, "es": 0.10}
BLOCKED = 0.03
OPTED_IN = 0.60  # including the blocked, whose opt-in was withdrawn
REFERRED = 0.25
DEEP_LINKED = 0.05
DEEP_LINKS = ("mp", "petition", "solidarity", "share")
# Share of supporters who take each one-off action; the rest of the actions are repeated ones.
# (A supporter knows their seat once they looked up their MP; most who look it up write.)
ONE_OFF = {PETITION_SIGNED: 0.55, MP_LETTER_SENT: 0.65, SOLIDARITY_WRITTEN: 0.20}
KNOWS_SEAT = 0.45
REPEATED = {SHARED: 0.6, SOLIDARITY_POSTED: 0.4}
MP_REPLIES = {
    "supportive": 0.10,
    "unsupportive": 0.04,
    "form_letter": 0.30,
    "not_yet": 0.16,
    "no_reply": 0.20,
    None: 0.20,  # not asked yet, or asked and not answered
}
FOLLOWUP_AFTER = dt.timedelta(days=14)
SOLIDARITY_STATUSES = {"approved": 0.7, "pending": 0.2, "rejected": 0.1}
BROADCASTS = 6
DELIVERY_STATUSES = {
    "sent": 0.93,
    "blocked": 0.03,
    "failed": 0.02,
    "unknown": 0.01,
    "skipped": 0.01,
}
PRE_LAUNCH_DAYS = 7
LAUNCH_RUSH = 0.15  # share of supporters who join on the first day
FIRST_USER_ID = 10_000_000

# 650 seats, GSS-style: England E14, Wales W07, Scotland S14, Northern Ireland N05.
SEAT_RANGES = (("E14", 1063, 543), ("W07", 81, 32), ("S14", 21, 57), ("N05", 1, 18))


def constituency_codes() -> list[str]:
    return [
        f"{prefix}{first + offset:06d}"
        for prefix, first, count in SEAT_RANGES
        for offset in range(count)
    ]


def pick(rng: random.Random, weights: dict, count: int) -> list:
    return rng.choices(list(weights), weights=list(weights.values()), k=count)


def batched(rows: Iterator[dict]) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class Person(NamedTuple):
    user_id: int
    language: str
    joined: dt.datetime
    seat: str | None  # known once they looked up their MP
    subscribed: bool


class Generator:
    def __init__(self, storage: Storage, campaign: Campaign, seed: int) -> None:
        self.storage = storage
        self.rng = random.Random(seed)
        self.launch = dt.datetime.combine(campaign.start_date, dt.time(), dt.UTC)
        self.start = self.launch - dt.timedelta(days=PRE_LAUNCH_DAYS)
        self.end = dt.datetime.combine(campaign.end_date, dt.time(23, 59), dt.UTC)
        self.seats = constituency_codes()
        # A few seats get far more letters than most: Zipf-like popularity.
        popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(self.seats))]
        self.rng.shuffle(popularity)
        self.seat_weights = list(itertools.accumulate(popularity))

    def moment(self, after: dt.datetime) -> dt.datetime:
        """A time between `after` and the campaign's end, sooner more likely than later."""
        span = (self.end - after).total_seconds()
        return after + dt.timedelta(seconds=span * self.rng.random() ** 1.6)

    def joining(self) -> dt.datetime:
        """When a supporter joins: a rush on launch day, the rest over the run-up and campaign."""
        if self.rng.random() < LAUNCH_RUSH:
            return self.launch + dt.timedelta(hours=24 * self.rng.random())
        return self.moment(self.start)

    def insert(self, table: str, rows: Iterator[dict]) -> None:
        for batch in batched(rows):
            self.storage.db[table].insert_all(batch, batch_size=BATCH)

    def seat(self) -> str | None:
        if self.rng.random() >= KNOWS_SEAT:
            return None
        return self.rng.choices(self.seats, cum_weights=self.seat_weights)[0]

    def supporters(self, count: int) -> list[Person]:
        languages = pick(self.rng, LANGUAGES, count)
        codes = [base64.urlsafe_b64encode(self.rng.randbytes(6)).decode() for _ in range(count)]
        people, rows = [], []
        for index in range(count):
            joined, seat, draw = self.joining(), self.seat(), self.rng.random()
            person = Person(
                FIRST_USER_ID + index, languages[index], joined, seat, OPTED_IN > draw >= BLOCKED
            )
            rows.append(
                {
                    "user_id": person.user_id,
                    "language": person.language,
                    "created_at": stamp(joined),
                    "referral_source": self.referral_source(codes, index),
                    "referral_code": codes[index],
                    "constituency_code": seat,
                    "constituency_name": f"Seat {seat}" if seat else None,
                    # Subscribed people said yes to both the daily prompt and campaign updates.
                    "opted_in": int(person.subscribed),
                    "updates_opted_in": int(person.subscribed),
                    "blocked_at": stamp(self.moment(joined)) if draw < BLOCKED else None,
                }
            )
            people.append(person)
        self.insert("supporters", iter(rows))
        return people

    def referral_source(self, codes: list[str], index: int) -> str | None:
        """Someone's referral link (one of the `index` who joined earlier), a deep link, or none."""
        draw = self.rng.random()
        if draw < REFERRED and index:
            # Early supporters share most: bias towards the start of the list.
            return f"ref-{codes[int(index * self.rng.random() ** 3)]}"
        if draw < REFERRED + DEEP_LINKED:
            return self.rng.choice(DEEP_LINKS)
        return None

    def actions(self, people: list[Person], total: int) -> None:
        """One-off actions first, then `total` minus those of shares and solidarity posts, most
        of them from subscribers prompted each day; then letters' follow-ups and messages."""
        rows: list[dict] = []
        letters: list[tuple[Person, dt.datetime]] = []
        writers: list[tuple[Person, dt.datetime]] = []
        for person in people:
            for kind, share in ONE_OFF.items():
                if self.rng.random() >= share or (kind == MP_LETTER_SENT and not person.seat):
                    continue
                at = self.moment(person.joined)
                code = person.seat if kind == MP_LETTER_SENT else None
                rows.append(self.action(person.user_id, kind, at, code))
                if kind == MP_LETTER_SENT:
                    letters.append((person, at))
                elif kind == SOLIDARITY_WRITTEN:
                    writers.append((person, at))
        repeated = pick(self.rng, REPEATED, max(0, total - len(rows)))
        # A few act every day, most now and then; the prompted (subscribers) far more often.
        weights = [self.rng.paretovariate(1.5) * (1 if p.subscribed else 0.1) for p in people]
        actors = self.rng.choices(people, weights=weights, k=len(repeated))
        for kind, person in zip(repeated, actors, strict=True):
            rows.append(self.action(person.user_id, kind, self.moment(person.joined), None))
        self.rng.shuffle(rows)  # ids in no particular order of kind, as in real life
        self.insert("actions", iter(rows))
        self.followups(letters)
        self.solidarity(writers)

    @staticmethod
    def action(user_id: int, kind: str, at: dt.datetime, code: str | None) -> dict:
        return {"user_id": user_id, "kind": kind, "at": stamp(at), "constituency_code": code}

    def followups(self, letters: list[tuple[Person, dt.datetime]]) -> None:
        outcomes = pick(self.rng, MP_REPLIES, len(letters))
        self.insert(
            "mp_followups",
            (
                {
                    "user_id": person.user_id,
                    "constituency_code": person.seat,
                    "sent_at": stamp(sent),
                    "due_at": stamp(sent + FOLLOWUP_AFTER),
                    "asked_at": stamp(sent + FOLLOWUP_AFTER) if outcome else None,
                    "outcome": outcome,
                    "answered_at": stamp(sent + FOLLOWUP_AFTER) if outcome else None,
                }
                for (person, sent), outcome in zip(letters, outcomes, strict=True)
            ),
        )

    def solidarity(self, writers: list[tuple[Person, dt.datetime]]) -> None:
        statuses = pick(self.rng, SOLIDARITY_STATUSES, len(writers))
        self.insert(
            "solidarity_messages",
            (
                {
                    "user_id": person.user_id,
                    "body": "You are not alone. We stand with you.",
                    "signature": "A friend",
                    "language": person.language,
                    "status": status,
                    "created_at": stamp(written),
                }
                for (person, written), status in zip(writers, statuses, strict=True)
            ),
        )

    def broadcasts(self, people: list[Person]) -> None:
        """Every other day from launch, a broadcast or daily prompt to the subscribers by then."""
        for number in range(BROADCASTS):
            sent_at = self.launch + dt.timedelta(days=2 * number, hours=9)
            broadcast_id = self.storage.create_broadcast(
                kind="daily_prompt" if number % 2 else "broadcast",
                texts={"en": f"Day {2 * number + 1}"},
                audience={},
            )
            recipients = [p for p in people if p.subscribed and p.joined < sent_at]
            statuses = pick(self.rng, DELIVERY_STATUSES, len(recipients))
            self.insert(
                "deliveries",
                (
                    {
                        "broadcast_id": broadcast_id,
                        "user_id": person.user_id,
                        "status": status,
                        "updated_at": stamp(sent_at),
                    }
                    for person, status in zip(recipients, statuses, strict=True)
                ),
            )
            self.storage.db["broadcasts"].update(
                broadcast_id,
                {
                    "created_at": stamp(sent_at - dt.timedelta(hours=1)),
                    "status": "done",
                    "started_at": stamp(sent_at),
                    "finished_at": stamp(sent_at),
                    "total": len(recipients),
                },
            )


def generate(
    path: Path, *, supporters: int, actions: int, seed: int = 16, campaign: Campaign | None = None
) -> Path:
    """A new database at `path` (replacing any there) with this many supporters and actions."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    storage = Storage.open(path)
    try:
        generator = Generator(storage, campaign or load_campaign(DEFAULT_CAMPAIGN_FILE), seed)
        people = generator.supporters(supporters)
        generator.actions(people, actions)
        generator.broadcasts(people)
        storage.checkpoint()
    finally:
        storage.close()
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    generate(args.path, supporters=args.supporters, actions=args.actions, seed=args.seed)
    print(f"Wrote {args.path}")


if __name__ == "__main__":
    main()
