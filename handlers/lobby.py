"""Lobby days. Supporters (menu, or the deep link `t.me/<bot>?start=lobby`): the day in a few
lines, "I'll be there" with their postcode (it finds their MP and is dropped, as in the MP
journey), the guide, the call to their MP's office, "I can't come", cancelling, and afterwards
"How did it go?" with an optional story for the live blog. The meeting request is the MP
letter journey with the lobby's template (handlers/mp.py).

Organisers (/lobby): the list, a composer for a new event or changes to one (English first,
then Portuguese and Spanish versions or the English fallback, said on the review screen), one
event's figures, its CSV, its stories to moderate, and cancelling it (everyone going is told).
Every organiser command and button checks the id at the moment of the update.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import lobby
from bot.app.context import Context
from bot.clock import local_now, parse_when
from bot.consent import FOLLOWUP_KIND, hears_from_campaign
from bot.lobby import LobbyEvent, LobbyInputError
from bot.storage import utcnow
from handlers.common import (
    NEW_OTHER,
    NEW_TEXT,
    POSTCODE_TEXT,
    ButtonHandler,
    Handler,
    Showing,
    answer,
    ending,
    journey,
    language,
    or_typed,
    organiser_only,
    postcode_hint,
    remember,
    reply,
    routes,
    show,
    showing,
    shown,
    user_id,
)
from handlers.exits import asides, back_to_menu, discarding, exits
from handlers.mp import lookup_mp
from messages import LANGUAGES, keyboards, text
from messages import lobby as screens
from messages.core import characters, too_long
from scheduler import lobby as jobs

POSTCODE, STORY, PERMISSION, SIGNATURE = "postcode", "story", "permission", "signature"
# The screen (handlers.common.showing) of a lobby day's invitation, followed by the event's id.
INVITED = "lobby_invitation:"
FIELD, REVIEW = "field", "review"
# user_data keys: the supporter's step in a lobby journey ({"event": id, "story": ...}) and
# the organiser's event being composed (see `new_draft`).
DRAFT = "lobby_draft"
COMPOSER = "lobby_composer"

ID = r"([0-9]{1,12})"
OUTCOME_DATA = re.compile(rf"{screens.OUTCOME}{ID}:({'|'.join(lobby.OUTCOMES)})")
# "I'll be there" names the revision the supporter saw (none on buttons older than revisions).
YES_DATA = re.compile(rf"{screens.YES}{ID}(?::{ID})?")


def zone(context: Context) -> ZoneInfo:
    """The bot's time zone, in which events are typed and shown."""
    return context.bot_data.settings.zone


def id_in(data: str, prefix: str) -> int | None:
    """The id after `prefix` in callback data, None if the data was tampered with (X4)."""
    argument = data.removeprefix(prefix)
    return int(argument) if re.fullmatch(ID, argument) else None


def load_event(context: Context, event_id: int | None) -> LobbyEvent | None:
    """The event with that id, or None (no id, or gone)."""
    row = context.bot_data.storage.get_lobby_event(event_id) if event_id else None
    return LobbyEvent.from_row(row) if row else None


def pressed_event(update: Update, context: Context, prefix: str) -> LobbyEvent | None:
    """The event a supporter's or organiser's button names, if it exists."""
    return load_event(context, id_in(update.callback_query.data, prefix))


def upcoming(context: Context) -> list[LobbyEvent]:
    """Open events still to start, soonest first: what supporters can say yes to."""
    rows = context.bot_data.storage.lobby_events(open_after=utcnow())
    return [LobbyEvent.from_row(row) for row in rows]


# --- supporters: seeing an event ----------------------------------------------------------------


async def open_lobby(update: Update, context: Context) -> None:
    """The menu button and the deep link: the next lobby day, or a choice of several."""
    lang = language(update, context)
    events = upcoming(context)
    if not events:
        await show(update, context, text(lang, "lobby.no_events"), screens.no_events_keyboard(lang))
    elif len(events) == 1:
        await show_event(update, context, events[0])
    else:
        await show(update, context, *screens.choose_event(lang, events, zone(context)))


async def show_event(update: Update, context: Context, event: LobbyEvent) -> None:
    """The event as this supporter stands: going (what next), or invited (the day explained)."""
    lang = language(update, context)
    storage = context.bot_data.storage
    now = utcnow()
    rsvp = storage.get_rsvp(event.id, user_id(update))
    if rsvp and rsvp["status"] == lobby.GOING:
        body = screens.going_view(lang, event, zone(context), rsvp)
        await show(update, context, body, screens.going_keyboard(lang, event))
        return
    going = storage.going_count(event.id)
    body = screens.invitation(lang, event, zone(context), now, going)
    await show(update, context, body, screens.invitation_keyboard(lang, event, now))
    if event.rsvp_open(now):
        showing(update, context, f"{INVITED}{event.id}")


