"""Write to your MP: the texts and keyboards of the letter journey and of "Did your MP reply?",
and the callback data those keyboards carry (the handlers match on the same constants)."""

from __future__ import annotations

import datetime as dt
import functools
import html
from collections.abc import Mapping
from typing import Any

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.campaign import Campaign
from bot.mps import (
    MP,
    PERSONAL_SENTENCE_LIMIT,
    REPLY_OUTCOMES,
    SIGNATURE_LIMIT,
    LetterFieldTooLong,
    PersonalSentenceTooLong,
    SignatureTooLong,
    tweet_mp_url,
    writetothem_url,
)
from bot.progress import checklist
from messages import keyboards
from messages.core import characters, date, language_name, too_long
from messages.i18n import Html, catalog, label, text
from messages.lobby import REQUEST_SENT

FIND = "mp:find"
SKIP_NAME = "mp:skip:name"
SKIP_SENTENCE = "mp:skip:sentence"
LETTER_LANGUAGE_PREFIX = "mp:letter:"
SENT = "mp:sent"
# When the sentence is in another language than the letter: write it again, or keep it as it is.
REWRITE = "mp:rewrite"
KEEP_MIXED = "mp:keep"
# Follow-up answers: `mp:reply:<followup id>:<outcome>` on the MP screen (and under questions
# asked before they went through the delivery engine), `mp:asked:<broadcast id>:<outcome>`
# under the fourteen-day question.
ANSWER_PREFIX = "mp:reply:"
ASKED_PREFIX = "mp:asked:"

COPY_TEXT_LIMIT = 256  # characters a CopyTextButton carries

TOO_LONG = {
    SignatureTooLong: "mp.signature_too_long",
    PersonalSentenceTooLong: "mp.personal_sentence_too_long",
}


# --- texts --------------------------------------------------------------------------------------


def intro_text(lang: str, already_sent: bool, reply_open: bool = False) -> Html:
    """What will happen, and that the postcode is not kept; a reminder if they wrote already,
    and "Has your MP replied?" while their reply is still to be reported."""
    parts = [text(lang, "mp.intro")]
    if already_sent:
        parts.append(text(lang, "mp.intro_already_sent"))
    if reply_open:
        parts.append(text(lang, "mp.intro_reply"))
    return Html("\n\n".join(parts))


def mixed_language_text(lang: str, sentence_language: str, letter_language: str) -> Html:
    """The sentence and the letter are in different languages: say so, and what can be done."""
    return text(
        lang,
        "mp.mixed_language",
        sentence_language=language_name(lang, sentence_language),
        letter_language=language_name(lang, letter_language),
    )


def ask_sentence_again(lang: str, letter_language: str) -> Html:
    return text(
        lang,
        "mp.ask_sentence_again",
        language_name=language_name(lang, letter_language),
        limit=characters(lang, PERSONAL_SENTENCE_LIMIT),
    )


def found_text(lang: str, mp: MP) -> Html:
    """Who the MP is, then the question about the signature."""
    lines = [text(lang, "mp.found_mp", mp_name=mp.name)]
    if mp.party:
        lines.append(text(lang, "mp.found_party", party=mp.party))
    lines.append(text(lang, "mp.found_constituency", constituency=mp.constituency_name))
    anonymous = text(lang, "mp.anonymous_signature", constituency=mp.constituency_name)
    lines += ["", text(lang, "mp.ask_name", anonymous=anonymous)]
    return Html("\n".join(lines))


def too_long_text(lang: str, error: LetterFieldTooLong) -> Html:
    """How long the name or sentence was, and the letter's limit for it."""
    return too_long(lang, TOO_LONG[type(error)], error.length, error.limit)


def handover_actions(lang: str, mp: MP, meeting: bool) -> Html:
    """What to do with the letter (or the request to meet on a lobby day): by email, with
    WriteToThem as the other way; or through WriteToThem alone, when the MP lists no email."""
    key = "lobby.request_actions" if meeting else "mp.handover_actions"
    return text(lang, key if mp.email else f"{key}_no_email")


def preview_intro(lang: str) -> Html:
    return text(lang, "mp.preview_intro", language_name=language_name(lang, lang))


