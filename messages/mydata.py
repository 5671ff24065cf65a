"""/mydata: everything kept about a person (`Storage.personal_data`), as a page in their language.

Every table that holds rows about a person has a section here, and every user_data key a journey
keeps has a line; a key nobody taught this page still shows, as "something else you started".
Times are shown in the campaign's time zone. Long pages are split by `reply`, like any message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bot import delivery, lobby, mps
from bot.campaign import DEFAULT_LANGUAGE, LANGUAGES
from bot.consent import SUBJECTS
from messages.consent import name as consent_name
from messages.core import date
from messages.i18n import Html, catalog, text

Row = Mapping[str, Any]
# user_data keys (set in handlers/) and how long an unfinished draft is kept (housekeeping).
MP_LETTER, MP_HANDED_OVER = "mp_letter", "mp_handed_over"
SOLIDARITY_DRAFT, BROADCAST_DRAFT = "solidarity_draft", "broadcast_draft"
LOBBY_DRAFT, LOBBY_COMPOSER = "lobby_draft", "lobby_composer"
PENDING_JOURNEY, DRAFT_STAMP = "pending_journey", "draft_at"
ASK_AGAIN, SCREEN = "ask_choices_again", "screen"
DRAFT_KEPT_FOR = dt.timedelta(days=1)
CONVERSATIONS = ("mp", "solidarity", "broadcast", "lobby", "lobby_composer")


def when(lang: str, stamped: str, zone: ZoneInfo) -> str:
    """'3 December 2026, 14:02' in the campaign's time zone, from a stored UTC stamp."""
    moment = dt.datetime.fromisoformat(stamped).astimezone(zone)
    return text(lang, "mydata.when", date=date(lang, moment.date(), True), time=f"{moment:%H:%M}")


def dated(lang: str, key: str, stamped: str, zone: ZoneInfo, **values: object) -> Html:
    """The line `key` with `values` and `when`: the stored UTC stamp, as `when` shows it."""
    return text(lang, key, when=when(lang, stamped, zone), **values)


def taught(lang: str, key: str, fallback: str) -> str:
    """`key`, or `fallback` for a kind this page was never taught (a new kind of action or
    message still shows, in the person's language)."""
    return key if key in catalog(lang) else fallback


def label(lang: str, key: str, fallback: str) -> Html:
    """The words for `key`, or `fallback`'s (`taught`)."""
    return text(lang, taught(lang, key, fallback))


def day(lang: str, stamped: str, zone: ZoneInfo) -> str:
    return date(lang, dt.datetime.fromisoformat(stamped).astimezone(zone).date(), True)


def page(lang: str, data: Mapping[str, list[Row]], zone: ZoneInfo) -> Html:
    """The whole page; the empty page when nothing is kept."""
    if not data:
        return text(lang, "mydata.empty")
    sections: dict[str, list[str]] = {}
    for table, (area, lines) in SECTIONS.items():
        if data.get(table):
            sections.setdefault(area, []).extend(lines(lang, data[table], zone))
    blocks = [
        "\n".join([text(lang, f"mydata.{area}.title"), *lines]) for area, lines in sections.items()
    ]
    return Html("\n\n".join([text(lang, "mydata.title"), *blocks, text(lang, "mydata.footer")]))


