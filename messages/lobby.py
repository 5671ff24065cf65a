"""Lobby days: what supporters and organisers read about an event, its keyboards, and the
callback data they carry (handlers/lobby.py matches on the same constants).

Callback data carries ids only (an event's, a story's), never anything a person typed; each
fits Telegram's 64 bytes. Supporters' buttons start `lobby:`, organisers' `lobbyadm:`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.clock import EXAMPLE_FORMAT
from bot.lobby import (
    APPROVED,
    CANCELLED,
    OUTCOMES,
    PENDING,
    REJECTED,
    TEXT_FIELDS,
    Coverage,
    LobbyEvent,
)
from bot.mps import x_post_url
from messages import keyboards
from messages.broadcast import local_time
from messages.core import characters, language_name, zone_name
from messages.core import date as date_label
from messages.i18n import LANGUAGES, Html, join, label, text

PREFIX = "lobby:"
OPEN = "lobby:open"
EVENT = "lobby:event:"  # + event id, as are the next ones
YES = "lobby:yes:"  # + event id + ":" + its revision
CANT_COME = "lobby:cant:"
GUIDE = "lobby:guide:"
UNRSVP = "lobby:unrsvp:"
UNRSVP_YES = "lobby:unrsvpyes:"
REQUEST = "lobby:request:"
CALL = "lobby:call:"
REQUEST_SENT = "lobby:sent:"
STORY = "lobby:story:"
OUTCOME = "lobby:how:"  # + event id + ":" + outcome
SKIP_NAME = "lobby:skip:name"
SKIP_SENTENCE = "lobby:skip:sentence"
LETTER_LANGUAGE = "lobby:letter:"  # + language
NO_STORY = "lobby:nostory"
PUBLISH_YES = "lobby:publish:yes"
PUBLISH_NO = "lobby:publish:no"
UNSIGNED = "lobby:unsigned"

ADMIN = "lobbyadm:"
ADMIN_LIST = "lobbyadm:list"
NEW = "lobbyadm:new"
SHOW = "lobbyadm:show:"  # + event id, as are the next ones
EDIT = "lobbyadm:edit:"
CANCEL = "lobbyadm:cancel:"
CANCEL_YES = "lobbyadm:cancelyes:"
CSV = "lobbyadm:csv:"
STORIES = "lobbyadm:stories:"
APPROVED_STORIES = "lobbyadm:approved:"
APPROVE = "lobbyadm:approve:"  # + story id
REJECT = "lobbyadm:reject:"  # + story id
REJECT_YES = "lobbyadm:rejectyes:"  # + story id: Reject, confirmed
CHANGE = "lobbyadm:change:"  # + a composer field
VERSION = "lobbyadm:version:"  # + language
SKIP = "lobbyadm:skip"
SAVE = "lobbyadm:save"
DISCARD = "lobbyadm:discard"

# The composer's steps: (field, language) with language "" for the fields not translated.
STARTS_AT, HASHTAG, DEADLINE = "starts_at", "hashtag", "rsvp_deadline"
CHANGEABLE = ("title", STARTS_AT, "place", "bring", HASHTAG, DEADLINE)
UNCOVERED_SHOWN = 10  # constituencies with nobody going listed in the dashboard
LIST_SHOWN = 10  # events in /lobby


def column(*buttons: InlineKeyboardButton | None) -> InlineKeyboardMarkup:
    """One button per row, leaving out the Nones."""
    return keyboards.Keyboard([[button] for button in buttons if button])


def menu_button(lang: str) -> InlineKeyboardButton:
    return keyboards.button(lang, "core.menu.button_back", keyboards.MENU)


def with_note(note: str | None, body: str) -> Html:
    """`body` after a note on what just happened (a confirmation, or what went wrong), if any."""
    return Html(f"{note}\n\n{body}" if note else body)


def when(lang: str, moment: dt.datetime, zone: ZoneInfo) -> Html:
    """A moment as the bot's time zone reads it: '26 November 2026, 11:00'."""
    return local_time(lang, moment.astimezone(zone))


