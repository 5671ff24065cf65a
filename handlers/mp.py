"""Write to your MP: postcode -> MP -> name -> one sentence -> letter language -> the letter to
copy, with the buttons that send it, and "I've sent it"; later, the answer to "Did your MP reply?".

The postcode lives only in the callback that receives it: it goes to postcodes.io, never into
user_data, the database, logs or a link in the chat (P1). While the
letter is being written, the MP found and the supporter's name and sentence wait in user_data so a
restart resumes the journey (S3); they go as soon as the letter is handed over, or when the
supporter leaves the journey (P5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ConversationHandler,
    MessageHandler,
)

from bot import languages, lobby
from bot.app.context import BotStopping, Context
from bot.mps import (
    MP,
    PERSONAL_SENTENCE_LIMIT,
    REPLY_NOT_YET,
    REPLY_OUTCOMES,
    LetterFieldTooLong,
    LookupUnavailable,
    NoWestminsterSeat,
    PostcodeIncomplete,
    PostcodeMalformed,
    PostcodeNotFound,
    SeatVacant,
    find_mp,
    normalise_postcode,
)
from bot.progress import MP_LETTER_SENT
from bot.storage import utcnow
from bot.typed import says_something
from handlers.common import (
    NEW_OTHER,
    NEW_TEXT,
    POSTCODE_OR_HALF,
    POSTCODE_TEXT,
    ButtonHandler,
    Handler,
    Showing,
    answer,
    journey,
    language,
    looking_up,
    or_typed,
    reply,
    show,
    showing,
    user_id,
)
from handlers.exits import asides, back_to_menu, exits
from handlers.onboarding import stale_button
from messages import LANGUAGES, keyboards, text
from messages import lobby as lobby_screens
from messages.core import characters
from messages.mp import (
    ANSWER_PREFIX,
    ASKED_PREFIX,
    FIND,
    KEEP_MIXED,
    LETTER_LANGUAGE_PREFIX,
    REWRITE,
    SENT,
    SKIP_NAME,
    SKIP_SENTENCE,
    answer_keyboard,
    ask_sentence_again,
    compose_letter,
    found_text,
    handover_actions,
    handover_intro,
    handover_keyboard,
    intro_keyboard,
    intro_text,
    letter_language_keyboard,
    mixed_language_keyboard,
    mixed_language_text,
    next_step_keyboard,
    preview_intro,
    quoted,
    skip_keyboard,
    too_long_text,
    writetothem_keyboard,
)
from scheduler import followups

# An answer names its follow-up (the MP screen) or the broadcast that asked it (the question).
FOLLOWUP_ANSWER = re.compile(
    rf"({ANSWER_PREFIX}|{ASKED_PREFIX})([0-9]{{1,12}}):({'|'.join(REPLY_OUTCOMES)})"
)

POSTCODE, NAME, SENTENCE, LETTER_LANGUAGE = "postcode", "name", "sentence", "letter_language"
# The screen (handlers.common.showing) where a postcode is taken before "Find my MP" is pressed.
INTRO = "mp_intro"
# user_data key of the letter being written: {"mp": asdict(MP), "signature": ..., "sentence": ...,
# "sentence_language": "pt" or None when unsure, "letter_language": once chosen}
LETTER = "mp_letter"
# user_data key of a letter handed over and not yet confirmed sent: its constituency's name. Only
# then does "I've sent it" count anything.
HANDED_OVER = "mp_handed_over"


# --- the letter in user_data --------------------------------------------------------------------


def compose(context: Context, letter: dict[str, Any], letter_language: str) -> tuple[str, str]:
    """(subject, body) of the letter from what the supporter has given so far: the MP letter,
    or the request to meet on a lobby day."""
    mp = letter["mp"]
    meeting = letter.get("meeting")
    return compose_letter(
        context.bot_data.campaign,
        letter_language,
        mp["name"],
        mp["constituency_name"],
        letter.get("sentence"),
        letter.get("signature"),
        event_day=dt.date.fromisoformat(meeting["day"]) if meeting else None,
    )


# The Skip button of each field's step, offered again with "that's a little long".
SKIPS = {"signature": SKIP_NAME, "sentence": SKIP_SENTENCE}


async def keep_field(update: Update, context: Context, field: str, value: str | None) -> bool:
    """Keep `value` as `field` of the letter if the letter can carry it; else say the limit,
    with the step's Skip button again."""
    letter = {**context.user_data[LETTER], field: value}
    try:
        compose(context, letter, "en")  # the limits are the same in every language
    except LetterFieldTooLong as error:
        lang = language(update, context)
        await reply(update, context, too_long_text(lang, error), skip_keyboard(lang, SKIPS[field]))
        return False
    context.user_data[LETTER] = letter
    return True