async def postcode_before_yes(update: Update, context: Context) -> None:
    """A postcode typed on a lobby day's invitation: saying yes takes the tap, so it is not
    taken (nor kept), and the button is shown again; if the day is gone, the general hint."""
    event = load_event(context, id_in(shown(context.user_data), INVITED))
    if event is None or not event.rsvp_open(utcnow()):
        await postcode_hint(update, context)
        return
    lang = language(update, context)
    keyboard = screens.column(screens.going_button(lang, event), screens.menu_button(lang))
    await reply(update, context, text(lang, "lobby.postcode_first"), keyboard)


EventHandler = Callable[[Update, Context, LobbyEvent], Awaitable[None]]


async def refuse_closed(update: Update, context: Context, event: LobbyEvent | None) -> bool:
    """A button under an older message about an event gone, cancelled or over: a polite word
    and what is coming up instead; nothing is recorded. Returns whether it was refused."""
    if event is not None and event.status == lobby.OPEN and not event.is_over(utcnow()):
        return False
    key = "lobby.over" if event and event.status == lobby.OPEN else "lobby.stale"
    await answer(update, context, text(language(update, context), key))
    await open_lobby(update, context)
    return True


def supporter_button(prefix: str) -> Callable[[EventHandler], Handler]:
    """A supporter's button on one event: the event, or the list if it is gone, cancelled or
    over."""

    def wrap(callback: EventHandler) -> Handler:
        @functools.wraps(callback)
        async def checked(update: Update, context: Context) -> None:
            event = pressed_event(update, context, prefix)
            if await refuse_closed(update, context, event):
                return
            await callback(update, context, event)

        return checked

    return wrap


@supporter_button(screens.EVENT)
async def view_event(update: Update, context: Context, event: LobbyEvent) -> None:
    """A lobby day chosen from the list, or "the day's details"."""
    await show_event(update, context, event)


@supporter_button(screens.GUIDE)
async def show_guide(update: Update, context: Context, event: LobbyEvent) -> None:
    """The first-timer's guide."""
    lang = language(update, context)
    await show(update, context, text(lang, "lobby.guide"), screens.guide_keyboard(lang, event))


@supporter_button(screens.CANT_COME)
async def cant_come(update: Update, context: Context, event: LobbyEvent) -> None:
    """Email or post to their MP on the day instead, with the event's hashtag."""
    lang = language(update, context)
    body = screens.cant_come(lang, event, zone(context))
    await show(update, context, body, screens.fallback_keyboard(lang, event))


@supporter_button(screens.UNRSVP)
async def confirm_cancel_rsvp(update: Update, context: Context, event: LobbyEvent) -> None:
    """ "Cancel my RSVP": asked to confirm; someone no longer going sees the day instead."""
    rsvp = context.bot_data.storage.get_rsvp(event.id, user_id(update))
    if not rsvp or rsvp["status"] != lobby.GOING:
        await show_event(update, context, event)
        return
    lang = language(update, context)
    body = screens.confirm_unrsvp(lang, event, zone(context))
    await show(update, context, body, screens.confirm_unrsvp_keyboard(lang, event))


@supporter_button(screens.UNRSVP_YES)
async def cancel_rsvp(update: Update, context: Context, event: LobbyEvent) -> None:
    """Withdraw the yes, confirmed, at any time; reminders stop with it."""
    lang = language(update, context)
    context.bot_data.storage.cancel_rsvp(event.id, user_id(update))
    body = screens.rsvp_cancelled(lang, event, zone(context))
    await show(update, context, body, screens.fallback_keyboard(lang, event))


@supporter_button(screens.CALL)
async def call_office(update: Update, context: Context, event: LobbyEvent) -> None:
    """The MP's office phone number, where the Members API lists one, and what to say."""
    lang = language(update, context)
    storage = context.bot_data.storage
    rsvp = storage.get_rsvp(event.id, user_id(update))
    if not rsvp or rsvp["status"] != lobby.GOING:
        await show(update, context, text(lang, "lobby.no_mp"), screens.guide_keyboard(lang, event))
        return
    body = screens.call(lang, event, zone(context), rsvp, lobby.rsvp_mp(storage, rsvp).phone)
    await show(update, context, body, screens.going_keyboard(lang, event))


async def request_sent(update: Update, context: Context) -> None:
    """ "I've sent it" under a meeting request: counted for the organisers."""
    event = pressed_event(update, context, screens.REQUEST_SENT)
    if await refuse_closed(update, context, event):
        return
    lang = language(update, context)
    context.bot_data.storage.record_meeting_request(event.id, user_id(update))
    await show(update, context, text(lang, "lobby.request_thanks"), keyboards.back_to_menu(lang))


# --- supporters: saying yes ---------------------------------------------------------------------


async def ask_postcode(update: Update, context: Context) -> str | int:
    """ "I'll be there": the postcode that finds their MP. RSVPs closed: what is coming up; the
    date, time or place changed since the button was sent: the event as it is now."""
    match = YES_DATA.fullmatch(update.callback_query.data)
    event = load_event(context, int(match.group(1)) if match else None)
    if event is None or not event.rsvp_open(utcnow()):
        await answer(update, context, text(language(update, context), "lobby.stale"))
        await open_lobby(update, context)
        return ConversationHandler.END
    if int(match.group(2) or 0) != event.revision:
        await answer(update, context, text(language(update, context), "lobby.changed_since"))
        await show_event(update, context, event)
        return ConversationHandler.END
    context.user_data[DRAFT] = {"event": event.id}
    return await ask_for_postcode(update, context)