def you(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    (row,) = rows
    lines = [
        text(lang, "mydata.you.telegram_id", id=row["user_id"]),
        text(lang, "mydata.you.since", when=when(lang, row["created_at"], zone)),
        text(lang, "mydata.you.language", name=language_name(row["language"]))
        if row["language"] in LANGUAGES
        else "",
    ]
    source = row["referral_source"]
    if source:
        shown = (
            text(lang, "mydata.you.source_referral", code=source.removeprefix("ref-"))
            if source.startswith("ref-")
            else text(lang, "mydata.you.source_link", payload=source)
        )
        lines.append(text(lang, "mydata.you.came_through", source=shown))
    lines.append(text(lang, "mydata.you.referral_code", code=row["referral_code"]))
    if row["constituency_name"]:
        lines.append(text(lang, "mydata.you.constituency", constituency=row["constituency_name"]))
    if row["blocked_at"]:
        lines.append(text(lang, "mydata.you.blocked", when=when(lang, row["blocked_at"], zone)))
    if row["stopped_at"]:
        lines.append(text(lang, "mydata.you.stopped", when=when(lang, row["stopped_at"], zone)))
    return [line for line in lines if line]


def language_name(code: str) -> str:
    """A language's name in itself ('Português')."""
    return catalog(code)["core.language.name"]


def organiser_language(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    """An organiser without a supporter row: the language they chose for their commands."""
    (row,) = rows
    if row["language"] not in LANGUAGES:
        return []
    return [text(lang, "mydata.you.organiser_language", name=language_name(row["language"]))]


def choices(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    lines = [
        text(
            lang,
            "mydata.choices.item",
            when=when(lang, row["at"], zone),
            name=consent_name(lang, row["subject"]) if row["subject"] in SUBJECTS else "",
            answer=text(lang, "mydata.choices.yes" if row["granted"] else "mydata.choices.no"),
            version=row["wording_version"],
        )
        for row in rows
    ]
    return lines


def actions(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    lines = []
    for row in rows:
        action = label(lang, f"mydata.actions.{row['kind']}", "mydata.actions.unknown_kind")
        stamped = when(lang, row["at"], zone)
        if row["constituency_name"]:
            lines.append(
                text(
                    lang,
                    "mydata.actions.item_in",
                    when=stamped,
                    action=action,
                    constituency=row["constituency_name"],
                )
            )
        else:
            lines.append(text(lang, "mydata.actions.item", when=stamped, action=action))
    return lines


def followups(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    """Each letter's "Did your MP reply?" as it really stands (`bot.mps.followup_stage`): asked
    only once it was sent, and why not when it was not."""
    lines = []
    for row in rows:
        stage = row["stage"]
        values = {"sent": day(lang, row["sent_at"], zone), "due": day(lang, row["due_at"], zone)}
        if stage == mps.ANSWERED:
            values["answered"] = day(lang, row["answered_at"], zone)
            values["outcome"] = text(lang, f"mp.followup_{row['outcome']}")
        elif stage in (mps.ASKED, mps.UNSURE):
            values["asked"] = day(lang, row["delivered_at"] or row["asked_at"], zone)
        key = f"mydata.followups.{stage}"
        if row["why"]:  # not asked, for a reason with words of its own
            key = taught(lang, f"{key}_{row['why']}", key)
        lines.append(text(lang, key, **values))
    return lines


def solidarity(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    lines = []
    for row in rows:
        signed = (
            text(lang, "mydata.solidarity.signed", signature=row["signature"])
            if row["signature"]
            else text(lang, "mydata.solidarity.unsigned")
        )
        status = text(lang, f"mydata.solidarity.{row['status']}")
        stamped = when(lang, row["created_at"], zone)
        lines.append(
            text(
                lang,
                "mydata.solidarity.item",
                when=stamped,
                body=row["body"],
                signed=signed,
                status=status,
            )
        )
    return lines


def event_title(lang: str, row: Row) -> str:
    """The lobby day's title in `lang`, else in English, as supporters saw it announced."""
    titles = row["event_title"]
    return titles.get(lang) or titles[DEFAULT_LANGUAGE]


def lobby_rsvps(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    lines = []
    for row in rows:
        key = "mydata.lobby.going" if row["status"] == "yes" else "mydata.lobby.cancelled"
        lines.append(
            dated(
                lang,
                key,
                row["updated_at"] or row["created_at"],
                zone,
                title=event_title(lang, row),
                mp=row["mp_name"],
                constituency=row["constituency_name"],
            )
        )
        if row["event_status"] == lobby.CANCELLED:
            lines.append(text(lang, "mydata.lobby.event_cancelled"))
        if row["outcome"]:
            outcome = text(lang, f"lobby.outcome_{row['outcome']}")
            lines.append(text(lang, "mydata.lobby.outcome", outcome=outcome))
    return lines


def lobby_stories(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    return [
        dated(
            lang,
            "mydata.lobby.story",
            row["created_at"],
            zone,
            title=event_title(lang, row),
            body=row["body"],
            status=text(lang, f"mydata.lobby.story_{row['status']}"),
        )
        for row in rows
    ]


def deliveries(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    lines = []
    for row in rows:
        kind = label(lang, f"mydata.deliveries.{row['kind']}", "mydata.deliveries.unknown_kind")
        key = f"mydata.deliveries.{row['status']}"
        waiting = row["status"] in (delivery.PENDING, delivery.SENDING)
        if waiting and row["broadcast_status"] == delivery.CANCELLED:
            status = text(lang, "mydata.deliveries.cancelled")  # it will never come
        elif row["status"] == delivery.SKIPPED and row["error"]:
            # Why it was skipped, where the reason has words of its own (bot.delivery).
            status = label(lang, f"{key}_{row['error']}", key)
        else:
            status = text(lang, key)
        stamped = row["updated_at"]
        lines.append(dated(lang, "mydata.deliveries.item", stamped, zone, kind=kind, status=status))
    return lines


def chat(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    stamps = sorted(row["at"] for row in rows)
    kept = text(
        lang,
        "mydata.chat.kept",
        count=len(rows),
        first=when(lang, stamps[0], zone),
        last=when(lang, stamps[-1], zone),
    )
    return [kept]


def conversations(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    lines = [
        text(lang, f"mydata.unfinished.in_{row['name']}")
        if row["name"] in CONVERSATIONS
        else text(lang, "mydata.unfinished.in_other")
        for row in rows
    ]
    return lines


def user_data(lang: str, rows: list[Row], zone: ZoneInfo) -> list[str]:
    """What journeys keep between messages: drafts, a letter handed over, where to go next."""
    (row,) = rows
    kept: dict[str, Any] = json.loads(row["data"])
    stamped = kept.pop(DRAFT_STAMP, None)
    lines = []
    for key, value in kept.items():
        lines += _kept(lang, key, value)
    if stamped:
        until = dt.datetime.fromisoformat(stamped) + DRAFT_KEPT_FOR
        lines.append(
            text(lang, "mydata.unfinished.kept_until", when=when(lang, until.isoformat(), zone))
        )
    return lines


def _kept(lang: str, key: str, value: Any) -> list[str]:
    if key == MP_LETTER:
        mp = value["mp"]
        lines = [
            text(
                lang,
                "mydata.unfinished.mp_letter",
                mp=mp["name"],
                constituency=mp["constituency_name"],
            )
        ]
        if value.get("signature"):
            lines.append(text(lang, "mydata.unfinished.signature", signature=value["signature"]))
        if value.get("sentence"):
            lines.append(text(lang, "mydata.unfinished.sentence", sentence=value["sentence"]))
        return lines
    if key == SOLIDARITY_DRAFT:
        return [text(lang, "mydata.unfinished.solidarity_draft", body=value["body"])]
    if key == BROADCAST_DRAFT:
        return [text(lang, "mydata.unfinished.broadcast_draft")]
    if key == LOBBY_DRAFT and "story" in value:
        return [text(lang, "mydata.unfinished.lobby_story", story=value["story"])]
    if key == LOBBY_DRAFT:
        return []  # only which lobby day: the part-way line above says it
    if key == LOBBY_COMPOSER:
        return [text(lang, "mydata.unfinished.lobby_composer")]
    if key == MP_HANDED_OVER:
        return [text(lang, "mydata.unfinished.mp_handed_over", constituency=value)]
    if key == ASK_AGAIN:
        return [text(lang, "mydata.unfinished.ask_choices_again")]
    if key == SCREEN:
        return [text(lang, "mydata.unfinished.screen")]
    if key == PENDING_JOURNEY:
        journey = f"core.menu.action_{value}"
        shown = text(lang, journey) if journey in catalog(lang) else value
        return [text(lang, "mydata.unfinished.pending_journey", journey=shown)]
    return [text(lang, "mydata.unfinished.something_else")]


# Each table Storage.personal_data reads, in the order the page shows them, with its section.
SECTIONS: dict[str, tuple[str, Callable[[str, list[Row], ZoneInfo], list[str]]]] = {
    "supporters": ("you", you),
    "organiser_languages": ("you", organiser_language),
    "consents": ("choices", choices),
    "actions": ("actions", actions),
    "mp_followups": ("followups", followups),
    "solidarity_messages": ("solidarity", solidarity),
    "lobby_rsvps": ("lobby", lobby_rsvps),
    "lobby_stories": ("lobby", lobby_stories),
    "deliveries": ("deliveries", deliveries),
    "chat_messages": ("chat", chat),
    "conversations": ("unfinished", conversations),
    "user_data": ("unfinished", user_data),
}
