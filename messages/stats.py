"""The campaign's figures as organisers read them: Telegram HTML in their language (/stats),
plain text for the terminal (`stepup-bot stats`) and the words on the actions chart.

The figures themselves are gathered in `bot.stats`; nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from babel.numbers import format_percent

from bot.charts import volume_chart
from bot.lobby import OUTCOMES
from bot.mps import REPLY_OUTCOMES
from bot.stats import (
    DELIVERY_STATUSES,
    FUNNEL_JOURNEYS,
    TOP_CONSTITUENCIES,
    BroadcastOutcome,
    CampaignStats,
    ConstituencyLetters,
    LobbyDay,
    Referrals,
)
from messages.core import chart_words, date
from messages.i18n import BABEL_LOCALES, LANGUAGES, Html, catalog, number, plain, text


def render_stats(language: str, stats: CampaignStats) -> Html:
    """The figures as one Telegram HTML text, of any length (`handlers.common.reply` splits it)."""
    return Html("\n\n".join(stats_sections(language, stats)))


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
        _lobby_days(language, stats.lobby_days),
    ]


def format_stats_text(stats: CampaignStats) -> str:
    """The figures as plain English text, for the terminal."""
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
            # Our three languages always, 0 included, so the line is never blank.
            for code, count in sorted(
                ({code: 0 for code in LANGUAGES} | dict(stats.by_language)).items(),
                key=_language_order,
            )
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
        replies = _labelled(language, "outcome", seat.replies, REPLY_OUTCOMES, "no_replies")
        lines.append(
            text(
                language,
                "stats.letters_line",
                rank=rank,
                name=seat.name or seat.code,
                letters=number(language, seat.letters),
                replies=replies,
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
        values = {
            "id": broadcast.id,
            "kind": label(language, "type", broadcast.kind),
            "date": date(language, broadcast.goes_at.date()),
            "status": label(language, "status", broadcast.status),
        }
        # Until its recipients are all written, a total and the deliveries would be only those
        # written so far, all waiting: nothing has been sent.
        sent = broadcast.deliveries
        if broadcast.total is None:
            lines.append(text(language, "stats.broadcast_line_unlisted", **values))
            sent = {}
        else:
            total = number(language, broadcast.total)
            lines.append(text(language, "stats.broadcast_line", total=total, **values))
        deliveries = _labelled(language, "delivery", sent, DELIVERY_STATUSES, "no_deliveries")
        lines.append(text(language, "stats.broadcast_deliveries", deliveries=deliveries))
    if not broadcasts:
        lines.append(text(language, "stats.no_broadcasts"))
    return _lines(*lines)


def _lobby_days(language: str, days: tuple[LobbyDay, ...]) -> Html:
    lines = [text(language, "stats.lobby_title")]
    for day in days:
        lines.append(
            text(
                language,
                "stats.lobby_line",
                title=day.title.get(language) or day.title["en"],
                date=date(language, day.starts_at.date()),
                going=number(language, day.going),
                mps=number(language, day.mps),
                requests=number(language, day.requests),
                reported=number(language, day.reported),
            )
        )
        outcomes = [
            (text(language, f"lobby.label_{outcome}"), day.outcomes[outcome])
            for outcome in OUTCOMES
            if day.outcomes.get(outcome)
        ]
        if outcomes:
            named = counts_line(language, outcomes)
            lines.append(text(language, "stats.lobby_outcomes", outcomes=named))
    if not days:
        lines.append(text(language, "stats.no_lobby_days"))
    return _lines(*lines)


def _labelled(
    language: str, group: str, counts: Mapping[str, int], order: tuple[str, ...], none: str
) -> Html:
    """'sent 2 · blocked 1' in `order`, each value by its catalog name; `stats.<none>` if all
    are zero."""
    named = [(label(language, group, value), n) for value, n in _in_order(counts, order)]
    return counts_line(language, named) if named else text(language, f"stats.{none}")


def _in_order(counts: Mapping[str, int], order: tuple[str, ...]) -> list[tuple[str, int]]:
    """Non-zero counts in `order`, then any value not in it (one added since)."""
    known = [(key, counts[key]) for key in order if counts.get(key)]
    return known + sorted((key, n) for key, n in counts.items() if key not in order and n)


# --- chart ----------------------------------------------------------------------------------


def actions_chart(language: str, stats: CampaignStats) -> bytes:
    """A PNG of actions per day over the days /stats shows, one line per kind of action that
    happened in them."""
    series = {label(language, "kind", kind): days for kind, days in stats.actions_per_day.items()}
    return volume_chart(series, stats.days, chart_words(language, "stats"))
