"""The campaign's figures for organisers: /stats, /export and `stepup-bot stats`.

`gather_stats` reads totals from Storage once; the rest renders them: Telegram HTML in the
organiser's language, plain text for the terminal, a PNG chart, and CSV files. Nothing here is
about one person: counts only, no user ids, and referral codes only with how many people each
brought in, never who. Days are UTC days (in November and December London is on UTC).

CSV column names are stable identifiers (the action kinds, outcomes and statuses stored in the
database), the same in every language, so a spreadsheet built on one export works on the next.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.campaign import Campaign
from bot.delivery import known_total
from bot.mps import REPLY_OUTCOMES
from bot.progress import (
    JOURNEYS,
    MP_LETTER_SENT,
    PETITION_SIGNED,
    SHARED,
    SOLIDARITY_POSTED,
    SOLIDARITY_WRITTEN,
)
from bot.sharing import REFERRAL_PREFIX
from bot.storage import Storage

ACTION_KINDS = (PETITION_SIGNED, MP_LETTER_SENT, SOLIDARITY_WRITTEN, SOLIDARITY_POSTED, SHARED)
FUNNEL_JOURNEYS = ("petition", "mp", "solidarity")
# What a supporter answers when asked, 14 days after their letter, whether their MP replied.
DELIVERY_STATUSES = ("pending", "sending", "sent", "blocked", "failed", "unknown", "skipped")
TOP_CONSTITUENCIES = 20
TOP_REFERRAL_LINKS = 10
TOP_DEEP_LINKS = 10
RECENT_BROADCASTS = 5
RECENT_LOBBY_DAYS = 3


@dataclass(frozen=True)
class ConstituencyLetters:
    code: str
    name: str | None
    letters: int
    replies: Mapping[str, int]  # reported outcome -> supporters who reported it


@dataclass(frozen=True)
class Referrals:
    recruits: int  # supporters who arrived through someone's referral link
    links: int  # referral links that brought in at least one supporter
    top_links: tuple[tuple[str, int], ...]  # (referral code, recruits), most first
    deep_links: Mapping[str, int]  # other /start sources ('mp', 'petition', ...) -> supporters


@dataclass(frozen=True)
class BroadcastOutcome:
    id: int
    kind: str
    created_at: dt.datetime
    scheduled_for: dt.datetime | None  # the time an organiser chose; None: sent when created
    status: str
    total: int | None  # None until its recipients are all written (bot.delivery.known_total)
    deliveries: Mapping[str, int]  # delivery status -> recipients

    @property
    def goes_at(self) -> dt.datetime:
        """When it goes (or went) out: a scheduled one's time, not the day it was composed."""
        return self.scheduled_for or self.created_at


@dataclass(frozen=True)
class LobbyDay:
    title: Mapping[str, str]  # {language: title}, as organisers wrote it
    starts_at: dt.datetime
    going: int  # supporters with a yes
    mps: int  # MPs someone is going to meet (one per constituency)
    requests: int  # meeting requests those going said they sent
    outcomes: Mapping[str, int]  # answers to "How did it go?" per outcome (bot.lobby.OUTCOMES)

    @property
    def reported(self) -> int:
        """Meetings reported: everyone who answered "How did it go?"."""
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class CampaignStats:
    at: dt.datetime
    days: tuple[dt.date, dt.date]  # the first and last day shown (see stats_days)
    supporters: int
    subscribed: int  # opted in to the daily prompt and not blocked
    by_language: Mapping[str, int]
    new_per_day: Mapping[dt.date, int]
    funnel: Mapping[str, int]  # 'started' then each journey in FUNNEL_JOURNEYS -> people
    actions_per_day: Mapping[str, Mapping[dt.date, int]]  # action kind -> day -> actions
    constituencies: tuple[ConstituencyLetters, ...]
    referrals: Referrals
    broadcasts: tuple[BroadcastOutcome, ...]
    solidarity: Mapping[str, int]  # solidarity message status -> messages
    lobby_days: tuple[LobbyDay, ...]  # the latest not cancelled, latest first


# --- gathering ------------------------------------------------------------------------------