def forget_letter(context: Context) -> None:
    context.user_data.pop(LETTER, None)


def needs_letter(step: Handler) -> Handler:
    """A step after the postcode. If the letter is gone (its data was erased meanwhile), the
    supporter starts again from the journey's first screen instead of meeting an error."""

    @functools.wraps(step)
    async def checked(update: Update, context: Context) -> object:
        if LETTER not in context.user_data:
            await open_mp(update, context)
            return ConversationHandler.END
        return await step(update, context)

    return checked


# --- the journey --------------------------------------------------------------------------------


async def open_mp(update: Update, context: Context) -> None:
    """What will happen, and that the postcode is not kept; "Find my MP" starts the journey."""
    lang = language(update, context)
    storage = context.bot_data.storage
    already_sent = MP_LETTER_SENT in storage.done_actions(user_id(update))
    # A reply still to be reported can be reported here, before the fourteen-day question.
    open_followup = storage.open_mp_followup(user_id(update), REPLY_NOT_YET)
    body = intro_text(lang, already_sent, reply_open=open_followup is not None)
    await show(update, context, body, intro_keyboard(lang, open_followup))
    showing(update, context, INTRO)


async def ask_postcode(update: Update, context: Context) -> str:
    """The "Find my MP" (or "Try again") button: a fresh letter, starting with the postcode."""
    forget_letter(context)
    lang = language(update, context)
    await show(update, context, text(lang, "mp.ask_postcode"), keyboards.back_to_menu(lang))
    return POSTCODE


async def take_postcode_at_intro(update: Update, context: Context) -> str:
    """A postcode typed on the first screen, before "Find my MP": taken as if asked for; if it
    finds no MP, the next one typed is read as a postcode too."""
    forget_letter(context)
    return await take_postcode(update, context) or POSTCODE


async def take_postcode(update: Update, context: Context) -> str | None:
    """Find the MP for the postcode typed, then ask how to sign the letter. At a later step
    the letter starts again with the MP found (a meeting request stays one)."""
    mp = await lookup_mp(update, context)
    if mp is None:
        return None
    meeting = context.user_data.get(LETTER, {}).get("meeting")
    context.user_data[LETTER] = {"mp": asdict(mp)} | ({"meeting": meeting} if meeting else {})
    return await ask_name(update, context)


@needs_letter
async def ask_name(update: Update, context: Context) -> str:
    """The MP found (or the meeting to ask them for), and how to sign the letter."""
    lang = language(update, context)
    letter = context.user_data[LETTER]
    mp = MP(**letter["mp"])
    if letter.get("meeting"):
        body = lobby_screens.request_intro(lang, mp.name, mp.constituency_name)
    else:
        body = found_text(lang, mp)
    await show(update, context, body, skip_keyboard(lang, SKIP_NAME))
    return NAME


async def lookup_mp(update: Update, context: Context, retry: str = FIND) -> MP | None:
    """The MP for the postcode typed, whose constituency becomes the supporter's. Every failure
    says what to do next (WriteToThem, when the bot cannot name an MP, and "Try again", which
    sends `retry`: the button that asks again in the caller's journey) and returns None: the
    step still takes a postcode, so another one, or the same one later, is looked up. Also
    the lobby day's RSVP (handlers/lobby.py)."""
    lang = language(update, context)
    data = context.bot_data
    try:
        postcode = normalise_postcode(update.effective_message.text)
    except PostcodeIncomplete:
        await reply(update, context, text(lang, "mp.postcode_incomplete"))
        return None
    except PostcodeMalformed:
        await reply(update, context, text(lang, "mp.postcode_malformed"))
        return None
    await looking_up(update, context)
    try:
        mp = await data.unless_stopping(find_mp(data.http, data.settings, data.storage, postcode))
    except NoWestminsterSeat:
        no_seat = text(lang, "mp.no_westminster_seat")
        await reply(update, context, no_seat, keyboards.back_to_menu(lang))
        return None
    except PostcodeNotFound as error:
        key = "mp.postcode_terminated" if error.terminated else "mp.postcode_not_found"
        await reply(update, context, text(lang, key))
        return None
    except SeatVacant as error:
        vacant = text(lang, "mp.seat_vacant", constituency=error.constituency.name)
        await reply(update, context, vacant, writetothem_keyboard(lang, data.campaign, retry))
        return None
    except (LookupUnavailable, BotStopping):
        unavailable = text(lang, "mp.lookup_unavailable")
        keyboard = writetothem_keyboard(lang, data.campaign, retry)
        await reply(update, context, unavailable, keyboard)
        return None
    await data.storage.writable()  # as at the update's start: the lookup took time
    data.storage.set_constituency(user_id(update), mp.constituency_code, mp.constituency_name)
    return mp