def day(lang: str, event: LobbyEvent, zone: ZoneInfo) -> str:
    """The event's date with the year, in `lang`."""
    return date_label(lang, event.local_day(zone), with_year=True)


# --- what supporters see ----------------------------------------------------------------------


def event_details(
    lang: str,
    event: LobbyEvent,
    zone: ZoneInfo,
    now: dt.datetime | None = None,
    going: int | None = None,
) -> Html:
    """Title, time, place, what to bring and the hashtag, in `lang` where organisers wrote it,
    else in English. With `now`, for someone still to decide, the RSVP deadline (or that RSVPs
    have closed); someone already going is not asked to say whether they are coming."""
    lines = [
        text(
            lang,
            "lobby.event",
            title=event.text("title", lang),
            when=when(lang, event.starts_at, zone),
            place=event.text("place", lang),
        )
    ]
    bring = event.text("bring", lang)
    if bring:
        lines.append(text(lang, "lobby.event_bring", bring=bring))
    lines.append(text(lang, "lobby.event_hashtag", hashtag=event.hashtag))
    if now is not None:
        deadline = when(lang, event.rsvp_deadline, zone)
        key = "lobby.rsvp_by" if event.rsvp_open(now) else "lobby.rsvp_closed"
        lines.append(text(lang, key, deadline=deadline))
    if going is not None:
        lines.append(text(lang, "lobby.going_so_far", count=going))
    return Html("\n".join(lines))


def invitation(lang: str, event: LobbyEvent, zone: ZoneInfo, now: dt.datetime, going: int) -> Html:
    """The event and a few lines about what a lobby day is, for someone not (yet) going."""
    details = event_details(lang, event, zone, now, going)
    return Html(f"{details}\n\n{text(lang, 'lobby.about')}")


def yes_data(event: LobbyEvent) -> str:
    """ "I'll be there" for the event as it is now (its revision): also "Try again" after a
    postcode that found no MP, so the RSVP asks for another one."""
    return f"{YES}{event.id}:{event.revision}"


def going_button(lang: str, event: LobbyEvent) -> InlineKeyboardButton:
    """ "I'll be there", for this version of the event (a change makes an old one stale)."""
    return keyboards.button(lang, "lobby.going_button", yes_data(event))


def invitation_keyboard(lang: str, event: LobbyEvent, now: dt.datetime) -> InlineKeyboardMarkup:
    yes = going_button(lang, event) if event.rsvp_open(now) else None
    return column(
        yes,
        keyboards.button(lang, "lobby.cant_come_button", f"{CANT_COME}{event.id}"),
        keyboards.button(lang, "lobby.guide_button", f"{GUIDE}{event.id}"),
        menu_button(lang),
    )


def going(lang: str, rsvp: Mapping[str, Any]) -> Html:
    """Who a supporter going will meet, and for which constituency."""
    return text(
        lang,
        "lobby.going_view",
        mp_name=rsvp["mp_name"],
        constituency=rsvp["constituency_name"],
    )


def going_view(lang: str, event: LobbyEvent, zone: ZoneInfo, rsvp: Mapping[str, Any]) -> Html:
    """The event as someone going sees it."""
    return Html(f"{going(lang, rsvp)}\n\n{event_details(lang, event, zone)}")


def going_keyboard(lang: str, event: LobbyEvent) -> InlineKeyboardMarkup:
    """What someone going can do next: ask for a meeting, call, read the guide, or cancel."""
    return column(
        keyboards.button(lang, "lobby.request_button", f"{REQUEST}{event.id}"),
        keyboards.button(lang, "lobby.call_button", f"{CALL}{event.id}"),
        keyboards.button(lang, "lobby.guide_button", f"{GUIDE}{event.id}"),
        keyboards.button(lang, "lobby.cancel_rsvp_button", f"{UNRSVP}{event.id}"),
        menu_button(lang),
    )


