"""Organiser broadcasts: what the composer, /broadcast list and the progress messages say, their
keyboards, and the callback data those keyboards carry (the handler matches on the same names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.clock import CLOCK_FORMAT, EXAMPLE_FORMAT
from bot.delivery import (
    PREPARING,
    RUNNING,
    SKIP_REASONS,
    Audience,
    DeliveryReport,
    ProgressSnapshot,
)
from bot.lobby import GOING_AUDIENCE, UNCOVERED_AUDIENCE, LobbyEvent
from bot.progress import MP_LETTER_SENT, PETITION_SIGNED, SOLIDARITY_WRITTEN
from messages.core import characters, language_name, zone_name
from messages.core import date as date_label
from messages.i18n import DEFAULT_LANGUAGE, LANGUAGES, Html, join, label, number, plain, text
from messages.keyboards import Keyboard, button, rows

PREFIX = "broadcast:"
VERSION_PREFIX = "broadcast:version:"  # + language
CONTINUE = "broadcast:continue"
AUDIENCE_PREFIX = "broadcast:to:"
EVERYONE = "broadcast:to:all"
LANGUAGE_PREFIX = "broadcast:to:lang:"  # + language
GAP_PREFIX = "broadcast:to:gap:"  # + a GAPS name
AREA = "broadcast:to:area"
CONSTITUENCY_PREFIX = "broadcast:to:con:"  # + GSS code
LOBBY_PREFIX = "broadcast:to:lobby:"  # + event id + ":" + one of LOBBY_REACHES
# The audiences organisers may choose around a lobby day (the third, everyone not going, is
# the day's own message, sent by scheduler/lobby.py).
LOBBY_REACHES = (GOING_AUDIENCE, UNCOVERED_AUDIENCE)
SEND = "broadcast:send"
SCHEDULE = "broadcast:schedule"
CANCEL = "broadcast:cancel"
LIST = "broadcast:list"
# The Cancel button on progress messages and in /broadcast list.
STOP_PREFIX = "broadcast:stop:"  # + broadcast id

# Supporters who have done one action but not the next, or not an action at all: (done, missing).
# Each stands for its whole journey, so "no solidarity" means neither posted nor written here.
GAPS: dict[str, tuple[str | None, str]] = {
    "no_petition": (None, PETITION_SIGNED),
    "signed_no_mp": (PETITION_SIGNED, MP_LETTER_SENT),
    "no_mp": (None, MP_LETTER_SENT),
    "mp_no_solidarity": (MP_LETTER_SENT, SOLIDARITY_WRITTEN),
    "no_solidarity": (None, SOLIDARITY_WRITTEN),
}

MAX_ECHO = 60  # characters of a typed search repeated back
LIST_PREVIEW = 80  # characters of a broadcast's text shown in /broadcast list

REPORT_TITLES = {
    "done": "broadcast.report_done",
    "cancelled": "broadcast.report_cancelled",
}


# --- pieces ------------------------------------------------------------------------------------


def shorten(words: str, limit: int) -> str:
    words = " ".join(words.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def echo(typed: str) -> str:
    """What an organiser typed, as repeated back to them."""
    return shorten(typed, MAX_ECHO)


def plain_words(body: str, limit: int) -> str:
    """A stored Telegram-HTML text as plain words, cut to `limit` characters."""
    return shorten(plain(body), limit)


def duration(language: str, seconds: float) -> Html:
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, seconds_left = divmod(rest, 60)
    if hours:
        return text(language, "broadcast.duration_hours", hours=hours, minutes=minutes)
    if minutes:
        return text(language, "broadcast.duration_minutes", minutes=minutes, seconds=seconds_left)
    return text(language, "broadcast.duration_seconds", seconds=seconds_left)


def gap_of(audience: Audience) -> str | None:
    wanted = (audience.done_action, audience.missing_action)
    return next((name for name, actions in GAPS.items() if actions == wanted), None)


def describe(
    lang: str,
    audience: Audience,
    known: dict[str, str],
    events: Mapping[int, LobbyEvent] | None = None,
) -> Html:
    """Who an audience is, in words (`known`: constituency names by code; `events`: the lobby
    days an audience may be about, by id)."""
    if audience.lobby_event:
        event = (events or {}).get(audience.lobby_event)
        title = event.text("title", lang) if event else f"#{audience.lobby_event}"
        return text(lang, f"lobby.audience_{audience.lobby_reach}", title=title)
    if audience.constituency_code:
        code = audience.constituency_code
        return text(lang, "broadcast.audience_area", name=known.get(code, code), code=code)
    if audience.languages:
        return text(
            lang,
            "broadcast.audience_language",
            language_name=language_name(lang, audience.languages[0]),
        )
    gap = gap_of(audience)
    if gap:
        return text(lang, f"broadcast.gap_{gap}")
    return text(lang, "broadcast.audience_everyone")


def local_time(lang: str, moment: dt.datetime) -> Html:
    return text(
        lang,
        "broadcast.when",
        date=date_label(lang, moment.date(), with_year=True),
        time=moment.strftime(CLOCK_FORMAT),
    )


def column(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    """One button per row."""
    return Keyboard(rows(*buttons, width=1))


def cancel_keyboard(lang: str) -> InlineKeyboardMarkup:
    return column(button(lang, "broadcast.cancel_button", CANCEL))


# --- composing ---------------------------------------------------------------------------------


def ask_message(lang: str) -> Html:
    return text(
        lang,
        "broadcast.ask_message",
        text_limit=characters(lang, MessageLimit.MAX_TEXT_LENGTH),
        caption_limit=characters(lang, MessageLimit.CAPTION_LENGTH),
    )


def ask_message_keyboard(lang: str) -> InlineKeyboardMarkup:
    return column(
        button(lang, "broadcast.list_button", LIST),
        button(lang, "broadcast.cancel_button", CANCEL),
    )


def version_text_only(lang: str, code: str) -> Html:
    """Only the first version may bring a photo."""
    return text(lang, "broadcast.version_text_only", language_name=language_name(lang, code))


def versions(lang: str, written: Collection[str]) -> Html:
    """The languages with a version so far."""
    names = join(lang, (language_name(lang, code) for code in LANGUAGES if code in written))
    return text(lang, "broadcast.versions", versions=names)


def versions_keyboard(lang: str, written: Collection[str]) -> InlineKeyboardMarkup:
    """A button for each language still without a version, then go on, or cancel."""
    return column(
        *(
            InlineKeyboardButton(
                label(
                    lang, "broadcast.add_version_button", language_name=language_name(lang, code)
                ),
                callback_data=f"{VERSION_PREFIX}{code}",
            )
            for code in LANGUAGES
            if code not in written
        ),
        button(lang, "broadcast.continue_button", CONTINUE),
        button(lang, "broadcast.cancel_button", CANCEL),
    )


def ask_version(lang: str, code: str, limit: int) -> Html:
    return text(
        lang,
        "broadcast.ask_version",
        language_name=language_name(lang, code),
        limit=characters(lang, limit),
    )


def ask_version_keyboard(lang: str) -> InlineKeyboardMarkup:
    return column(
        button(lang, "broadcast.skip_version_button", CONTINUE),
        button(lang, "broadcast.cancel_button", CANCEL),
    )


# --- audience ----------------------------------------------------------------------------------


def audience_question(lang: str, note: Html | None = None) -> Html:
    """Who should get it, after a note on what went wrong, if any."""
    question = text(lang, "broadcast.ask_audience")
    return Html(f"{note}\n\n{question}") if note else question


def audience_keyboard(lang: str, events: Iterable[LobbyEvent] = ()) -> InlineKeyboardMarkup:
    """Everyone, a language, a gap in the checklist, a constituency, and for each open lobby
    day: those going, and those where nobody is going yet."""
    by_language = [
        InlineKeyboardButton(
            label(lang, "broadcast.language_button", language_name=language_name(lang, code)),
            callback_data=f"{LANGUAGE_PREFIX}{code}",
        )
        for code in LANGUAGES
    ]
    return Keyboard(
        [
            [button(lang, "broadcast.audience_everyone", EVERYONE)],
            by_language,
            *([button(lang, f"broadcast.gap_{name}", f"{GAP_PREFIX}{name}")] for name in GAPS),
            [button(lang, "broadcast.area_button", AREA)],
            *(
                [
                    InlineKeyboardButton(
                        label(
                            lang,
                            f"lobby.audience_{reach}_button",
                            title=event.text("title", lang),
                        ),
                        callback_data=f"{LOBBY_PREFIX}{event.id}:{reach}",
                    )
                ]
                for event in events
                for reach in LOBBY_REACHES
            ),
            [button(lang, "broadcast.cancel_button", CANCEL)],
        ]
    )


def constituency_keyboard(found: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    """A button per (code, name) that matched; names are shown as they are (buttons are plain)."""
    return column(
        *(
            InlineKeyboardButton(name, callback_data=f"{CONSTITUENCY_PREFIX}{code}")
            for code, name in found
        )
    )


# --- preview and confirmation --------------------------------------------------------------------


def preview_heading(lang: str, code: str) -> Html:
    return text(lang, "broadcast.preview_heading", language_name=language_name(lang, code))


def fallback_note(lang: str, written: Collection[str]) -> Html:
    """Which languages get the English version because they have none of their own."""
    without = [language_name(lang, code) for code in LANGUAGES if code not in written]
    if not without:
        return text(lang, "broadcast.every_language_has_a_version")
    return text(lang, "broadcast.fallback_for", languages=join(lang, without))


def confirm(
    lang: str, count: int, who: Html, written: Collection[str], held: int, cap: int
) -> Html:
    """The last question before sending: how many it reaches, which languages fall back to
    English, and how many of them the daily cap (`cap` a day) would hold back if sent now."""
    notes = fallback_note(lang, written)
    if held:
        notes = Html(f"{notes}\n{text(lang, 'broadcast.confirm_capped', count=held, cap=cap)}")
    return text(lang, "broadcast.confirm", count=count, audience=who, fallback=notes)


def confirm_keyboard(lang: str) -> InlineKeyboardMarkup:
    return Keyboard(
        [
            [
                button(lang, "broadcast.send_button", SEND),
                button(lang, "broadcast.schedule_button", SCHEDULE),
            ],
            [button(lang, "broadcast.cancel_button", CANCEL)],
        ]
    )


# --- scheduling ----------------------------------------------------------------------------------


def example_time(now: dt.datetime) -> str:
    """Tomorrow at 18:00, as a time to type."""
    return (now + dt.timedelta(days=1)).replace(hour=18, minute=0).strftime(EXAMPLE_FORMAT)


def ask_time(lang: str, now: dt.datetime, zone: str) -> Html:
    """When to send, with an example time; `zone` is the IANA name the bot reads times in."""
    return text(lang, "broadcast.ask_time", example=example_time(now), zone=zone_name(lang, zone))


def time_unreadable(lang: str, now: dt.datetime) -> Html:
    return text(lang, "broadcast.time_unreadable", example=example_time(now))


def time_past(lang: str, when: dt.datetime) -> Html:
    return text(lang, "broadcast.time_past", when=local_time(lang, when))


def scheduled(
    lang: str,
    broadcast_id: int,
    when: dt.datetime,
    zone: str,
    who: Html,
    count: int,
    warning: Html | None = None,
) -> Html:
    """The broadcast scheduled, whom it reaches (`count` as of now), and a warning if any."""
    done = text(
        lang,
        "broadcast.scheduled",
        id=broadcast_id,
        when=local_time(lang, when),
        zone=zone_name(lang, zone),
        audience=who,
        count=count,
    )
    return Html(f"{done}\n\n{warning}") if warning else done


def late_warning(
    lang: str, when: dt.datetime, ends_at: dt.datetime, purge_on: dt.date
) -> Html | None:
    """For a broadcast scheduled at `when`: None within the campaign; after it (which ends at
    `ends_at`), that only those who chose what comes next get it; on or after the day
    supporters' data is deleted (`purge_on`), that nobody will be left."""
    if when.astimezone(ends_at.tzinfo).date() >= purge_on:
        return text(lang, "broadcast.after_purge", purge=date_label(lang, purge_on, True))
    if when >= ends_at:
        last_day = (ends_at - dt.timedelta(days=1)).date()
        return text(lang, "broadcast.after_campaign", end=date_label(lang, last_day, True))
    return None