async def request_meeting(update: Update, context: Context) -> str | int:
    """"Ask your MP for a meeting" on a lobby day the supporter said yes to: this journey's
    letter, from the meeting request template, starting at the signature (the MP is known)."""
    lang = language(update, context)
    event_id = update.callback_query.data.removeprefix(lobby_screens.REQUEST)
    storage = context.bot_data.storage
    row = storage.get_lobby_event(int(event_id)) if event_id.isdigit() else None
    rsvp = storage.get_rsvp(row["id"], user_id(update)) if row else None
    if not rsvp or rsvp["status"] != lobby.GOING or row["status"] != lobby.OPEN:
        await show(update, context, text(lang, "lobby.no_mp"), keyboards.back_to_menu(lang))
        return ConversationHandler.END
    event = lobby.LobbyEvent.from_row(row)
    mp = lobby.rsvp_mp(storage, rsvp)
    day = event.local_day(context.bot_data.settings.zone)
    context.user_data[LETTER] = {
        "mp": asdict(mp),
        "meeting": {"event": event.id, "day": day.isoformat(), "hashtag": event.hashtag},
    }
    return await ask_name(update, context)


@needs_letter
async def take_name(update: Update, context: Context) -> str | None:
    """The name to sign with; one that shows nothing (only spaces, invisible characters) is
    asked for again."""
    typed = update.effective_message.text
    if not says_something(typed):
        lang = language(update, context)
        await reply(update, context, text(lang, "mp.name_blank"), skip_keyboard(lang, SKIP_NAME))
        return None
    if not await keep_field(update, context, "signature", typed):
        return None
    return await ask_sentence(update, context)


@needs_letter
async def skip_name(update: Update, context: Context) -> str | None:
    """No name: the letter is signed as someone who lives in the constituency."""
    await keep_field(update, context, "signature", None)
    return await ask_sentence(update, context)


@needs_letter
async def ask_sentence(update: Update, context: Context) -> str:
    """The supporter's own sentence, and how long it may be; once the letter's language is
    chosen ("Write it again"), in that language."""
    lang = language(update, context)
    letter_language = context.user_data[LETTER].get("letter_language")
    if letter_language:
        body = ask_sentence_again(lang, letter_language)
    else:
        body = text(lang, "mp.ask_sentence", limit=characters(lang, PERSONAL_SENTENCE_LIMIT))
    await show(update, context, body, skip_keyboard(lang, SKIP_SENTENCE))
    return SENTENCE


@needs_letter
async def take_sentence(update: Update, context: Context) -> str | int | None:
    """The supporter's own sentence, which makes the letter theirs; one that shows nothing is
    asked for again."""
    sentence = update.effective_message.text
    if not says_something(sentence):
        lang = language(update, context)
        blank = text(lang, "mp.sentence_blank")
        await reply(update, context, blank, skip_keyboard(lang, SKIP_SENTENCE))
        return None
    if not await keep_field(update, context, "sentence", sentence):
        return None
    # The language model is loaded on first use, off the event loop.
    context.user_data[LETTER]["sentence_language"] = (
        languages.written_in(sentence)
        if languages.loaded()
        else await asyncio.to_thread(languages.written_in, sentence)
    )
    return await after_sentence(update, context)


@needs_letter
async def skip_sentence(update: Update, context: Context) -> str | int:
    """No sentence: the letter goes without its personal paragraph."""
    await keep_field(update, context, "sentence", None)
    context.user_data[LETTER]["sentence_language"] = None
    return await after_sentence(update, context)