async def ask_for_postcode(update: Update, context: Context) -> str:
    """The postcode that finds their MP, which is not kept."""
    lang = language(update, context)
    await show(update, context, text(lang, "lobby.ask_postcode"), keyboards.back_to_menu(lang))
    return POSTCODE


async def take_postcode(update: Update, context: Context) -> str | int | None:
    """Find the MP, record the yes by constituency, say who else from there is going."""
    draft = context.user_data.get(DRAFT) or {}
    event = load_event(context, draft.get("event"))
    if event is None or not event.rsvp_open(utcnow()):
        context.user_data.pop(DRAFT, None)
        await open_lobby(update, context)
        return ConversationHandler.END
    mp = await lookup_mp(update, context, retry=screens.yes_data(event))
    if mp is None:  # said why; another postcode may follow, or "Try again" asks for one
        return None
    storage = context.bot_data.storage
    uid = user_id(update)
    before = storage.get_rsvp(event.id, uid)
    already_counted = (
        before
        and before["status"] == lobby.GOING
        and before["constituency_code"] == mp.constituency_code
    )
    others = storage.going_count(event.id, mp.constituency_code) - int(bool(already_counted))
    storage.save_rsvp(
        event.id,
        uid,
        constituency=(mp.constituency_code, mp.constituency_name),
        mp={"member_id": mp.member_id, "name": mp.name, "party": mp.party},
    )
    context.user_data.pop(DRAFT, None)
    lang = language(update, context)
    rsvp = storage.get_rsvp(event.id, uid)
    rules = context.bot_data.rules
    reminded = hears_from_campaign(storage, uid, rules, utcnow())
    # "How did it go?" after the campaign needs a yes to what comes next: say so now.
    asked_after = storage.may_receive(
        uid, rules.subject_for(FOLLOWUP_KIND, event.moment(lobby.OUTCOME, zone(context)))
    )
    body = screens.rsvp_done(lang, rsvp, others, reminded, asked_after)
    await reply(update, context, body, screens.going_keyboard(lang, event))
    return ConversationHandler.END


# --- supporters: how did it go ------------------------------------------------------------------


async def answer_outcome(update: Update, context: Context) -> None:
    """One tap on "How did it go?": recorded once, then the offer of a story."""
    lang = language(update, context)
    match = OUTCOME_DATA.fullmatch(update.callback_query.data)
    storage = context.bot_data.storage
    event_id = int(match.group(1)) if match else 0
    if match is None or not storage.record_lobby_outcome(event_id, user_id(update), match[2]):
        rsvp = storage.get_rsvp(event_id, user_id(update))
        answered = rsvp is not None and rsvp["outcome"] is not None
        key = "lobby.outcome_stale" if answered else "lobby.outcome_closed"
        await answer(update, context, text(lang, key))
        return
    await show(
        update, context, screens.outcome_thanks(lang), screens.story_offer_keyboard(lang, event_id)
    )


async def no_story(update: Update, context: Context) -> None:
    """No story: thanks, and the menu."""
    lang = language(update, context)
    await show(update, context, text(lang, "lobby.no_story"), keyboards.back_to_menu(lang))


async def ask_story(update: Update, context: Context) -> str | int:
    """ "Tell my story", for someone who said yes to that event."""
    lang = language(update, context)
    event_id = id_in(update.callback_query.data, screens.STORY)
    rsvp = context.bot_data.storage.get_rsvp(event_id, user_id(update)) if event_id else None
    if rsvp is None:
        await answer(update, context, text(lang, "lobby.stale"))
        return ConversationHandler.END
    context.user_data[DRAFT] = {"event": event_id}
    return await ask_for_story(update, context)


async def ask_for_story(update: Update, context: Context) -> str:
    """The story, and how long it may be."""
    lang = language(update, context)
    limit = characters(lang, lobby.STORY_LIMIT)
    await show(update, context, text(lang, "lobby.ask_story", limit=limit))
    return STORY


def story_draft(context: Context) -> dict[str, Any] | None:
    """The supporter's story being written, if any."""
    return context.user_data.get(DRAFT)


async def take_story(update: Update, context: Context) -> str | int | None:
    """The story: kept in the draft only until they say whether it may be published."""
    lang = language(update, context)
    draft = story_draft(context)
    if draft is None:
        await open_lobby(update, context)
        return ConversationHandler.END
    typed = update.effective_message.text
    try:
        draft["story"] = lobby.clean_story(typed)
    except LobbyInputError as error:
        if error.limit:
            warning = too_long(lang, "lobby.story_too_long", len(typed), error.limit)
        else:
            warning = text(lang, "lobby.story_empty")
        await reply(update, context, warning)
        return None
    return await ask_permission(update, context)