def rsvp_done(
    lang: str, rsvp: Mapping[str, Any], others_going: int, reminders: bool, asked_after: bool
) -> Html:
    """The yes confirmed, who they'll meet, whether anyone from their constituency is going
    already, what to do next, whether reminders will come, and (`asked_after` False) that
    "How did it go?" will not, as it falls after the campaign without a yes to what comes
    next."""
    constituency = rsvp["constituency_name"]
    company = (
        text(lang, "lobby.company_some", constituency=constituency, count=others_going)
        if others_going
        else text(lang, "lobby.company_first", constituency=constituency)
    )
    parts = [
        text(lang, "lobby.rsvp_done", mp_name=rsvp["mp_name"], constituency=constituency),
        company,
        text(lang, "lobby.next_steps"),
        text(lang, "lobby.reminders_on" if reminders else "lobby.reminders_off"),
    ]
    if not asked_after:
        parts.append(text(lang, "lobby.outcome_needs_whats_next"))
    return Html("\n\n".join(parts))


def choose_event(
    lang: str, events: Sequence[LobbyEvent], zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup]:
    """Several lobby days coming up: one button each."""
    buttons = [
        InlineKeyboardButton(
            f"{event.text('title', lang)} · {day(lang, event, zone)}",
            callback_data=f"{EVENT}{event.id}",
        )
        for event in events
    ]
    return text(lang, "lobby.choose_event"), column(*buttons, menu_button(lang))


def no_events_keyboard(lang: str) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.write_mp_button", keyboards.journey_data("mp")),
        menu_button(lang),
    )


def post_url(lang: str, event: LobbyEvent) -> str:
    """An X post with the event's hashtag, for someone whose MP the bot doesn't know."""
    return x_post_url(text(lang, "lobby.post_text"), [event.hashtag])


def cant_come(lang: str, event: LobbyEvent, zone: ZoneInfo) -> Html:
    """The email-or-post offer for someone who can't come."""
    return text(lang, "lobby.cant_come", date=day(lang, event, zone), hashtag=event.hashtag)


def confirm_unrsvp(lang: str, event: LobbyEvent, zone: ZoneInfo) -> Html:
    """ "Cancel my RSVP" asks first: a mistaken tap would drop their place and reminders."""
    return text(
        lang, "lobby.confirm_unrsvp", title=event.text("title", lang), date=day(lang, event, zone)
    )


def confirm_unrsvp_keyboard(lang: str, event: LobbyEvent) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.confirm_unrsvp_button", f"{UNRSVP_YES}{event.id}"),
        keyboards.button(lang, "lobby.keep_rsvp_button", f"{EVENT}{event.id}"),
    )


def rsvp_cancelled(lang: str, event: LobbyEvent, zone: ZoneInfo) -> Html:
    """The RSVP withdrawn, and the email-or-post offer instead."""
    return with_note(text(lang, "lobby.rsvp_cancelled"), cant_come(lang, event, zone))


def outcome_thanks(lang: str) -> Html:
    """Thanks for the answer, and the offer of a story for the live blog."""
    return with_note(text(lang, "lobby.outcome_thanks"), text(lang, "lobby.offer_story"))


def fallback_keyboard(lang: str, event: LobbyEvent) -> InlineKeyboardMarkup:
    """Email (through the MP journey) or post to the MP with the event's hashtag."""
    return column(
        keyboards.button(lang, "lobby.write_mp_button", keyboards.journey_data("mp")),
        InlineKeyboardButton(
            label(lang, "lobby.post_button", hashtag=event.hashtag), url=post_url(lang, event)
        ),
        menu_button(lang),
    )


def guide_keyboard(lang: str, event: LobbyEvent) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.details_button", f"{EVENT}{event.id}"), menu_button(lang)
    )