async def after_sentence(update: Update, context: Context) -> str | int:
    """The letter-language question; or, for a sentence written again, the letter straight away
    in the language already chosen."""
    chosen = context.user_data[LETTER].get("letter_language")
    if chosen:
        return await hand_over(update, context, chosen)
    return await ask_letter_language(update, context)


@needs_letter
async def keep_mixed(update: Update, context: Context) -> int:
    """Keep it as it is: the letter in the chosen language, with the sentence as written."""
    letter_language = context.user_data[LETTER]["letter_language"]
    return await hand_over(update, context, letter_language, mixed=True)


async def ask_letter_language(update: Update, context: Context) -> str | int:
    """The letter in the supporter's language to read, then: send it in English or in theirs?
    English speakers have nothing to choose and get their letter straight away."""
    lang = language(update, context)
    if lang == "en":
        return await hand_over(update, context, "en")
    _, body = compose(context, context.user_data[LETTER], lang)
    await show(update, context, preview_intro(lang))
    await reply(update, context, quoted(body, "blockquote"))
    await repeat_letter_language(update, context)
    return LETTER_LANGUAGE


async def repeat_letter_language(update: Update, context: Context) -> None:
    """The letter-language question with its buttons (again, if they typed instead)."""
    lang = language(update, context)
    await reply(
        update, context, text(lang, "mp.ask_letter_language"), letter_language_keyboard(lang)
    )


@needs_letter
async def choose_letter_language(update: Update, context: Context) -> str | int:
    """English (recommended) or the supporter's own language."""
    chosen = update.callback_query.data.removeprefix(LETTER_LANGUAGE_PREFIX)
    return await hand_over(update, context, chosen)


async def hand_over(
    update: Update, context: Context, letter_language: str, mixed: bool = False
) -> str | int:
    """The letter to copy, the MP's address and the buttons that send it. The letter is dropped
    from user_data here: it now exists only in the chat.

    A sentence in another language than the letter is said first, with the ways out (unless the
    supporter chose to keep it `mixed`)."""
    lang = language(update, context)
    sentence_language = context.user_data[LETTER].get("sentence_language")
    if not mixed and sentence_language not in (None, letter_language):
        context.user_data[LETTER]["letter_language"] = letter_language
        body = mixed_language_text(lang, sentence_language, letter_language)
        await show(update, context, body, mixed_language_keyboard(lang, sentence_language))
        return LETTER_LANGUAGE
    letter = context.user_data.pop(LETTER)
    mp = MP(**letter["mp"])
    context.user_data[HANDED_OVER] = mp.constituency_name
    subject, body = compose(context, letter, letter_language)
    await show(update, context, handover_intro(lang, mp, subject))
    await reply(update, context, quoted(body, "pre"))
    meeting = letter.get("meeting")
    await reply(
        update,
        context,
        handover_actions(lang, mp, bool(meeting)),
        handover_keyboard(lang, context.bot_data.campaign, mp, body, letter_language, meeting),
    )
    return ConversationHandler.END


async def mark_sent(update: Update, context: Context) -> int:
    """The "I've sent it" button: count the letter for the constituency, ask about a reply later.
    Without a letter handed over (a stale or forged press) nothing is recorded."""
    if context.user_data.pop(HANDED_OVER, None) is None:
        lang = language(update, context)
        await answer(update, context, text(lang, "mp.nothing_to_confirm"))
        return ConversationHandler.END
    forget_letter(context)
    storage = context.bot_data.storage
    supporter = storage.get_supporter(user_id(update))
    storage.record_mp_letter(
        user_id(update),
        MP_LETTER_SENT,
        supporter["constituency_code"],
        utcnow() + followups.FOLLOW_UP_AFTER,
    )
    lang = language(update, context)
    done = storage.done_actions(user_id(update))
    await show(update, context, text(lang, "mp.sent_thanks"), next_step_keyboard(lang, done))
    return ConversationHandler.END


async def ask_for_text(update: Update, context: Context) -> None:
    """A photo or sticker where a postcode, name or sentence was expected."""
    await reply(update, context, text(language(update, context), "mp.text_only"))


async def stale_step(update: Update, context: Context) -> None:
    """A journey button from an earlier step (or tampered): say so and keep waiting."""
    await answer(update, context, text(language(update, context), "mp.stale_step"))


