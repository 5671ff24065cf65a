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

from babel.numbers import format_percent

from bot.campaign import Campaign
from bot.charts import volume_chart
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
from messages.i18n import BABEL_LOCALES, LANGUAGES, Html, catalog, number, text
from messages.render import date

ACTION_KINDS = (PETITION_SIGNED, MP_LETTER_SENT, SOLIDARITY_WRITTEN, SOLIDARITY_POSTED, SHARED)
FUNNEL_JOURNEYS = ("petition", "mp", "solidarity")
# What a supporter answers when asked, 14 days after their letter, whether their MP replied.
DELIVERY_STATUSES = ("pending", "sending", "sent", "blocked", "failed", "unknown", "skipped")
TOP_CONSTITUENCIES = 20
TOP_REFERRAL_LINKS = 10
TOP_DEEP_LINKS = 10
RECENT_BROADCASTS = 5
# Telegram's limit on one message; a longer report is sent in several, split between sections.
MESSAGE_LIMIT = 4096


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
    status: str
    total: int
    deliveries: Mapping[str, int]  # delivery status -> recipients


@dataclass(frozen=True)
class CampaignStats:
    at: dt.datetime
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


# --- gathering ------------------------------------------------------------------------------


def stats_days(campaign: Campaign, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days /stats shows: as many as the campaign has, ending today or on its last day.
    Before the campaign that is the run-up; afterwards, the campaign itself."""
    last = min(today, campaign.end_date)
    return last - dt.timedelta(days=campaign.total_days - 1), last


def gather_stats(storage: Storage, campaign: Campaign, now: dt.datetime) -> CampaignStats:
    """Every figure /stats shows, read from the database now."""
    first, last = (day.isoformat() for day in stats_days(campaign, now.date()))
    languages = storage.supporters_by_language()
    supporters = sum(total for total, _ in languages.values())
    funnel = {"started": supporters} | {
        journey: storage.people_who_did(tuple(sorted(JOURNEYS[journey])))
        for journey in FUNNEL_JOURNEYS
    }
    return CampaignStats(
        at=now,
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
        broadcasts=broadcast_outcomes(storage, RECENT_BROADCASTS),
        solidarity=storage.solidarity_message_counts(),
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


def broadcast_outcomes(storage: Storage, limit: int | None) -> tuple[BroadcastOutcome, ...]:
    return tuple(
        BroadcastOutcome(
            id=row["id"],
            kind=row["kind"],
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            status=row["status"],
            total=row["total"] or 0,
            deliveries=row["deliveries"],
        )
        for row in storage.broadcast_outcomes(limit)
    )


# --- rendering ------------------------------------------------------------------------------


def render_stats(language: str, stats: CampaignStats) -> Html:
    """The figures as one Telegram HTML text (see `stats_messages` to send it)."""
    return Html("\n\n".join(stats_sections(language, stats)))


def stats_messages(language: str, stats: CampaignStats) -> list[Html]:
    """The figures in as few messages as Telegram's length limit allows, split between sections
    (or, for a section too long on its own, between lines: each line is whole HTML)."""
    messages: list[str] = []
    for section in stats_sections(language, stats):
        if messages and len(messages[-1]) + 2 + len(section) <= MESSAGE_LIMIT:
            messages[-1] += f"\n\n{section}"
            continue
        messages.append("")
        for line in section.split("\n"):
            if messages[-1] and len(messages[-1]) + 1 + len(line) > MESSAGE_LIMIT:
                messages.append("")
            messages[-1] += f"\n{line}" if messages[-1] else line
    return [Html(message) for message in messages]


def stats_sections(language: str, stats: CampaignStats) -> list[Html]:
    return [
        _supporters(language, stats),
        _new_per_day(language, stats.new_per_day),
        _funnel(language, stats.funnel),
        _constituencies(language, stats.constituencies),
        _referrals(language, stats.referrals),
        _broadcasts(language, stats.broadcasts),
        text(
            language,
            "stats.solidarity",
            pending=number(language, stats.solidarity.get("pending", 0)),
            approved=number(language, stats.solidarity.get("approved", 0)),
        ),
    ]


def format_stats_text(stats: CampaignStats) -> str:
    """The figures as plain English text, for the terminal."""
    # Imported here: bot.console builds the whole Application, whose handlers import this module.
    from bot.console import plain

    return plain(render_stats("en", stats))


def label(language: str, group: str, value: str) -> str:
    """The catalog's name for a stored value (an action kind, a status...), or the value itself
    for one added since this catalog was written."""
    return catalog(language).get(f"stats.{group}_{value}", value)


def counts_line(language: str, counts: Iterable[tuple[str, int]]) -> Html:
    """'English 12 · Português 3', from (label, count) pairs."""
    return Html(
        text(language, "stats.separator").join(
            text(language, "stats.count_item", label=name, count=number(language, count))
            for name, count in counts
        )
    )


def _lines(*lines: str) -> Html:
    return Html("\n".join(lines))


def _supporters(language: str, stats: CampaignStats) -> Html:
    languages = counts_line(
        language,
        (
            (catalog(language).get(f"core.languages.{code}", code), count)
            for code, count in sorted(stats.by_language.items(), key=_language_order)
        ),
    )
    return _lines(
        text(language, "stats.title", time=stats.at.astimezone(dt.UTC).strftime("%H:%M")),
        text(
            language,
            "stats.supporters",
            total=number(language, stats.supporters),
            subscribed=number(language, stats.subscribed),
        ),
        text(language, "stats.by_language", languages=languages),
    )


def _language_order(item: tuple[str, int]) -> tuple[int, str]:
    """Ours in their usual order (en, pt, es), then any other."""
    code = item[0]
    return (LANGUAGES.index(code) if code in LANGUAGES else len(LANGUAGES), code)


def _new_per_day(language: str, days: Mapping[dt.date, int]) -> Html:
    return _lines(
        text(language, "stats.new_title"),
        *(
            text(language, "stats.new_day", date=date(language, day), count=number(language, n))
            for day, n in sorted(days.items())
        ),
    )


def _funnel(language: str, funnel: Mapping[str, int]) -> Html:
    started = funnel["started"]
    steps = [
        text(
            language,
            "stats.funnel_step",
            journey=label(language, "journey", journey),
            count=number(language, funnel[journey]),
            percent=format_percent(
                funnel[journey] / started if started else 0, locale=BABEL_LOCALES[language]
            ),
        )
        for journey in FUNNEL_JOURNEYS
    ]
    return _lines(
        text(language, "stats.funnel_title"),
        text(language, "stats.funnel_started", count=number(language, started)),
        *steps,
    )


def _constituencies(language: str, constituencies: tuple[ConstituencyLetters, ...]) -> Html:
    title = text(language, "stats.letters_title", limit=TOP_CONSTITUENCIES)
    if not constituencies:
        return _lines(title, text(language, "stats.no_letters"))
    lines = [title]
    for rank, seat in enumerate(constituencies, start=1):
        replies = [
            (label(language, "outcome", outcome), count)
            for outcome, count in _in_order(seat.replies, REPLY_OUTCOMES)
        ]
        lines.append(
            text(
                language,
                "stats.letters_line",
                rank=rank,
                name=seat.name or seat.code,
                letters=number(language, seat.letters),
                replies=counts_line(language, replies)
                if replies
                else text(language, "stats.no_replies"),
            )
        )
    return _lines(*lines)


def _referrals(language: str, found: Referrals) -> Html:
    lines = [text(language, "stats.referrals_title")]
    if found.recruits:
        lines.append(
            text(
                language,
                "stats.referral_links",
                recruits=number(language, found.recruits),
                links=number(language, found.links),
            )
        )
        links = text(language, "stats.separator").join(
            text(language, "stats.referral_link", code=code, count=number(language, count))
            for code, count in found.top_links
        )
        lines.append(text(language, "stats.referral_top", links=Html(links)))
    if found.deep_links:
        sources = counts_line(language, found.deep_links.items())
        lines.append(text(language, "stats.deep_links", sources=sources))
    if len(lines) == 1:
        lines.append(text(language, "stats.no_referrals"))
    return _lines(*lines)


def _broadcasts(language: str, broadcasts: tuple[BroadcastOutcome, ...]) -> Html:
    lines = [text(language, "stats.broadcasts_title")]
    for broadcast in broadcasts:
        lines.append(
            text(
                language,
                "stats.broadcast_line",
                id=broadcast.id,
                kind=label(language, "type", broadcast.kind),
                date=date(language, broadcast.created_at.date()),
                status=label(language, "status", broadcast.status),
                total=number(language, broadcast.total),
            )
        )
        deliveries = [
            (label(language, "delivery", status), count)
            for status, count in _in_order(broadcast.deliveries, DELIVERY_STATUSES)
        ]
        lines.append(
            text(
                language,
                "stats.broadcast_deliveries",
                deliveries=counts_line(language, deliveries)
                if deliveries
                else text(language, "stats.no_deliveries"),
            )
        )
    if not broadcasts:
        lines.append(text(language, "stats.no_broadcasts"))
    return _lines(*lines)


def _in_order(counts: Mapping[str, int], order: tuple[str, ...]) -> list[tuple[str, int]]:
    """Non-zero counts in `order`, then any value not in it (one added since)."""
    known = [(key, counts[key]) for key in order if counts.get(key)]
    return known + sorted((key, n) for key, n in counts.items() if key not in order and n)


# --- chart ----------------------------------------------------------------------------------


def actions_chart(language: str, stats: CampaignStats) -> bytes:
    """A PNG of actions per day, one line per kind of action that happened in the period."""
    series = {
        label(language, "kind", kind): days
        for kind, days in stats.actions_per_day.items()
        if any(days.values())
    }
    # Drawn on an image, so the catalog's plain text, not HTML.
    messages = catalog(language)
    return volume_chart(
        series, messages["stats.chart_title"], empty_note=messages["stats.chart_empty"]
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
        return _csv(["date", "new_supporters", *ACTION_KINDS], [])
    last = max(today.isoformat(), first)
    joined = storage.new_supporters_per_day(first, last)
    actions = storage.actions_per_day(ACTION_KINDS, first, last)
    rows = [[day, joined[day], *(actions[kind][day] for kind in ACTION_KINDS)] for day in joined]
    return _csv(["date", "new_supporters", *ACTION_KINDS], rows)


def per_constituency_csv(storage: Storage) -> bytes:
    rows = [
        [seat.code, seat.name or "", seat.letters, *_replies_in_order(seat.replies)]
        for seat in constituency_letters(storage, None)
    ]
    return _csv(["constituency_code", "constituency_name", "letters", *REPLY_OUTCOMES], rows)


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
    return _csv(["broadcast_id", "kind", "created_at", "status", "total", *DELIVERY_STATUSES], rows)


def _csv(header: list[str], rows: Iterable[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    # With a byte-order mark, Excel reads accented constituency names (Ynys Môn) correctly.
    return buffer.getvalue().encode("utf-8-sig")