async def ask_permission(update: Update, context: Context) -> str | int:
    """The story as written: may it be published?"""
    draft = story_draft(context)
    if draft is None or "story" not in draft:
        await open_lobby(update, context)
        return ConversationHandler.END
    lang = language(update, context)
    body = text(lang, "lobby.ask_permission", story=draft["story"])
    await show(update, context, body, screens.permission_keyboard(lang))
    return PERMISSION


async def story_not_text(update: Update, context: Context) -> None:
    """A photo or sticker where the story was expected."""
    await reply(update, context, text(language(update, context), "lobby.story_not_text"))


async def refuse_publishing(update: Update, context: Context) -> int:
    """No permission: the story is dropped, not stored."""
    context.user_data.pop(DRAFT, None)
    lang = language(update, context)
    await show(update, context, text(lang, "lobby.story_not_kept"), keyboards.back_to_menu(lang))
    return ConversationHandler.END


async def ask_signature(update: Update, context: Context) -> str | int:
    """Permission given: how to sign it, or unsigned."""
    if story_draft(context) is None or "story" not in story_draft(context):
        await open_lobby(update, context)
        return ConversationHandler.END
    lang = language(update, context)
    await show(
        update,
        context,
        text(lang, "lobby.ask_signature", limit=characters(lang, lobby.SIGNATURE_LIMIT)),
        screens.unsigned_keyboard(lang),
    )
    return SIGNATURE


async def take_signature(update: Update, context: Context) -> str | int | None:
    """A typed signature (a first name, initials), then the story is saved."""
    typed = update.effective_message.text
    try:
        signature = lobby.clean_signature(typed)
    except LobbyInputError as error:
        lang = language(update, context)
        warning = (
            too_long(lang, "lobby.signature_too_long", len(typed), lobby.SIGNATURE_LIMIT)
            if error.limit
            else text(lang, "lobby.signature_blank")
        )
        await reply(update, context, warning, screens.unsigned_keyboard(lang))
        return None
    return await save_story(update, context, signature)


async def unsigned(update: Update, context: Context) -> int:
    """Publish it unsigned: the story is saved without a name."""
    return await save_story(update, context, None)


async def save_story(update: Update, context: Context, signature: str | None) -> int:
    """The story, with permission to publish, waits for an organiser."""
    draft = context.user_data.pop(DRAFT, None)
    lang = language(update, context)
    if draft and draft.get("story"):
        context.bot_data.storage.add_lobby_story(
            draft["event"], user_id(update), draft["story"], signature, lang
        )
    await show(update, context, text(lang, "lobby.story_saved"), keyboards.back_to_menu(lang))
    return ConversationHandler.END


async def use_buttons(update: Update, context: Context) -> None:
    """Text where the step waits for a button."""
    await reply(update, context, text(language(update, context), "lobby.use_buttons"))


async def ask_for_text(update: Update, context: Context) -> None:
    """A photo or sticker where a postcode or signature was expected."""
    await reply(update, context, text(language(update, context), "mp.text_only"))


# --- organisers: the list and one event ---------------------------------------------------------


def events_with_counts(context: Context) -> list[tuple[LobbyEvent, int]]:
    """Every event, newest first, with how many are going."""
    storage = context.bot_data.storage
    return [
        (LobbyEvent.from_row(row), storage.going_count(row["id"])) for row in storage.lobby_events()
    ]


async def admin_list(update: Update, context: Context, note: str | None = None) -> None:
    """/lobby: every lobby day with how many are going, and "New lobby day"."""
    lang = language(update, context)
    body, markup = screens.admin_list(
        lang, events_with_counts(context), zone(context), utcnow(), note
    )
    await show(update, context, body, markup)


async def admin_event(update: Update, context: Context, event: LobbyEvent | None = None) -> None:
    """One event's figures: going, MPs covered by party, where nobody is going yet, how it
    went, stories waiting; with its buttons."""
    event = event or pressed_event(update, context, screens.SHOW)
    lang = language(update, context)
    if event is None:
        await admin_list(update, context, text(lang, "lobby.stale_step"))
        return
    figures = await context.bot_data.storage.read(lobby.coverage, event.id)
    now = utcnow()
    await show(
        update,
        context,
        screens.dashboard(lang, event, zone(context), now, figures),
        screens.dashboard_keyboard(lang, event, now, figures.stories.get(lobby.PENDING, 0)),
    )


async def confirm_cancel(update: Update, context: Context) -> None:
    """Cancel: how many will be told, and are you sure?"""
    event = pressed_event(update, context, screens.CANCEL)
    lang = language(update, context)
    if event is None or event.status != lobby.OPEN:
        await admin_list(update, context, text(lang, "lobby.already_cancelled"))
        return
    count = context.bot_data.storage.going_count(event.id)
    body = text(lang, "lobby.confirm_cancel", title=event.text("title", lang), count=count)
    await show(update, context, body, screens.confirm_cancel_keyboard(lang, event.id))