def request_intro(lang: str, mp_name: str, constituency: str) -> Html:
    """The meeting request begins: what it is, then how to sign it (the MP letter's question)."""
    unsigned = text(lang, "mp.anonymous_signature", constituency=constituency)
    ask = text(lang, "mp.ask_name", anonymous=unsigned)
    return with_note(text(lang, "lobby.request_intro", mp_name=mp_name), ask)


def call(
    lang: str, event: LobbyEvent, zone: ZoneInfo, rsvp: Mapping[str, Any], phone: str | None
) -> Html:
    """The office's number, where the Members API lists one, and what to say."""
    if not phone:
        return text(lang, "lobby.call_no_phone", mp_name=rsvp["mp_name"])
    return text(
        lang,
        "lobby.call",
        mp_name=rsvp["mp_name"],
        phone=phone,
        constituency=rsvp["constituency_name"],
        date=day(lang, event, zone),
    )


def reminder(lang: str, key: str, event: LobbyEvent, zone: ZoneInfo) -> Html:
    """The reminder the evening before or on the morning, with the day's details (one text
    for everyone going: their MP is one tap away, under "The day's details")."""
    heading = text(lang, key, title=event.text("title", lang))
    return Html(f"{heading}\n\n{event_details(lang, event, zone)}")


def reminder_keyboard(lang: str, event: LobbyEvent) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.details_button", f"{EVENT}{event.id}"),
        keyboards.button(lang, "lobby.guide_button", f"{GUIDE}{event.id}"),
        keyboards.button(lang, "lobby.cancel_rsvp_button", f"{UNRSVP}{event.id}"),
    )


def event_changed(lang: str, event: LobbyEvent, zone: ZoneInfo) -> Html:
    """The news to everyone going that the date, time or place changed: the day as it is now."""
    heading = text(lang, "lobby.event_changed", title=event.text("title", lang))
    return Html(f"{heading}\n\n{event_details(lang, event, zone)}")


def changed_keyboard(lang: str, event: LobbyEvent) -> InlineKeyboardMarkup:
    """After a change: the day's details (with their MP), or cancel if they can't come now."""
    return column(
        keyboards.button(lang, "lobby.details_button", f"{EVENT}{event.id}"),
        keyboards.button(lang, "lobby.cancel_rsvp_button", f"{UNRSVP}{event.id}"),
        menu_button(lang),
    )


def event_cancelled(lang: str, event: LobbyEvent, zone: ZoneInfo) -> Html:
    return text(
        lang, "lobby.event_cancelled", title=event.text("title", lang), date=day(lang, event, zone)
    )


def fallback(lang: str, event: LobbyEvent) -> Html:
    """The message on the day to everyone not going (a broadcast: Telegram HTML by language)."""
    return text(lang, "lobby.fallback", title=event.text("title", lang), hashtag=event.hashtag)


def ask_outcome(lang: str, event: LobbyEvent) -> Html:
    """The question after the event, to everyone who said yes."""
    return text(lang, "lobby.ask_outcome", title=event.text("title", lang))


def outcome_keyboard(lang: str, event_id: int) -> InlineKeyboardMarkup:
    return column(
        *(
            keyboards.button(lang, f"lobby.outcome_{outcome}", f"{OUTCOME}{event_id}:{outcome}")
            for outcome in OUTCOMES
        )
    )


def story_offer_keyboard(lang: str, event_id: int) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.story_button", f"{STORY}{event_id}"),
        keyboards.button(lang, "lobby.no_story_button", NO_STORY),
    )


def permission_keyboard(lang: str) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.publish_yes_button", PUBLISH_YES),
        keyboards.button(lang, "lobby.publish_no_button", PUBLISH_NO),
    )


def unsigned_keyboard(lang: str) -> InlineKeyboardMarkup:
    return column(keyboards.button(lang, "lobby.unsigned_button", UNSIGNED))


# --- organisers: the list and one event -------------------------------------------------------