def stats_days(
    campaign: Campaign, today: dt.date, first_activity: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The days /stats and /trends show: from the campaign's first day, or from the first day
    anything happened (`first_activity`: a supporter joined, a post was counted) if that is
    later, to today or the campaign's last day. Before the campaign starts: the run-up, from the
    first activity (or today) to today."""
    if today < campaign.start_date:
        return min(first_activity or today, today), today
    last = min(today, campaign.end_date)
    first = max(campaign.start_date, first_activity or campaign.start_date)
    return min(first, last), last


def gather_stats(storage: Storage, campaign: Campaign, now: dt.datetime) -> CampaignStats:
    """Every figure /stats shows, read from the database now."""
    first_supporter = storage.first_supporter_day()
    days = stats_days(
        campaign, now.date(), dt.date.fromisoformat(first_supporter) if first_supporter else None
    )
    first, last = (day.isoformat() for day in days)
    languages = storage.supporters_by_language()
    supporters = sum(total for total, _ in languages.values())
    funnel = {"started": supporters} | {
        journey: storage.people_who_did(tuple(sorted(JOURNEYS[journey])))
        for journey in FUNNEL_JOURNEYS
    }
    return CampaignStats(
        at=now,
        days=days,
        supporters=supporters,
        subscribed=sum(subscribed for _, subscribed in languages.values()),
        by_language={language: total for language, (total, _) in languages.items()},
        new_per_day=_by_date(storage.new_supporters_per_day(first, last)),
        funnel=funnel,
        actions_per_day={
            kind: _by_date(days)
            for kind, days in storage.actions_per_day(ACTION_KINDS, first, last).items()
        },
        constituencies=constituency_letters(storage, TOP_CONSTITUENCIES),
        referrals=referrals(storage.referral_sources()),
        # Organisers' broadcasts, prompts and lobby-day messages: the letters' follow-up
        # batches would crowd them out (their replies are counted per constituency).
        broadcasts=broadcast_outcomes(storage, RECENT_BROADCASTS, mp_followups=False),
        solidarity=storage.solidarity_message_counts(),
        lobby_days=tuple(
            LobbyDay(
                title=row["title"],
                starts_at=dt.datetime.fromisoformat(row["starts_at"]),
                going=row["going"],
                mps=row["mps"],
                requests=row["requests"],
                outcomes=row["outcomes"],
            )
            for row in storage.lobby_days(RECENT_LOBBY_DAYS)
        ),
    )


def _by_date(days: Mapping[str, int]) -> dict[dt.date, int]:
    return {dt.date.fromisoformat(day): count for day, count in days.items()}


def constituency_letters(storage: Storage, limit: int | None) -> tuple[ConstituencyLetters, ...]:
    """The constituencies with most MP letters, each with the replies its supporters reported."""
    replies = storage.mp_replies_by_constituency()
    return tuple(
        ConstituencyLetters(
            code=row["code"],
            name=row["name"],
            letters=row["count"],
            replies=replies.get(row["code"], {}),
        )
        for row in storage.actions_by_constituency(MP_LETTER_SENT, limit)
    )


def referrals(sources: Mapping[str, int]) -> Referrals:
    """Recruits per referral link and per other deep link, from supporters per /start source."""
    links = {
        source.removeprefix(REFERRAL_PREFIX): count
        for source, count in sources.items()
        if source.startswith(REFERRAL_PREFIX)
    }
    others = {
        source: count for source, count in sources.items() if not source.startswith(REFERRAL_PREFIX)
    }
    return Referrals(
        recruits=sum(links.values()),
        links=len(links),
        top_links=tuple(_most(links, TOP_REFERRAL_LINKS)),
        deep_links=dict(_most(others, TOP_DEEP_LINKS)),
    )


def _most(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def broadcast_outcomes(
    storage: Storage, limit: int | None, *, mp_followups: bool = True
) -> tuple[BroadcastOutcome, ...]:
    """The latest broadcasts' outcomes, latest first; `mp_followups` as in the storage's."""
    return tuple(
        BroadcastOutcome(
            id=row["id"],
            kind=row["kind"],
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            scheduled_for=row["scheduled_for"] and dt.datetime.fromisoformat(row["scheduled_for"]),
            status=row["status"],
            total=known_total(row),
            deliveries=row["deliveries"],
        )
        for row in storage.broadcast_outcomes(limit, mp_followups=mp_followups)
    )


# --- export ---------------------------------------------------------------------------------


def export_csvs(storage: Storage, today: dt.date) -> dict[str, bytes]:
    """name -> CSV: per day, per constituency, per broadcast. Aggregates only."""
    return {
        "per_day": per_day_csv(storage, today),
        "per_constituency": per_constituency_csv(storage),
        "per_broadcast": per_broadcast_csv(storage),
    }


def per_day_csv(storage: Storage, today: dt.date) -> bytes:
    """Each day from the first supporter's to today: new supporters and each kind of action."""
    first = storage.first_supporter_day()
    if first is None:
        return csv_bytes(["date", "new_supporters", *ACTION_KINDS], [])
    last = max(today.isoformat(), first)
    joined = storage.new_supporters_per_day(first, last)
    actions = storage.actions_per_day(ACTION_KINDS, first, last)
    rows = [[day, joined[day], *(actions[kind][day] for kind in ACTION_KINDS)] for day in joined]
    return csv_bytes(["date", "new_supporters", *ACTION_KINDS], rows)


def per_constituency_csv(storage: Storage) -> bytes:
    rows = [
        [seat.code, seat.name or "", seat.letters, *_replies_in_order(seat.replies)]
        for seat in constituency_letters(storage, None)
    ]
    return csv_bytes(["constituency_code", "constituency_name", "letters", *REPLY_OUTCOMES], rows)


def _replies_in_order(replies: Mapping[str, int]) -> list[int]:
    return [replies.get(outcome, 0) for outcome in REPLY_OUTCOMES]


def per_broadcast_csv(storage: Storage) -> bytes:
    rows = [
        [
            broadcast.id,
            broadcast.kind,
            broadcast.created_at.isoformat(),
            broadcast.status,
            broadcast.total,
            *(broadcast.deliveries.get(status, 0) for status in DELIVERY_STATUSES),
        ]
        for broadcast in reversed(broadcast_outcomes(storage, None))
    ]
    header = ["broadcast_id", "kind", "created_at", "status", "total", *DELIVERY_STATUSES]
    return csv_bytes(header, rows)


def csv_bytes(header: list[str], rows: Iterable[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    # With a byte-order mark, Excel reads accented constituency names (Ynys Môn) correctly.
    return buffer.getvalue().encode("utf-8-sig")