def stop_button(language: str, broadcast_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label(language, "broadcast.stop_button", id=broadcast_id),
        callback_data=f"{STOP_PREFIX}{broadcast_id}",
    )


def stop_keyboard(language: str, broadcast_id: int) -> InlineKeyboardMarkup:
    return Keyboard([[stop_button(language, broadcast_id)]])


# --- what is scheduled or sending ----------------------------------------------------------------


def open_line(
    lang: str,
    broadcast: dict[str, Any],
    done: int,
    known: dict[str, str],
    zone: ZoneInfo,
    events: Mapping[int, LobbyEvent] | None = None,
) -> Html:
    """One broadcast in /broadcast list: how far it got or when it goes, who, and its words.
    One still preparing has no figures yet: its total is only those written so far."""
    values = {
        "id": broadcast["id"],
        "audience": describe(lang, Audience.from_dict(broadcast["audience"]), known, events),
        "preview": plain_words(broadcast["texts"][DEFAULT_LANGUAGE], LIST_PREVIEW),
    }
    if broadcast["status"] == PREPARING:
        return text(lang, "broadcast.list_preparing", **values)
    if broadcast["status"] == RUNNING:
        figures = {"done": number(lang, done), "total": number(lang, broadcast["total"])}
        return text(lang, "broadcast.list_running", **figures, **values)
    when = dt.datetime.fromisoformat(broadcast["scheduled_for"]).astimezone(zone)
    return text(lang, "broadcast.list_scheduled", when=local_time(lang, when), **values)