def status_label(lang: str, event: LobbyEvent, now: dt.datetime) -> Html:
    """Open, over or cancelled, in words."""
    if event.status != "open":
        return text(lang, "lobby.status_cancelled")
    return text(lang, "lobby.status_over" if event.is_over(now) else "lobby.status_open")


def admin_list(
    lang: str,
    events: Sequence[tuple[LobbyEvent, int]],
    zone: ZoneInfo,
    now: dt.datetime,
    note: Html | None = None,
) -> tuple[Html, InlineKeyboardMarkup]:
    """/lobby: each (event, supporters going), newest first, with a button to open it."""
    lines = [note] if note else []
    lines.append(text(lang, "lobby.admin_title"))
    if not events:
        lines.append(text(lang, "lobby.admin_empty"))
    buttons = [keyboards.button(lang, "lobby.new_button", NEW)]
    for event, count in events[:LIST_SHOWN]:
        title, starts = event.text("title", lang), when(lang, event.starts_at, zone)
        if event.status == CANCELLED:  # nobody is going to a cancelled day
            lines.append(text(lang, "lobby.admin_line_cancelled", title=title, when=starts))
            continue
        lines.append(
            text(
                lang,
                "lobby.admin_line",
                title=title,
                when=starts,
                status=status_label(lang, event, now),
                going=count,
            )
        )
        buttons.append(
            InlineKeyboardButton(event.text("title", lang), callback_data=f"{SHOW}{event.id}")
        )
    return Html("\n".join(lines)), column(*buttons)


def dashboard(
    lang: str, event: LobbyEvent, zone: ZoneInfo, now: dt.datetime, coverage: Coverage
) -> Html:
    """Everything organisers plan the day with: who is going (counts, no names), the MPs they
    will meet by party, where nobody is going yet, how it went and the stories waiting."""
    heading = text(
        lang,
        "lobby.dashboard",
        title=event.text("title", lang),
        when=when(lang, event.starts_at, zone),
        place=event.text("place", lang),
        hashtag=event.hashtag,
        deadline=when(lang, event.rsvp_deadline, zone),
        status=status_label(lang, event, now),
    )
    if event.status == CANCELLED:  # who had said yes; no one is going, nowhere to recruit
        parts = [heading, text(lang, "lobby.dashboard_was_going", going=coverage.going)]
    else:
        parts = [heading, _going(lang, coverage), _uncovered(lang, coverage)]
    if coverage.asked:
        parts.append(_outcomes(lang, coverage))
    parts.append(
        text(
            lang,
            "lobby.stories_line",
            pending=coverage.stories.get(PENDING, 0),
            approved=coverage.stories.get(APPROVED, 0),
            rejected=coverage.stories.get(REJECTED, 0),
        )
    )
    return Html("\n\n".join(parts))


def _going(lang: str, coverage: Coverage) -> Html:
    """Who is going, the meeting requests they sent, and the MPs they will meet by party."""
    by_party = [
        text(lang, "lobby.party_line", party=party or text(lang, "lobby.no_party"), count=count)
        for party, count in sorted(coverage.mps_by_party.items(), key=lambda item: -item[1])
    ]
    return Html(
        text(
            lang,
            "lobby.dashboard_going",
            going=coverage.going,
            cancelled=coverage.cancelled,
            requests=coverage.requests,
            mps=coverage.mps_covered,
            by_party=Html("\n".join(by_party)),
        ).rstrip()
    )


def _uncovered(lang: str, coverage: Coverage) -> Html:
    """Where supporters live but nobody is going yet; with nobody going and no constituency
    known (it is learnt from a letter to an MP or a yes), that there is nothing to compare."""
    uncovered = coverage.uncovered
    if not uncovered:
        key = "lobby.uncovered_none" if coverage.going else "lobby.uncovered_unknown"
        return text(lang, key)
    lines = [text(lang, "lobby.uncovered_title")]
    lines += [
        text(lang, "lobby.uncovered_line", name=name, count=count)
        for _, name, count in uncovered[:UNCOVERED_SHOWN]
    ]
    if len(uncovered) > UNCOVERED_SHOWN:
        lines.append(text(lang, "lobby.uncovered_more", count=len(uncovered) - UNCOVERED_SHOWN))
    return Html("\n".join(lines))