def handover_intro(lang: str, mp: MP, subject: str) -> Html:
    """Where the letter goes and its subject; without an email address, WriteToThem instead."""
    key = "mp.handover_intro" if mp.email else "mp.handover_intro_no_email"
    return text(lang, key, mp_name=mp.name, email=mp.email, subject=subject)


def quoted(body: str, tag: str) -> Html:
    """`body` escaped inside <tag>; `handlers.common.reply` sends it in as many messages as it
    needs, each block closed and reopened at the cuts so every part copies cleanly."""
    return Html(f"<{tag}>{html.escape(body)}</{tag}>")


# --- keyboards ----------------------------------------------------------------------------------


def _url_row(lang: str, key: str, url: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(label(lang, key), url=url)]


def _writetothem_row(lang: str, campaign: Campaign) -> list[InlineKeyboardButton]:
    """The same WriteToThem link wherever it is offered, without the postcode (P1)."""
    return _url_row(lang, "mp.writetothem_button", writetothem_url(str(campaign.writetothem_url)))


def _copy_row(lang: str, key: str, value: str | None) -> list[InlineKeyboardButton]:
    """A button copying `value`, or no button when there is nothing to copy or it is too long."""
    if not value or len(value) > COPY_TEXT_LIMIT:
        return []
    return [InlineKeyboardButton(label(lang, key), copy_text=CopyTextButton(value))]


@functools.lru_cache(maxsize=4096)  # one per language and open follow-up at most
def intro_keyboard(lang: str, open_followup: int | None = None) -> InlineKeyboardMarkup:
    """ "Find my MP"; above it, the answers to "Has your MP replied?" when one is still open."""
    answers = answer_keyboard(lang, open_followup).inline_keyboard if open_followup else ()
    find = keyboards.button(lang, "mp.find_button", FIND)
    return keyboards.Keyboard([*answers, [find], keyboards.menu_row(lang)])


@functools.cache
def mixed_language_keyboard(lang: str, sentence_language: str) -> InlineKeyboardMarkup:
    """Write the sentence again, send the letter in the sentence's language, or keep both."""
    letter_in = label(
        lang, "mp.letter_in_button", language_name=language_name(lang, sentence_language)
    )
    return keyboards.Keyboard(
        [
            [keyboards.button(lang, "mp.rewrite_button", REWRITE)],
            [
                InlineKeyboardButton(
                    letter_in, callback_data=f"{LETTER_LANGUAGE_PREFIX}{sentence_language}"
                )
            ],
            [keyboards.button(lang, "mp.keep_button", KEEP_MIXED)],
        ]
    )


def writetothem_keyboard(
    lang: str, campaign: Campaign, retry: str = FIND
) -> InlineKeyboardMarkup:
    """WriteToThem (which asks for the postcode), "Try again" and the menu: when the bot cannot
    find the MP, or the seat is vacant. "Try again" sends `retry`, the button that asks for the
    postcode again in the journey that asked for it (the letter's, unless said otherwise)."""
    return keyboards.Keyboard(
        [
            _writetothem_row(lang, campaign),
            [keyboards.button(lang, "mp.try_again_button", retry)],
            keyboards.menu_row(lang),
        ]
    )


@functools.cache
def skip_keyboard(lang: str, data: str) -> InlineKeyboardMarkup:
    return keyboards.Keyboard([[keyboards.button(lang, "mp.skip_button", data)]])


@functools.cache
def letter_language_keyboard(lang: str) -> InlineKeyboardMarkup:
    own = InlineKeyboardButton(
        catalog(lang)["core.language.name"], callback_data=f"{LETTER_LANGUAGE_PREFIX}{lang}"
    )
    english = keyboards.button(lang, "mp.english_recommended_button", f"{LETTER_LANGUAGE_PREFIX}en")
    return keyboards.Keyboard([[english], [own]])