async def cancel_event(update: Update, context: Context) -> None:
    """Cancel it: its reminders are dropped and everyone going is told through the delivery
    engine; the organiser hears how many, then gets its report."""
    event = pressed_event(update, context, screens.CANCEL_YES)
    lang = language(update, context)
    told = await jobs.cancel(context.application, event, user_id(update)) if event else None
    if told is None:
        await admin_list(update, context, text(lang, "lobby.already_cancelled"))
        return
    await answer(update, context)
    report = text(lang, "lobby.cancelled_report", title=event.text("title", lang), count=told)
    await admin_list(update, context, report)


async def send_csv(update: Update, context: Context) -> None:
    """The event's CSV: per constituency, counts only."""
    event = pressed_event(update, context, screens.CSV)
    lang = language(update, context)
    if event is None:
        await admin_list(update, context, text(lang, "lobby.stale_step"))
        return
    await answer(update, context)
    csv = await context.bot_data.storage.read(lobby.coverage_csv, event.id)
    document = await context.bot.send_document(
        update.effective_chat.id,
        csv,
        filename=f"stepup-lobby-{event.id}-{event.starts_at.date().isoformat()}.csv",
        caption=text(lang, "lobby.csv_caption", title=event.text("title", lang)),
    )
    remember(context, document.chat_id, document.message_id)


async def next_story(update: Update, context: Context, event: LobbyEvent, note: str = "") -> None:
    """The oldest story waiting for this event, with Approve and Reject."""
    lang = language(update, context)
    storage = context.bot_data.storage
    story = storage.next_pending_story(event.id)
    if story is None:
        body = screens.with_note(note, text(lang, "lobby.no_stories"))
        await show(update, context, body, screens.back_to_event_keyboard(lang, event.id))
        return
    pending = storage.story_counts(event.id).get(lobby.PENDING, 0)
    body = screens.with_note(note, screens.story_view(lang, story, event, pending))
    await show(update, context, body, screens.story_keyboard(lang, story["id"], event.id))


async def show_stories(update: Update, context: Context) -> None:
    """Stories: the next one waiting."""
    event = pressed_event(update, context, screens.STORIES)
    if event is None:
        await admin_list(update, context, text(language(update, context), "lobby.stale_step"))
        return
    await next_story(update, context, event)


async def confirm_reject(update: Update, context: Context) -> None:
    """Reject asks first: a rejected story is never published, and a slip cannot be undone."""
    story_id = id_in(update.callback_query.data, screens.REJECT)
    lang = language(update, context)
    storage = context.bot_data.storage
    event = load_event(context, storage.story_event(story_id) if story_id else None)
    if event is None:
        await admin_list(update, context, text(lang, "lobby.story_gone"))
        return
    question = text(lang, "lobby.confirm_reject", id=story_id)
    await show(update, context, question, screens.confirm_reject_keyboard(lang, story_id, event.id))


async def moderate(update: Update, context: Context) -> None:
    """Approve, or Reject confirmed, the story the button names, then the next one."""
    data = update.callback_query.data
    approving = data.startswith(screens.APPROVE)
    story_id = id_in(data, screens.APPROVE if approving else screens.REJECT_YES)
    lang = language(update, context)
    storage = context.bot_data.storage
    event = load_event(context, storage.story_event(story_id) if story_id else None)
    status = lobby.APPROVED if approving else lobby.REJECTED
    if event is None or not storage.moderate_story(story_id, status, user_id(update)):
        await admin_list(update, context, text(lang, "lobby.story_gone"))
        return
    decision = text(lang, f"lobby.decision_{status}")
    await next_story(
        update, context, event, text(lang, "lobby.story_decided", id=story_id, decision=decision)
    )


async def show_approved(update: Update, context: Context) -> None:
    """The approved stories, ready for the blog."""
    event = pressed_event(update, context, screens.APPROVED_STORIES)
    lang = language(update, context)
    if event is None:
        await admin_list(update, context, text(lang, "lobby.stale_step"))
        return
    await answer(update, context)
    stories = context.bot_data.storage.approved_stories(event.id)
    for message in screens.approved_stories(lang, event, stories):
        await reply(update, context, message)


# --- organisers: composing an event -------------------------------------------------------------


def new_draft() -> dict[str, Any]:
    """Texts by field and language, the times (ISO, UTC), the hashtag, the steps still to ask
    ([field, language], language "" for untranslated fields) and the event being edited."""
    return {
        "event": None,
        "texts": {field: {} for field in lobby.TEXT_FIELDS},
        "starts_at": None,
        "rsvp_deadline": None,
        "hashtag": None,
        "steps": [
            ["title", "en"],
            [screens.STARTS_AT, ""],
            ["place", "en"],
            ["bring", "en"],
            [screens.HASHTAG, ""],
            [screens.DEADLINE, ""],
        ],
    }


def draft_from(event: LobbyEvent) -> dict[str, Any]:
    """An existing event as a composer draft, every step already answered. RSVPs open until
    the start (the deadline skipped) stay so when the start moves."""
    draft = new_draft()
    open_until_start = event.rsvp_deadline == event.starts_at
    draft.update(
        event=event.id,
        texts={field: dict(getattr(event, field)) for field in lobby.TEXT_FIELDS},
        starts_at=event.starts_at.isoformat(),
        rsvp_deadline=None if open_until_start else event.rsvp_deadline.isoformat(),
        hashtag=event.hashtag,
        steps=[],
    )
    return draft