def _outcomes(lang: str, coverage: Coverage) -> Html:
    answered = sum(coverage.outcomes.values())
    lines = [text(lang, "lobby.outcomes_title", answered=answered, asked=coverage.asked)]
    lines += [
        text(
            lang,
            "lobby.outcome_line",
            outcome=text(lang, f"lobby.label_{outcome}"),
            count=coverage.outcomes.get(outcome, 0),
        )
        for outcome in OUTCOMES
    ]
    return Html("\n".join(lines))


def dashboard_keyboard(
    lang: str, event: LobbyEvent, now: dt.datetime, pending_stories: int
) -> InlineKeyboardMarkup:
    changeable = event.status == "open" and not event.is_over(now)
    return column(
        keyboards.button(lang, "lobby.edit_button", f"{EDIT}{event.id}") if changeable else None,
        keyboards.button(lang, "lobby.csv_button", f"{CSV}{event.id}"),
        InlineKeyboardButton(
            label(lang, "lobby.stories_button", count=pending_stories),
            callback_data=f"{STORIES}{event.id}",
        ),
        keyboards.button(lang, "lobby.approved_list_button", f"{APPROVED_STORIES}{event.id}"),
        keyboards.button(lang, "lobby.cancel_event_button", f"{CANCEL}{event.id}")
        if changeable
        else None,
        keyboards.button(lang, "lobby.back_to_list_button", ADMIN_LIST),
    )


def back_to_event_keyboard(lang: str, event_id: int) -> InlineKeyboardMarkup:
    return column(keyboards.button(lang, "lobby.back_to_event_button", f"{SHOW}{event_id}"))


def confirm_cancel_keyboard(lang: str, event_id: int) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.confirm_cancel_button", f"{CANCEL_YES}{event_id}"),
        keyboards.button(lang, "lobby.keep_button", f"{SHOW}{event_id}"),
    )


# --- organisers: composing an event -----------------------------------------------------------


def example_time(now: dt.datetime) -> str:
    """A week from now at 10:00, as a time to type."""
    return (now + dt.timedelta(days=7)).replace(hour=10, minute=0).strftime(EXAMPLE_FORMAT)


def ask_step(
    lang: str, field: str, code: str, limits: Mapping[str, int], now: dt.datetime, zone: str
) -> Html:
    """The question for one composer step: (field, language), language "" if untranslated;
    `zone` is the IANA name the bot reads times in."""
    if field == STARTS_AT:
        example = example_time(now)
        return text(lang, "lobby.ask_starts_at", zone=zone_name(lang, zone), example=example)
    if field == DEADLINE:
        return text(lang, "lobby.ask_deadline", example=example_time(now))
    if field == HASHTAG:
        return text(lang, "lobby.ask_hashtag")
    if code != "en":
        return text(
            lang,
            "lobby.ask_translation",
            field=text(lang, f"lobby.field_{field}"),
            language_name=language_name(lang, code),
            limit=characters(lang, limits[field]),
        )
    return text(lang, f"lobby.ask_{field}", limit=characters(lang, limits[field]))


def step_keyboard(lang: str, skippable: bool) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.skip_button", SKIP) if skippable else None,
        keyboards.button(lang, "lobby.discard_button", DISCARD),
    )


