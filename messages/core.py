"""The core screens beside `locales/*/core.toml`: welcome, menu, help, privacy;
pure render functions, values in, escaped Telegram HTML out (their keyboards: `keyboards.py`)."""

from __future__ import annotations

import datetime as dt
import functools

from babel.dates import format_date, get_timezone, get_timezone_location, get_timezone_name

from bot.campaign import Campaign
from bot.charts import ChartWords
from bot.progress import Checklist
from messages.i18n import BABEL_LOCALES, Html, catalog, text

# Our own date patterns, not a locale's skeleton match, which changes between Babel releases.
DATE_PATTERNS = {"en": "d MMMM", "pt": "d 'de' MMMM", "es": "d 'de' MMMM"}
YEAR_PATTERNS = {"en": "d MMMM y", "pt": "d 'de' MMMM 'de' y", "es": "d 'de' MMMM 'de' y"}
# Under a chart's axis, where room is short: '25 Nov', '25 nov.', '25 nov'.
SHORT_PATTERN = "d MMM"


@functools.cache  # Babel's pattern matching is slow, and a campaign has only a few dates
def date(language: str, day: dt.date, with_year: bool = False) -> str:
    """'25 November', '25 de novembro', '25 de noviembre' (with the year if asked)."""
    pattern = (YEAR_PATTERNS if with_year else DATE_PATTERNS)[language]
    return format_date(day, format=pattern, locale=BABEL_LOCALES[language])


@functools.cache
def zone_name(language: str, key: str) -> str:
    """A time zone as people call it, from CLDR through Babel: Europe/London is 'British Time',
    'Horário Britânico', 'hora británica'; America/Sao_Paulo 'Horário de Brasília'.

    `key` is an IANA name (the TZ setting). A zone with no everyday name (UTC, Reykjavik) gets
    its standard one ('Coordinated Universal Time'): CLDR's fallback, the place, reads
    'Unknown Region (UTC) Time', and in Latin American Spanish wrongly says summer time.
    """
    zone, locale = get_timezone(key), BABEL_LOCALES[language]
    generic = get_timezone_name(zone, "long", zone_variant="generic", locale=locale)
    if generic != get_timezone_location(zone, locale=locale):
        return generic
    return get_timezone_name(zone, "long", zone_variant="standard", locale=locale)


@functools.cache
def short_date(language: str, day: dt.date) -> str:
    """'25 Nov', '25 nov.', '25 nov': a day under a chart's axis."""
    return format_date(day, format=SHORT_PATTERN, locale=BABEL_LOCALES[language])


def chart_words(language: str, area: str) -> ChartWords:
    """The words on `area`'s chart (stats, trends): its catalog's chart_* texts, plain text
    since they are drawn, not sent, and the days as `short_date` writes them."""
    messages = catalog(language)
    return ChartWords(
        title=messages[f"{area}.chart_title"],
        x_label=messages[f"{area}.chart_x_label"],
        y_label=messages[f"{area}.chart_y_label"],
        empty_note=messages[f"{area}.chart_empty"],
        day=functools.partial(short_date, language),
    )


def characters(language: str, count: int) -> Html:
    """A length or a limit as a sentence says it: "600 characters", "1 character"."""
    return text(language, "core.counts.characters", count=count)


def language_name(language: str, code: str) -> Html:
    """A language's name as a sentence in `language` says it: "português", "Portuguese"."""
    return text(language, f"core.languages.{code}")


def too_long(language: str, key: str, length: int, limit: int) -> Html:
    """The message `key` saying a text of `length` characters is over its `limit`."""
    return text(
        language, key, length=characters(language, length), limit=characters(language, limit)
    )


def campaign_dates(language: str, campaign: Campaign) -> str:
    return f"{date(language, campaign.start_date)} – {date(language, campaign.end_date)}"


def welcome(language: str, campaign: Campaign) -> Html:
    """The greeting, ending with the offer of another language (its buttons go under it)."""
    greeting = text(
        language,
        "core.welcome.greeting",
        campaign=campaign.name(language),
        summary=campaign.summary(language),
        dates=campaign_dates(language, campaign),
    )
    return Html(f"{greeting}\n\n{text(language, 'core.welcome.switch_language')}")


def menu(
    language: str, progress: Checklist, messages: Html, lobby_day: tuple[str, bool] | None = None
) -> Html:
    """The checklist (with the coming `lobby_day`'s title and whether they are going, if there
    is one), what the supporter hears from us (`messages`, rendered by messages.consent), the
    next step and the menu's title. All is done only once they are going to that lobby day."""
    lines = [text(language, "core.menu.progress_title")]
    for journey in ("petition", "mp", "solidarity", "share"):
        key = "core.menu.item_done" if journey in progress.done else "core.menu.item_todo"
        lines.append(text(language, key, action=text(language, f"core.menu.action_{journey}")))
    lobby_action = text(language, "core.menu.lobby_day", title=lobby_day[0]) if lobby_day else None
    if lobby_day:
        key = "core.menu.item_done" if lobby_day[1] else "core.menu.item_todo"
        lines.append(text(language, key, action=lobby_action))
    lines += ["", messages, ""]
    if progress.next_step:
        action = text(language, f"core.menu.action_{progress.next_step}")
        lines.append(text(language, "core.menu.next_step", action=action))
    elif lobby_day and not lobby_day[1]:
        lines.append(text(language, "core.menu.next_step", action=lobby_action))
    else:
        lines.append(text(language, "core.menu.all_done"))
    lines.append(text(language, "core.menu.title"))
    return Html("\n".join(lines))


def support_lines(language: str, campaign: Campaign) -> Html:
    lines = []
    for line in campaign.support_lines:
        if line.phone:
            lines.append(
                text(
                    language,
                    "core.help.support_line",
                    name=line.name(language),
                    phone=line.phone,
                    hours=line.hours(language),
                )
            )
        else:
            lines.append(
                text(
                    language,
                    "core.help.support_line_web",
                    name=line.name(language),
                    url=str(line.url),
                    hours=line.hours(language),
                )
            )
    return Html("\n".join(lines))


def help_text(language: str, campaign: Campaign) -> Html:
    return text(
        language,
        "core.help.text",
        campaign=campaign.name(language),
        support_lines=support_lines(language, campaign),
    )


def purge_date(campaign: Campaign, retention_days: int) -> dt.date:
    return campaign.end_date + dt.timedelta(days=retention_days)


def privacy(language: str, campaign: Campaign, retention_days: int, daily_cap: int) -> Html:
    return text(
        language,
        "core.privacy.text",
        retention=text(language, "core.counts.days", count=retention_days),
        purge_date=date(language, purge_date(campaign, retention_days), with_year=True),
        cap=daily_cap,
    )