def handover_keyboard(
    lang: str,
    campaign: Campaign,
    mp: MP,
    body: str,
    letter_language: str,
    meeting: Mapping[str, Any] | None = None,
) -> InlineKeyboardMarkup:
    """Copy buttons where Telegram's limit allows, WriteToThem (Telegram refuses mailto: links),
    a post to the MP on X when they list an account, and "I've sent it". For a request to meet
    on a lobby day (`meeting`: event id, day, hashtag) the post carries the event's hashtag."""
    if meeting:
        day = date(letter_language, dt.date.fromisoformat(meeting["day"]), with_year=True)
        words = text(letter_language, "lobby.request_tweet_text", date=day)
        tweet = tweet_mp_url(mp, words, [meeting["hashtag"]])
        sent_data = f"{REQUEST_SENT}{meeting['event']}"
        sent = keyboards.button(lang, "lobby.request_sent_button", sent_data)
    else:
        tweet = tweet_mp_url(mp, text(letter_language, "mp.tweet_text"), campaign.hashtags)
        sent = keyboards.button(lang, "mp.sent_button", SENT)
    rows = [
        _copy_row(lang, "mp.copy_letter_button", body),
        _copy_row(lang, "mp.copy_email_button", mp.email),
        _writetothem_row(lang, campaign),
        _url_row(lang, "mp.tweet_button", tweet) if tweet else [],
        [sent],
        keyboards.menu_row(lang),
    ]
    return keyboards.Keyboard([row for row in rows if row])


def next_step_keyboard(lang: str, done_actions: set[str]) -> InlineKeyboardMarkup:
    return _next_step_keyboard(lang, checklist(done_actions).next_step)


@functools.cache
def _next_step_keyboard(lang: str, step: str | None) -> InlineKeyboardMarkup:
    rows = [keyboards.menu_row(lang)]
    if step:
        rows.insert(
            0, [keyboards.button(lang, f"core.menu.button_{step}", keyboards.journey_data(step))]
        )
    return keyboards.Keyboard(rows)


def answer_keyboard(lang: str, followup_id: int) -> InlineKeyboardMarkup:
    """The answers to "Has your MP replied?" about one follow-up, one a row."""
    return _answers(lang, f"{ANSWER_PREFIX}{followup_id}")


def asked_keyboard(lang: str, broadcast_id: int) -> InlineKeyboardMarkup:
    """The answers under the fourteen-day question, which the broadcast `broadcast_id` asks
    many at once: each answer finds the follow-up it asked the person who taps."""
    return _answers(lang, f"{ASKED_PREFIX}{broadcast_id}")


def _answers(lang: str, data: str) -> InlineKeyboardMarkup:
    return keyboards.Keyboard(
        [
            [
                InlineKeyboardButton(
                    text(lang, f"mp.followup_{outcome}"), callback_data=f"{data}:{outcome}"
                )
            ]
            for outcome in REPLY_OUTCOMES
        ]
    )


def compose_letter(
    campaign: Campaign,
    letter_language: str,
    mp_name: str,
    constituency: str,
    personal_sentence: str | None,
    signature: str | None,
    *,
    event_day: dt.date | None = None,
) -> tuple[str, str]:
    """(subject, body) of the letter in `letter_language`, from the campaign template: the MP
    letter, or with `event_day` the request to meet on that lobby day.

    A blank personal sentence drops its paragraph; a blank signature signs as someone who lives
    in the constituency (not as a voter: many supporters cannot vote).
    """
    sentence = " ".join((personal_sentence or "").split())
    name = " ".join((signature or "").split())
    if len(sentence) > PERSONAL_SENTENCE_LIMIT:
        raise PersonalSentenceTooLong(PERSONAL_SENTENCE_LIMIT, len(sentence))
    if len(name) > SIGNATURE_LIMIT:
        raise SignatureTooLong(SIGNATURE_LIMIT, len(name))
    letter = campaign.meeting_request if event_day else campaign.mp_letter
    template = letter.body(letter_language)
    if not sentence:
        paragraphs = template.split("\n\n")
        template = "\n\n".join(p for p in paragraphs if p.strip() != "{personal_sentence}")
    values = {
        "mp_name": mp_name,
        "constituency": constituency,
        "personal_sentence": sentence,
        "signature": name
        or str(text(letter_language, "mp.anonymous_signature", constituency=constituency)),
        "event_date": date(letter_language, event_day, with_year=True) if event_day else None,
    }
    return letter.subject(letter_language).format_map(values), template.format_map(values)