def draft_event(draft: dict[str, Any]) -> LobbyEvent:
    """The draft as an event, to preview it exactly as supporters will see it."""
    starts_at = dt.datetime.fromisoformat(draft["starts_at"])
    deadline = draft["rsvp_deadline"]
    return LobbyEvent(
        id=draft["event"] or 0,
        title=draft["texts"]["title"],
        place=draft["texts"]["place"],
        bring=draft["texts"]["bring"],
        starts_at=starts_at,
        rsvp_deadline=dt.datetime.fromisoformat(deadline) if deadline else starts_at,
        hashtag=draft["hashtag"],
        status=lobby.OPEN,
    )


def skippable(field: str, code: str) -> bool:
    """Organisers may leave out what to bring, the deadline and any translation."""
    return field in ("bring", screens.DEADLINE) or code not in ("en", "")


async def new_event(update: Update, context: Context) -> str:
    """ "New lobby day": the composer, from the title."""
    context.user_data[COMPOSER] = new_draft()
    return await next_step(update, context)


async def edit_event(update: Update, context: Context) -> str | int:
    """Edit: the review screen of an existing event, each field one tap away."""
    event = pressed_event(update, context, screens.EDIT)
    if event is None or event.status != lobby.OPEN:
        await admin_list(update, context, text(language(update, context), "lobby.stale_step"))
        return ConversationHandler.END
    context.user_data[COMPOSER] = draft_from(event)
    return await show_review(update, context)


async def next_step(update: Update, context: Context, note: str = "") -> str:
    """Ask the next step still to ask, or show the review once none is left."""
    draft = context.user_data[COMPOSER]
    if not draft["steps"]:
        return await show_review(update, context, note)
    field, code = draft["steps"][0]
    lang = language(update, context)
    settings = context.bot_data.settings
    question = screens.ask_step(
        lang, field, code, lobby.TEXT_LIMITS, local_now(settings.zone), settings.tz
    )
    body = screens.with_note(note, question)
    await show(update, context, body, screens.step_keyboard(lang, skippable(field, code)))
    return FIELD


async def take_value(update: Update, context: Context) -> str | None:
    """A typed answer to the step asked: kept if usable, else why not and ask again."""
    draft = context.user_data.get(COMPOSER)
    if not draft or not draft["steps"]:
        return await stale_step(update, context)
    field, code = draft["steps"][0]
    lang = language(update, context)
    typed = update.effective_message.text
    try:
        keep_value(context, draft, field, code, typed)
    except LobbyInputError as error:
        await reply(update, context, problem_text(context, lang, error, draft))
        return None
    draft["steps"].pop(0)
    return await next_step(update, context)


def keep_value(context: Context, draft: dict[str, Any], field: str, code: str, typed: str) -> None:
    """Validate and store one typed value in the draft; LobbyInputError if it can't be used."""
    if field in lobby.TEXT_FIELDS:
        draft["texts"][field][code] = lobby.clean_text(field, typed)
    elif field == screens.HASHTAG:
        draft["hashtag"] = lobby.clean_hashtag(typed)
    else:
        now = local_now(zone(context))
        moment = parse_when(typed, now)
        if moment is None:
            raise LobbyInputError("unreadable")
        moment = moment.astimezone(dt.UTC)
        if field == screens.STARTS_AT:
            deadline = draft["rsvp_deadline"]
            lobby.check_times(
                moment, dt.datetime.fromisoformat(deadline) if deadline else moment, now
            )
        else:
            lobby.check_times(dt.datetime.fromisoformat(draft["starts_at"]), moment, now)
        draft[field] = moment.isoformat()


def problem_text(context: Context, lang: str, error: LobbyInputError, draft: dict) -> str:
    """Why a typed value can't be used, and what to send instead."""
    now = local_now(zone(context))
    if error.problem == "unreadable":
        return text(lang, "lobby.time_unreadable", example=screens.example_time(now))
    if error.problem == "past":
        return text(lang, "lobby.time_past")
    if error.problem == "deadline_after_start":
        starts = screens.when(lang, dt.datetime.fromisoformat(draft["starts_at"]), zone(context))
        return text(lang, "lobby.deadline_after_start", starts=starts)
    if error.problem == "hashtag":
        return text(lang, "lobby.hashtag_invalid")
    if error.problem == "not_a_place":
        return text(lang, "lobby.not_a_place")
    if error.problem == "too_many_lines":
        return text(lang, "lobby.place_too_many_lines", count=error.limit)
    if error.limit:
        return text(lang, "lobby.text_too_long", limit=characters(lang, error.limit))
    return text(lang, "lobby.text_empty")