def versions(lang: str, texts: Mapping[str, Mapping[str, str]]) -> Html:
    """For Portuguese and Spanish, which texts organisers gave and which fall back to English."""
    lines = []
    for code in LANGUAGES[1:]:
        given = [field for field in TEXT_FIELDS if texts[field].get(code)]
        wanted = [field for field in TEXT_FIELDS if texts[field].get("en")]
        name = language_name(lang, code)
        if not given:
            lines.append(text(lang, "lobby.version_none", language_name=name))
        elif set(given) >= set(wanted):
            lines.append(text(lang, "lobby.version_full", language_name=name))
        else:
            fields = join(lang, (text(lang, f"lobby.field_{field}") for field in given))
            lines.append(text(lang, "lobby.version_partial", language_name=name, fields=fields))
    return Html("\n".join(lines))


def review(lang: str, event: LobbyEvent, zone: ZoneInfo, now: dt.datetime) -> Html:
    """The event as supporters in the organiser's language will see it, and which languages
    have their own texts."""
    texts = {field: getattr(event, field) for field in TEXT_FIELDS}
    return text(
        lang,
        "lobby.review",
        preview=event_details(lang, event, zone, now),
        versions=versions(lang, texts),
    )


def review_keyboard(lang: str) -> InlineKeyboardMarkup:
    changes = [
        keyboards.button(lang, f"lobby.change_{field}_button", f"{CHANGE}{field}")
        for field in CHANGEABLE
    ]
    version_buttons = [
        InlineKeyboardButton(
            label(lang, "lobby.version_button", language_name=language_name(lang, code)),
            callback_data=f"{VERSION}{code}",
        )
        for code in LANGUAGES[1:]
    ]
    return keyboards.Keyboard(
        [
            *keyboards.rows(*changes),
            version_buttons,
            [
                keyboards.button(lang, "lobby.save_button", SAVE),
                keyboards.button(lang, "lobby.discard_button", DISCARD),
            ],
        ]
    )


# --- organisers: stories for the live blog ----------------------------------------------------


def story_view(lang: str, story: Mapping[str, Any], event: LobbyEvent, pending: int) -> Html:
    """One story waiting for moderation, with the MP it is about (not its author)."""
    return text(
        lang,
        "lobby.story_view",
        id=story["id"],
        title=event.text("title", lang),
        mp_name=story["mp_name"] or "—",
        signature=story["signature"] or text(lang, "lobby.unsigned"),
        story=story["body"],
        pending=pending,
    )


def story_keyboard(lang: str, story_id: int, event_id: int) -> InlineKeyboardMarkup:
    return column(
        keyboards.button(lang, "lobby.approve_button", f"{APPROVE}{story_id}"),
        keyboards.button(lang, "lobby.reject_button", f"{REJECT}{story_id}"),
        keyboards.button(lang, "lobby.back_to_event_button", f"{SHOW}{event_id}"),
    )


def confirm_reject_keyboard(lang: str, story_id: int, event_id: int) -> InlineKeyboardMarkup:
    """Reject, confirmed, or back to the stories waiting."""
    return column(
        keyboards.button(lang, "lobby.confirm_reject_button", f"{REJECT_YES}{story_id}"),
        keyboards.button(lang, "lobby.keep_story_button", f"{STORIES}{event_id}"),
    )


def approved_stories(
    lang: str, event: LobbyEvent, stories: Iterable[Mapping[str, Any]]
) -> list[Html]:
    """The approved stories, ready to paste into the blog, in as few messages as Telegram's
    length limit allows."""
    items = [
        text(
            lang,
            "lobby.approved_item",
            story=story["body"],
            signature=story["signature"] or text(lang, "lobby.unsigned"),
            mp_name=story["mp_name"] or "—",
        )
        for story in stories
    ]
    if not items:
        return [text(lang, "lobby.approved_none")]
    messages = [text(lang, "lobby.approved_title", title=event.text("title", lang))]
    for item in items:
        if len(messages[-1]) + len(item) + 2 > MessageLimit.MAX_TEXT_LENGTH:
            messages.append(Html(""))
        messages[-1] = Html(f"{messages[-1]}\n\n{item}".strip())
    return messages
