"""Organisers' alerts about outside services (bot.outages): one when a service stops answering,
one when it answers again."""

from __future__ import annotations

from bot.outages import DOWN, OutageNews
from messages.i18n import Html, text


def outage_alert(language: str, news: OutageNews) -> Html:
    """The alert for one outage starting or ending, in the organiser's language."""
    service = text(language, f"outages.service_{news.service}")
    if news.kind == DOWN:
        return text(
            language,
            "outages.down",
            service=service,
            time=news.since.strftime("%H:%M"),
            detail=news.detail,
            effect=text(language, f"outages.effect_{news.service}"),
        )
    minutes = max(1, round((news.until - news.since).total_seconds() / 60))
    return text(language, "outages.back", service=service, minutes=minutes)