async def skip_step(update: Update, context: Context) -> str | None:
    """Skip: no "what to bring", RSVPs until the start, or the English text for a language."""
    draft = context.user_data.get(COMPOSER)
    if not draft or not draft["steps"] or not skippable(*draft["steps"][0]):
        return await stale_step(update, context)
    field, code = draft["steps"].pop(0)
    if field in lobby.TEXT_FIELDS:
        draft["texts"][field].pop(code, None)
    else:
        draft[field] = None
    return await next_step(update, context)


async def show_review(update: Update, context: Context, note: str = "") -> str:
    """The event as supporters will see it, which languages fall back to English, and a
    button for each change, Save and Discard."""
    draft = context.user_data[COMPOSER]
    lang = language(update, context)
    body = screens.review(lang, draft_event(draft), zone(context), utcnow())
    await show(update, context, screens.with_note(note, body), screens.review_keyboard(lang))
    return REVIEW


async def change_field(update: Update, context: Context) -> str | None:
    """A field's button on the review screen: ask for it again."""
    draft = context.user_data.get(COMPOSER)
    field = update.callback_query.data.removeprefix(screens.CHANGE)
    if not draft or field not in screens.CHANGEABLE:
        return await stale_step(update, context)
    draft["steps"] = [[field, "en" if field in lobby.TEXT_FIELDS else ""]]
    return await next_step(update, context)


async def add_version(update: Update, context: Context) -> str | None:
    """A language's button: its title, place and what to bring, each skippable."""
    draft = context.user_data.get(COMPOSER)
    code = update.callback_query.data.removeprefix(screens.VERSION)
    if not draft or code not in LANGUAGES[1:]:
        return await stale_step(update, context)
    draft["steps"] = [
        [field, code] for field in lobby.TEXT_FIELDS if draft["texts"][field].get("en")
    ]
    return await next_step(update, context)


async def save_event(update: Update, context: Context) -> str | int | None:
    """Save: a new event opens to supporters; a changed one keeps its RSVPs. Reminders and
    the question afterwards are (re)scheduled from the saved times."""
    draft = context.user_data.get(COMPOSER)
    if not draft or draft["steps"]:
        return await stale_step(update, context)
    event = draft_event(draft)
    lang = language(update, context)
    now = utcnow()
    try:
        lobby.check_times(event.starts_at, event.rsvp_deadline, now)
    except LobbyInputError as error:
        return await show_review(update, context, problem_text(context, lang, error, draft))
    storage = context.bot_data.storage
    values = {
        "texts": {field: getattr(event, field) for field in lobby.TEXT_FIELDS},
        "starts_at": event.starts_at,
        "rsvp_deadline": event.rsvp_deadline,
        "hashtag": event.hashtag,
    }
    title = event.text("title", lang)
    before = load_event(context, draft["event"])
    context.user_data.pop(COMPOSER, None)
    if before:
        told = await jobs.save_changes(context.application, before, event, values, user_id(update))
        if told is None:
            await admin_list(update, context, text(lang, "lobby.already_cancelled"))
            return ConversationHandler.END
        event_id = before.id
        if lobby.moves(before, event):
            note = text(lang, "lobby.saved_edit_told", title=title, count=told)
        else:
            note = text(lang, "lobby.saved_edit", title=title)
    else:
        event_id = storage.create_lobby_event(**values, created_by=user_id(update))
        link = f"https://t.me/{context.bot.username}?start=lobby"
        note = text(lang, "lobby.saved_new", title=title, link=link)
        jobs.schedule_event(context.application, load_event(context, event_id))
    saved = load_event(context, event_id)
    await reply(update, context, note)
    await admin_event(update, context, saved)
    return ConversationHandler.END


async def discard(update: Update, context: Context) -> int:
    """Discard (button or /cancel): nothing is saved."""
    context.user_data.pop(COMPOSER, None)
    await show(update, context, text(language(update, context), "lobby.discarded"))
    return ConversationHandler.END


async def composer_not_text(update: Update, context: Context) -> None:
    """A photo or sticker where the composer expected text."""
    await reply(update, context, text(language(update, context), "lobby.not_text"))


async def stale_step(update: Update, context: Context) -> None:
    """A composer button or message whose step is over: say so; the step stays."""
    note = text(language(update, context), "lobby.stale_step")
    if update.callback_query:
        await answer(update, context, note, alert=True)
    else:
        await reply(update, context, note)


# --- wiring -------------------------------------------------------------------------------------


def button(pattern: str, callback: Handler) -> ButtonHandler:
    """A button handler matching callback data that starts with `pattern`."""
    return ButtonHandler(callback, pattern=f"^{pattern}")


SUPPORTER_BUTTONS = [
    (f"^{screens.OPEN}$", open_lobby),
    (f"^{screens.EVENT}", view_event),
    (f"^{screens.GUIDE}", show_guide),
    (f"^{screens.CANT_COME}", cant_come),
    (f"^{screens.UNRSVP_YES}", cancel_rsvp),
    (f"^{screens.UNRSVP}", confirm_cancel_rsvp),
    (f"^{screens.CALL}", call_office),
    (f"^{screens.REQUEST_SENT}", request_sent),
    (f"^{screens.OUTCOME}", answer_outcome),
    (f"^{screens.NO_STORY}$", no_story),
]


