"""Hashtag tracking as organisers read it: the /trends chart's labels, the daily digest and the
one-off problem alerts. The figures come from `bot.tracking`; nothing here reads the database."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict
from collections.abc import Sequence

from bot.charts import volume_chart
from bot.tracking import Alert, DayChange, Digest
from messages.core import chart_words, date
from messages.i18n import Html, number, text

SNIPPET_CHARS = 80


def source_name(language: str, source: str) -> str:
    return text(language, f"trends.source_{source}")


def volume_series(
    volume: dict[tuple[str, str, dt.date], int], language: str
) -> dict[str, dict[dt.date, int]]:
    """`daily_volume` as chart lines, one per hashtag and source (for charts.volume_chart)."""
    series: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for (source, hashtag, day), count in volume.items():
        label = text(
            language,
            "trends.chart_label",
            hashtag=f"#{hashtag}",
            source=source_name(language, source),
        )
        series[html.unescape(label)][day] = count
    return dict(series)


def trends_chart(
    language: str, volume: dict[tuple[str, str, dt.date], int], days: tuple[dt.date, dt.date]
) -> bytes:
    """A PNG of `daily_volume` over `days`, one line per hashtag and source."""
    return volume_chart(volume_series(volume, language), days, chart_words(language, "trends"))


def render_alert(language: str, alert: Alert) -> Html:
    time = alert.resume_at.astimezone(dt.UTC).strftime("%H:%M") if alert.resume_at else ""
    problem = text(
        language,
        f"trends.problem_{alert.problem}",
        source=source_name(language, alert.source),
        time=time,
        detail=alert.detail,
    )
    return text(language, "trends.alert", problem=problem)


def render_recovered(language: str, source: str) -> Html:
    """A source that had a problem answers again."""
    return text(language, "trends.recovered", source=source_name(language, source))


def _render_change(language: str, change: DayChange) -> Html:
    if not change.previous:
        return text(language, "trends.change_new")
    percent = round((change.total - change.previous) * 100 / change.previous)
    if percent == 0:
        return text(language, "trends.change_same")
    key = "trends.change_up" if percent > 0 else "trends.change_down"
    return text(language, key, percent=number(language, abs(percent)))


def _snippet(post_text: str) -> str:
    flat = re.sub(r"\s+", " ", post_text).strip()
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"


def render_digest(language: str, digest: Digest) -> Html:
    """The organisers' daily digest and /trends caption: each hashtag's day and change, the
    most engaged posts, and any problem still going on."""
    lines = [text(language, "trends.digest_title", date=date(language, digest.day))]
    for change in digest.changes:
        sources = ", ".join(
            text(language, "trends.source_count", source=source_name(language, source), count=n)
            for source, n in sorted(change.counts.items())
        )
        lines.append(
            text(
                language,
                "trends.hashtag_line",
                hashtag=f"#{change.hashtag}",
                total=number(language, change.total),
                sources=Html(sources),
                change=_render_change(language, change),
            )
        )
    if not digest.changes:
        lines.append(text(language, "trends.no_counts"))
    lines += ["", text(language, "trends.top_title")]
    for rank, post in enumerate(digest.posts, start=1):
        lines.append(
            text(
                language,
                "trends.top_post",
                rank=rank,
                url=Html(html.escape(post.url, quote=True)),
                author=post.author or source_name(language, post.source),
                source=source_name(language, post.source),
                snippet=_snippet(post.text),
                engagement=number(language, post.engagement),
            )
        )
    if not digest.posts:
        lines.append(text(language, "trends.no_posts"))
    if digest.alerts:
        lines += ["", text(language, "trends.alerts_title")]
        lines += [render_alert(language, alert) for alert in digest.alerts]
        lines += _silent_sources(language, digest.alerts)
        # A paused source says when it is asked again; the others wait for the next poll.
        if digest.next_poll and any(a.problem != "rate_limited" for a in digest.alerts):
            time = digest.next_poll.astimezone(dt.UTC).strftime("%H:%M")
            lines.append(text(language, "trends.next_poll", time=time))
    return Html("\n".join(lines))


def _silent_sources(language: str, alerts: Sequence[Alert]) -> list[Html]:
    """For each source in trouble, since when nothing has come from it: its figures above are
    what was counted before then, not a fall in posts."""
    since: dict[str, dt.datetime] = {}
    for alert in alerts:
        if alert.since and (alert.source not in since or alert.since < since[alert.source]):
            since[alert.source] = alert.since
    return [
        text(
            language,
            "trends.silent_since",
            source=source_name(language, source),
            time=moment.astimezone(dt.UTC).strftime("%H:%M"),
            date=date(language, moment.astimezone(dt.UTC).date()),
        )
        for source, moment in sorted(since.items())
    ]