# --- "Did your MP reply?" -----------------------------------------------------------------------


async def answer_followup(update: Update, context: Context) -> None:
    """An answer to the supporter's own follow-up question; anything else is a stale button."""
    lang = language(update, context)
    match = FOLLOWUP_ANSWER.fullmatch(update.callback_query.data)
    if match is None:
        await stale_button(update, context)
        return
    prefix, number, outcome = match.group(1), int(match.group(2)), match.group(3)
    storage = context.bot_data.storage
    followup_id = (
        number if prefix == ANSWER_PREFIX else storage.mp_followup_asked_in(number, user_id(update))
    )
    if followup_id is None or not storage.answer_mp_followup(
        followup_id, user_id(update), outcome, REPLY_NOT_YET
    ):
        await stale_button(update, context)
        return
    if outcome == REPLY_NOT_YET:
        # They may come back to this message and answer again once the MP has replied.
        markup = answer_keyboard(lang, followup_id)
        await show(update, context, text(lang, "mp.followup_not_yet_thanks"), markup)
    else:
        await show(update, context, text(lang, "mp.followup_thanks"), keyboards.back_to_menu(lang))


# --- wiring -------------------------------------------------------------------------------------


def conversation(user_data: Mapping[int, dict]) -> ConversationHandler:
    """The journey; `user_data` (the application's) tells who is looking at its first screen."""

    def button(pattern: str, callback: Handler) -> ButtonHandler:
        return ButtonHandler(callback, pattern=f"^{pattern}$")

    # At every step, a postcode is taken as one (a corrected postcode, not a name or sentence).
    new_postcode = MessageHandler(NEW_TEXT & POSTCODE_TEXT, take_postcode)
    # A button's label typed at its step does what the button does, never becomes the letter.
    menu = {"core.menu.button_back": back_to_menu(dropping=LETTER)}
    letter_languages = f"{LETTER_LANGUAGE_PREFIX}({'|'.join(LANGUAGES)})"
    return journey(
        "mp",
        entry_points=[
            button(FIND, ask_postcode),
            ButtonHandler(request_meeting, pattern=f"^{lobby_screens.REQUEST}"),
            # Who is on the intro screen first: every message meets this check, most not there.
            MessageHandler(
                Showing(user_data, INTRO) & NEW_TEXT & POSTCODE_OR_HALF, take_postcode_at_intro
            ),
        ],
        states={
            POSTCODE: [
                *asides(ask_postcode),
                MessageHandler(NEW_TEXT, or_typed(take_postcode, menu)),
                MessageHandler(NEW_OTHER, ask_for_text),
            ],
            NAME: [
                *asides(ask_name),
                new_postcode,
                MessageHandler(
                    NEW_TEXT, or_typed(take_name, {**menu, "mp.skip_button": skip_name})
                ),
                MessageHandler(NEW_OTHER, ask_for_text),
                button(SKIP_NAME, skip_name),
            ],
            SENTENCE: [
                *asides(ask_sentence),
                new_postcode,
                MessageHandler(
                    NEW_TEXT, or_typed(take_sentence, {**menu, "mp.skip_button": skip_sentence})
                ),
                MessageHandler(NEW_OTHER, ask_for_text),
                button(SKIP_SENTENCE, skip_sentence),
            ],
            LETTER_LANGUAGE: [
                *asides(needs_letter(ask_letter_language)),
                new_postcode,
                button(letter_languages, choose_letter_language),
                button(REWRITE, ask_sentence),
                button(KEEP_MIXED, keep_mixed),
                MessageHandler(NEW_TEXT | NEW_OTHER, repeat_letter_language),
            ],
        },
        fallbacks=[
            button(SENT, mark_sent),
            *exits(dropping=LETTER),
            ButtonHandler(stale_step, pattern="^mp:"),
        ],
    )


def register(app: Application) -> None:
    """Follow-up answers first (they may come mid-journey), then the journey, then "I've sent
    it" for a letter handed over earlier, outside the journey."""
    app.add_handler(ButtonHandler(answer_followup, pattern=f"^({ANSWER_PREFIX}|{ASKED_PREFIX})"))
    app.add_handler(conversation(app.user_data))
    app.add_handler(ButtonHandler(mark_sent, pattern=f"^{SENT}$"))
    app.bot_data.journeys["mp"] = open_mp
    app.bot_data.drafts.add(LETTER)