def open_list(
    lang: str,
    broadcasts: Iterable[tuple[dict[str, Any], int]],
    known: dict[str, str],
    zone: ZoneInfo,
    note: Html | None = None,
    events: Mapping[int, LobbyEvent] | None = None,
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """/broadcast list: each (broadcast, how many it has sent to) with a Cancel button, after
    the note, if any."""
    lines = [note] if note else []
    lines.append(text(lang, "broadcast.list_title"))
    stops = []
    for broadcast, done in broadcasts:
        lines.append(open_line(lang, broadcast, done, known, zone, events))
        stops.append([stop_button(lang, broadcast["id"])])
    if not stops:
        lines.append(text(lang, "broadcast.list_empty"))
    return Html("\n\n".join(lines)), Keyboard(stops) if stops else None


# --- progress and report -------------------------------------------------------------------------


def progress_text(language: str, snapshot: ProgressSnapshot) -> Html:
    left = (
        text(language, "broadcast.left_unknown")
        if snapshot.seconds_left is None
        else text(language, "broadcast.left", duration=duration(language, snapshot.seconds_left))
    )
    return text(
        language,
        "broadcast.progress",
        id=snapshot.broadcast_id,
        done=number(language, snapshot.done),
        total=number(language, snapshot.total),
        rate=number(language, snapshot.rate, "#,##0.0"),
        left=left,
        sent=number(language, snapshot.sent),
        blocked=number(language, snapshot.blocked),
        failed=number(language, snapshot.failed),
        unknown=number(language, snapshot.unknown),
        skipped=number(language, snapshot.skipped),
    )


def figures(language: str, report: DeliveryReport, daily_cap: int) -> Html:
    """The final figures. Those skipped at their turn are said by reason: those who had
    unsubscribed, those the daily cap held back (at most `daily_cap` broadcasts a person a
    day), and a line for each other reason (delivery.SKIP_REASONS) that skipped anyone. A run
    that stopped before its recipients were all written sent nothing: that, in one line."""
    if report.total is None:
        return text(language, "broadcast.report_unlisted")
    others = {reason: report.skipped_for.get(reason, 0) for reason in SKIP_REASONS}
    body = text(
        language,
        "broadcast.report_figures",
        sent=number(language, report.sent),
        total=number(language, report.total),
        blocked=number(language, report.blocked),
        failed=number(language, report.failed),
        unknown=number(language, report.unknown),
        skipped=number(language, report.skipped - report.capped - sum(others.values())),
        not_sent=number(language, report.not_sent),
    )
    lines = [body]
    if report.capped:
        lines.append(text(language, "broadcast.report_capped", count=report.capped, cap=daily_cap))
    lines += [
        text(language, f"broadcast.report_skipped_{reason}", count=count)
        for reason, count in others.items()
        if count
    ]
    return Html("\n".join(lines))


def report_text(language: str, report: DeliveryReport, daily_cap: int) -> Html:
    title = text(
        language,
        # Still 'running' means the process stopped it early: the next start carries on.
        REPORT_TITLES.get(report.status, "broadcast.report_interrupted"),
        id=report.broadcast_id,
        duration=duration(language, report.seconds),
    )
    return Html(f"{title}\n{figures(language, report, daily_cap)}")