def supporter_conversation() -> ConversationHandler:
    """Saying yes (the postcode) and telling a story (text, permission, signature). The other
    lobby buttons end it and do what they always do. A postcode is never kept as a story or a
    signature: the MP journey is offered instead."""
    not_a_postcode = MessageHandler(NEW_TEXT & POSTCODE_TEXT, postcode_hint)
    # A button's label typed at its step does what the button does.
    menu = {"core.menu.button_back": back_to_menu(dropping=DRAFT)}
    return journey(
        "lobby",
        entry_points=[button(screens.YES, ask_postcode), button(screens.STORY, ask_story)],
        states={
            POSTCODE: [
                *asides(ask_for_postcode),
                MessageHandler(NEW_TEXT, or_typed(take_postcode, menu)),
                MessageHandler(NEW_OTHER, ask_for_text),
            ],
            STORY: [
                *asides(ask_for_story),
                not_a_postcode,
                MessageHandler(NEW_TEXT, take_story),
                MessageHandler(NEW_OTHER, story_not_text),
            ],
            PERMISSION: [
                *asides(ask_permission),
                button(f"{screens.PUBLISH_YES}$", ask_signature),
                button(f"{screens.PUBLISH_NO}$", refuse_publishing),
                MessageHandler(NEW_TEXT | NEW_OTHER, use_buttons),
            ],
            SIGNATURE: [
                *asides(ask_signature),
                not_a_postcode,
                MessageHandler(
                    NEW_TEXT, or_typed(take_signature, {"lobby.unsigned_button": unsigned})
                ),
                MessageHandler(NEW_OTHER, ask_for_text),
                button(f"{screens.UNSIGNED}$", unsigned),
            ],
        },
        fallbacks=[
            *exits(dropping=DRAFT),
            *(
                ButtonHandler(ending(discarding(DRAFT, callback)), pattern=pattern)
                for pattern, callback in SUPPORTER_BUTTONS
            ),
        ],
    )


def composer() -> ConversationHandler:
    """The organisers' composer: a step asked (FIELD), or the review screen (REVIEW)."""

    def admin_button(pattern: str, callback: Handler) -> ButtonHandler:
        return button(pattern, organiser_only(callback))

    def typed(kind: filters.BaseFilter, callback: Handler) -> MessageHandler:
        return MessageHandler(kind, organiser_only(callback))

    labels = {"lobby.skip_button": skip_step, "lobby.discard_button": discard}
    return journey(
        "lobby_composer",
        entry_points=[
            admin_button(f"{screens.NEW}$", new_event),
            admin_button(screens.EDIT, edit_event),
        ],
        states={
            FIELD: [
                *asides(next_step),
                # A button's label typed does what the button does, never becomes the field.
                typed(NEW_TEXT, or_typed(take_value, labels)),
                typed(NEW_OTHER, composer_not_text),
                admin_button(f"{screens.SKIP}$", skip_step),
            ],
            REVIEW: [
                *asides(next_step),
                admin_button(screens.CHANGE, change_field),
                admin_button(screens.VERSION, add_version),
                admin_button(f"{screens.SAVE}$", save_event),
                typed(NEW_TEXT | NEW_OTHER, use_buttons),
            ],
        },
        fallbacks=[
            admin_button(f"{screens.DISCARD}$", discard),
            CommandHandler("cancel", organiser_only(discard)),
            *exits(dropping=COMPOSER),
        ],
    )


ORGANISER_BUTTONS = [
    (f"^{screens.ADMIN_LIST}$", admin_list),
    (f"^{screens.SHOW}", admin_event),
    (f"^{screens.CANCEL}", confirm_cancel),
    (f"^{screens.CANCEL_YES}", cancel_event),
    (f"^{screens.CSV}", send_csv),
    (f"^{screens.STORIES}", show_stories),
    (f"^({screens.APPROVE}|{screens.REJECT_YES})", moderate),
    (f"^{screens.REJECT}", confirm_reject),
    (f"^{screens.APPROVED_STORIES}", show_approved),
    # Any other organiser button arrives here only when its composer step is over.
    (f"^{screens.ADMIN}", stale_step),
]


def register(app: Application) -> None:
    """The supporter journey and the composer conversations, then the plain buttons and /lobby."""
    app.add_handler(supporter_conversation())
    app.add_handler(composer())
    app.add_handler(
        MessageHandler(
            Showing(app.user_data, INVITED) & NEW_TEXT & POSTCODE_TEXT, postcode_before_yes
        )
    )
    app.add_handlers(
        routes(
            {"lobby": organiser_only(admin_list)},
            SUPPORTER_BUTTONS
            + [(pattern, organiser_only(callback)) for pattern, callback in ORGANISER_BUTTONS],
        )
    )
    app.bot_data.journeys["lobby"] = open_lobby
    app.bot_data.drafts.update({DRAFT, COMPOSER})
    app.bot_data.organiser_buttons.add(screens.ADMIN)
