"""Write to your MP, end to end through the real Application: postcodes.io and the Members API are
faked at the HTTP edge in their documented shapes (shared with tests/bot/test_mps.py)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from telegram import Update

from bot.app.logs import QUIET
from bot.app.persistence import USER_DATA
from bot.mps import Constituency, looks_like_postcode
from bot.typed import says_something
from handlers.mp import LETTER
from messages import consent, keyboards
from messages import mp as screens
from messages.i18n import text
from messages.mp import FIND, KEEP_MIXED, REWRITE, SENT, SKIP_NAME, SKIP_SENTENCE
from messages.split import TEXT_LIMIT, visible_length
from tests.support.harness import running_bot
from tests.support.journeys import (
    PROPERTY,
    arbitrary_text,
    assert_safe_helpful_answer,
    letter_in,
    onboard,
    stored_bytes,
    url_buttons,
    use_services,
)
from tests.support.parliament import (
    ISLE_OF_MAN,
    JERSEY,
    NOT_FOUND,
    TERMINATED,
    WESTMINSTER,
    FakeServices,
    constituency_item,
    contacts,
    lookup_routes,
    member,
    postcode_found,
    search_result,
    timeout,
)

CANARY = "CanaryOkapi5519"
MANCHESTER = Constituency(code="E14001350", name="Manchester Central")
POSTCODE_FORMS = (b"SW1A 1AA", b"SW1A1AA", b"sw1a 1aa", b"sw1a1aa", b"SW1A%201AA")
async def at_postcode(chat, uid: int, language_code: str = "en") -> None:
    await onboard(chat, uid, language_code)
    await chat.press(uid, keyboards.journey_data("mp"), language_code)
    await chat.press(uid, FIND, language_code)


async def at_name(chat, uid: int, language_code: str = "en") -> None:
    await at_postcode(chat, uid, language_code)
    await chat.send(uid, "sw1a 1aa", language_code)


async def at_sentence(chat, uid: int, language_code: str = "en") -> None:
    await at_name(chat, uid, language_code)
    await chat.send(uid, "Ana Silva", language_code)


def photo_update(uid: int) -> Update:
    """A photo where text was expected, as Telegram would deliver it."""
    message = {
        "message_id": 900,
        "date": int(time.time()),
        "chat": {"id": uid, "type": "private", "first_name": "Ana"},
        "from": {"id": uid, "is_bot": False, "first_name": "Ana", "language_code": "en"},
        "photo": [{"file_id": "p", "file_unique_id": "p1", "width": 90, "height": 90}],
    }
    return Update.de_json({"update_id": 90_000, "message": message}, None)


# --- opening the journey ------------------------------------------------------------------------


async def test_menu_opens_the_journey_saying_the_postcode_is_not_kept(chat):
    await onboard(chat, 1)
    await chat.press(1, keyboards.journey_data("mp"))
    assert "postcode is only used to find your MP and is not kept" in chat.last_text(1)
    assert FIND in chat.button_data(1)
    await chat.press(1, FIND)
    assert "SW1A 1AA" in chat.last_text(1)


async def test_deep_link_opens_the_journey_after_onboarding_and_for_a_returning_supporter(chat):
    await chat.send(1, "/start mp")
    await chat.press(1, consent.OPTIN_DAILY)
    assert "Write to your MP" in chat.last_text(1)
    assert FIND in chat.button_data(1)
    await chat.send(1, "/start mp")
    assert FIND in chat.button_data(1)


async def test_supporter_who_already_wrote_is_thanked_on_the_first_screen(chat):
    await onboard(chat, 1)
    chat.storage.record_action(1, "mp_letter_sent", WESTMINSTER.code)
    await chat.press(1, keyboards.journey_data("mp"))
    assert "already written to your MP" in chat.last_text(1)


# --- the whole journey --------------------------------------------------------------------------


async def test_happy_path_from_postcode_to_the_letter_ready_to_send(chat):
    services = await use_services(chat, FakeServices(lookup_routes()))
    await at_postcode(chat, 1)
    replies = await chat.send(1, "  sw1a1AA ")
    found = replies[-1].text
    assert "Jane Example" in found and "Labour" in found and WESTMINSTER.name in found
    assert chat.storage.get_supporter(1)["constituency_code"] == WESTMINSTER.code
    assert services.asked("api.postcodes.io") == 1
    assert SKIP_NAME in chat.button_data(1)

    replies = await chat.send(1, "Ana Silva")
    assert "one sentence in your own words" in replies[-1].text
    assert "identical mass letters" in replies[-1].text
    assert SKIP_SENTENCE in chat.button_data(1)

    replies = await chat.send(1, "My neighbour was turned away from a refuge.")
    intro = replies[0].text
    assert "<code>jane.example.mp@parliament.uk</code>" in intro
    assert "Equal protection for migrant survivors of domestic abuse" in intro
    letter = letter_in(replies)
    assert letter.startswith("Dear Jane Example,")
    assert f"I live in {WESTMINSTER.name}" in letter
    assert "My neighbour was turned away from a refuge." in letter
    assert letter.endswith("Ana Silva")

    buttons = chat.buttons(1)
    copies = [button["copy_text"]["text"] for button in buttons if "copy_text" in button]
    assert copies == ["jane.example.mp@parliament.uk"]  # the letter is past the 256-char limit
    links = list(url_buttons(chat, 1).values())
    assert not any(link.startswith("mailto:") for link in links)
    assert any(urlsplit(link).netloc == "www.writetothem.com" for link in links)
    tweet = next(link for link in links if link.startswith("https://x.com/intent/tweet"))
    assert parse_qs(urlsplit(tweet).query)["text"][0].startswith("@JaneExampleMP ")
    assert SENT in chat.button_data(1)
    assert LETTER not in chat.app.user_data[1]


@pytest.mark.parametrize(
    ("code", "reminder"),
    [
        ("en", "Add your postal address</b> under your name"),
        ("pt", "Coloque seu endereço</b> embaixo do seu nome"),
        ("es", "Agrega tu dirección postal</b> debajo de tu nombre"),
    ],
)
async def test_the_hand_over_reminds_the_writer_to_add_their_address_and_never_asks(
    chat, code, reminder
):
    """Issue 13, point 7: MPs answer constituents who give their address; the bot says so
    when it hands the letter over, and never asks for the address or keeps one."""
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1, code)
    replies = await chat.send(1, "It matters to me.", code)
    if code != "en":  # read in their language, sent in English: that is the next tap
        replies = await chat.press(1, f"{screens.LETTER_LANGUAGE_PREFIX}en", code)
    handed_over = "\n".join(
        call.text for call in replies if call.method in ("sendMessage", "editMessageText")
    )
    assert reminder in handed_over
    assert "\n".join(chat.texts(1)).count(reminder) <= 1  # said at the hand-over, not before


async def test_i_have_sent_it_counts_the_letter_and_schedules_the_follow_up(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    await chat.send(1, "It matters to me.")
    await chat.press(1, SENT)
    data = chat.storage.personal_data(1)
    action = next(row for row in data["actions"] if row["kind"] == "mp_letter_sent")
    assert action["constituency_code"] == WESTMINSTER.code
    (followup,) = data["mp_followups"]
    sent_at, due_at = (dt.datetime.fromisoformat(followup[key]) for key in ("sent_at", "due_at"))
    assert (due_at - sent_at).days == 14
    assert followup["asked_at"] is None
    assert "Thank you for writing to your MP" in chat.last_text(1)
    assert keyboards.journey_data("petition") in chat.button_data(1)  # the next step


async def test_pressing_i_have_sent_it_twice_counts_once(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    await chat.press(1, SKIP_SENTENCE)
    await chat.press(1, SENT)
    await chat.press(1, SENT)
    data = chat.storage.personal_data(1)
    assert [row["kind"] for row in data["actions"]] == ["mp_letter_sent"]
    assert len(data["mp_followups"]) == 1


async def test_a_second_letter_to_another_mp_counts_and_the_question_asks_about_it(chat):
    services = FakeServices(lookup_routes())
    await use_services(chat, services)
    await at_sentence(chat, 1)
    await chat.press(1, SKIP_SENTENCE)
    await chat.press(1, SENT)
    # The first postcode was the wrong one: the supporter's own is in Manchester Central.
    manchester = postcode_found("M1 1AE")
    manchester["result"].update(
        parliamentary_constituency=MANCHESTER.name, parliamentary_constituency_2024=MANCHESTER.name
    )
    manchester["result"]["codes"].update(
        parliamentary_constituency=MANCHESTER.code, parliamentary_constituency_2024=MANCHESTER.code
    )
    sitting = member(5002, "Lucy Example", MANCHESTER.name, 4601)
    services.routes.update(
        {
            "/postcodes/M11AE": manchester,
            "/api/Location/Constituency/Search": search_result(
                constituency_item(4601, MANCHESTER.name, sitting)
            ),
            "/api/Members/5002/Contact": contacts(email="lucy.example.mp@parliament.uk"),
        }
    )
    await chat.press(1, keyboards.journey_data("mp"))
    await chat.press(1, FIND)
    await chat.send(1, "M1 1AE")
    await chat.press(1, SKIP_NAME)
    await chat.press(1, SKIP_SENTENCE)
    await chat.press(1, SENT)
    data = chat.storage.personal_data(1)
    letters = [row["constituency_code"] for row in data["actions"]]
    assert letters == [WESTMINSTER.code, MANCHESTER.code]
    (followup,) = data["mp_followups"]  # one question, about the MP written to last
    assert followup["constituency_code"] == MANCHESTER.code


async def test_i_have_sent_it_without_a_letter_handed_over_records_nothing(chat):
    """A stale or forged press (issue 13, point 5): no letter, no count, no reminder."""
    await onboard(chat, 1)
    calls = await chat.press(1, SENT)
    answers = [call.params.get("text") for call in calls if call.method == "answerCallbackQuery"]
    assert any("no letter waiting" in (answer or "") for answer in answers)
    data = chat.storage.personal_data(1)
    assert "actions" not in data and "mp_followups" not in data


async def test_i_have_sent_it_after_forget_records_nothing_and_brings_back_no_row(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    await chat.press(1, SKIP_SENTENCE)  # the letter is handed over
    await chat.send(1, "/forget")
    await chat.press(1, keyboards.FORGET_YES)
    calls = await chat.press(1, SENT)
    alerts = [call.params["text"] for call in calls if call.method == "answerCallbackQuery"]
    assert alerts and "/start" in alerts[0]
    assert chat.storage.personal_data(1) == {}
    assert chat.storage.get_supporter(1) is None


async def test_i_have_sent_it_still_counts_after_leaving_the_journey(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    await chat.press(1, SKIP_SENTENCE)
    await chat.send(1, "/menu")
    await chat.press(1, SENT)
    assert "mp_letter_sent" in chat.storage.done_actions(1)


async def test_skipping_name_and_sentence_signs_as_a_resident_without_a_blank_paragraph(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_name(chat, 1)
    await chat.press(1, SKIP_NAME)
    before = len(chat.api.calls)
    await chat.press(1, SKIP_SENTENCE)
    letter = letter_in(chat.api.calls[before:])
    assert letter.endswith(f"A resident of {WESTMINSTER.name}")
    assert "\n\n\n" not in letter


async def test_letter_is_read_in_portuguese_and_sent_in_english_by_default(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1, "pt-br")
    replies = await chat.send(1, "Isto importa-me.", "pt-br")
    assert "sua carta em português" in replies[0].text
    assert any(r.text.startswith("<blockquote>Prezado(a) Jane Example") for r in replies)
    assert "recomendamos o inglês" in replies[-1].text
    assert chat.button_data(1)[:2] == ["mp:letter:en", "mp:letter:pt"]
    assert chat.buttons(1)[0]["text"] == "Inglês (recomendado)"
    before = len(chat.api.calls)
    await chat.press(1, "mp:letter:en", "pt-br")
    handed_over = chat.api.calls[before:]
    assert letter_in(handed_over).startswith("Dear Jane Example,")
    assert "Já enviei" in str(chat.buttons(1))  # the supporter's own language around it


async def test_letter_can_go_to_the_mp_in_the_supporters_language(chat):
    """A sentence in the letter's language goes straight through."""
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1, "es")
    await chat.send(1, "Ninguna mujer debería tener miedo de pedir ayuda.", "es")
    before = len(chat.api.calls)
    await chat.press(1, "mp:letter:es", "es")
    assert letter_in(chat.api.calls[before:]).startswith("Estimado/a Jane Example")


PORTUGUESE_SENTENCE = "Minha irmã passou por isso e não teve para onde ir."


async def test_a_sentence_in_another_language_than_the_letter_is_said_before_handing_over(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1, "pt-br")
    await chat.send(1, PORTUGUESE_SENTENCE, "pt-br")
    before = len(chat.api.calls)
    await chat.press(1, "mp:letter:en", "pt-br")  # English (recommended)

    assert letter_in(chat.api.calls[before:]) == ""  # nothing handed over yet
    assert "sua frase está em português, mas a carta está em inglês" in chat.last_text(1)
    assert chat.button_data(1) == [REWRITE, "mp:letter:pt", KEEP_MIXED]
    before = len(chat.api.calls)
    await chat.press(1, "mp:letter:pt", "pt-br")  # the letter in the sentence's language
    letter = letter_in(chat.api.calls[before:])
    assert letter.startswith("Prezado(a) Jane Example") and PORTUGUESE_SENTENCE in letter


async def test_the_sentence_can_be_written_again_in_the_letters_language(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1, "pt-br")
    await chat.send(1, PORTUGUESE_SENTENCE, "pt-br")
    await chat.press(1, "mp:letter:en", "pt-br")
    await chat.press(1, REWRITE, "pt-br")
    assert "Escreva sua frase de novo em inglês" in chat.last_text(1)
    before = len(chat.api.calls)
    await chat.send(1, "My sister went through this and had nowhere to go.", "pt-br")
    letter = letter_in(chat.api.calls[before:])  # straight to the English letter
    assert letter.startswith("Dear Jane Example,")
    assert "My sister went through this" in letter and PORTUGUESE_SENTENCE not in letter


async def test_an_english_speaker_writing_in_spanish_can_keep_the_letter_as_it_is(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    spanish = "Ninguna mujer debería tener miedo de pedir ayuda."
    await chat.send(1, spanish)
    assert "Your sentence seems to be in Spanish, but the letter is in English" in chat.last_text(1)
    assert chat.buttons(1)[1]["text"] == "Send the letter in Spanish"
    before = len(chat.api.calls)
    await chat.press(1, KEEP_MIXED)
    letter = letter_in(chat.api.calls[before:])
    assert letter.startswith("Dear Jane Example,") and spanish in letter


async def test_mp_without_x_account_gets_no_tweet_button(chat):
    routes = lookup_routes(**{"/api/Members/5001/Contact": contacts()})
    await use_services(chat, FakeServices(routes))
    await at_sentence(chat, 1)
    await chat.press(1, SKIP_SENTENCE)
    assert not any("x.com" in url for url in url_buttons(chat, 1).values())


@pytest.mark.parametrize("language_code", ["en", "pt", "es"])
async def test_mp_without_any_email_is_reached_through_writetothem_as_the_only_way(
    chat, language_code
):
    no_contacts = {"value": [], "links": []}
    await use_services(
        chat, FakeServices(lookup_routes(**{"/api/Members/5001/Contact": no_contacts}))
    )
    await at_sentence(chat, 1, language_code)
    await chat.press(1, SKIP_SENTENCE, language_code)
    if language_code != "en":
        await chat.press(1, f"{screens.LETTER_LANGUAGE_PREFIX}en", language_code)
    assert not any("copy_text" in button for button in chat.buttons(1))
    assert any("writetothem" in url for url in url_buttons(chat, 1).values())
    actions = chat.last_text(1)
    assert actions == text(language_code, "mp.handover_actions_no_email")
    # WriteToThem is the only way, not "also" a way
    assert not re.search(r"\balso\b|também|también", actions)


async def test_an_mp_with_an_email_is_written_to_by_email_with_writetothem_as_the_other_way(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    await chat.press(1, SKIP_SENTENCE)
    assert "WriteToThem can also send it" in chat.last_text(1)


async def test_a_letter_full_of_escaped_characters_is_sent_whole_within_telegrams_limit(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_name(chat, 1)
    await chat.send(1, "&" * 100)
    replies = await chat.send(1, '"' * 500)  # 3,000 characters once escaped; Telegram counts 500
    blocks = [call.text for call in replies if call.text.startswith("<pre>")]
    assert blocks and all(visible_length(block) <= TEXT_LIMIT for block in blocks)
    letter = letter_in(replies)
    assert '"' * 500 in letter and letter.endswith("&" * 100)


# --- a postcode typed wherever the journey can take it (a newcomer's finds) ----------------------


@pytest.mark.parametrize("opening", ["menu", "deep link"])
async def test_a_postcode_typed_on_the_first_screen_finds_the_mp(chat, opening):
    """Before "Find my MP" is pressed, the postcode is already what the screen is about."""
    services = await use_services(chat, FakeServices(lookup_routes()))
    await onboard(chat, 1)
    if opening == "menu":
        await chat.press(1, keyboards.journey_data("mp"))
    else:
        await chat.send(1, "/start mp")
    assert FIND in chat.button_data(1)
    replies = await chat.send(1, "SW1A 1AA")
    assert "Jane Example" in replies[-1].text
    assert SKIP_NAME in chat.button_data(1)
    assert services.asked("api.postcodes.io") == 1
    await chat.send(1, "Ana Silva")  # and the journey goes on from there
    assert SKIP_SENTENCE in chat.button_data(1)


async def test_half_a_postcode_on_the_first_screen_asks_for_the_rest_then_takes_it(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await onboard(chat, 1)
    await chat.press(1, keyboards.journey_data("mp"))
    replies = await chat.send(1, "SW1A")
    assert "only the first half of a postcode" in replies[-1].text
    replies = await chat.send(1, "SW1A 1AA")
    assert "Jane Example" in replies[-1].text


@pytest.mark.parametrize("step", ["name", "sentence"])
async def test_a_postcode_sent_again_at_a_later_step_is_a_postcode_not_words_of_the_letter(
    chat, step
):
    """Someone who corrects their postcode is not signing as "SW1A 1AA"."""
    services = await use_services(chat, FakeServices(lookup_routes()))
    await (at_name if step == "name" else at_sentence)(chat, 1)
    replies = await chat.send(1, "sw1a-1aa")
    assert "Jane Example" in replies[-1].text  # looked up again
    assert services.asked("api.postcodes.io") == 2
    assert SKIP_NAME in chat.button_data(1)
    await chat.send(1, "Ana Silva")
    replies = await chat.send(1, "It matters to me.")
    letter = letter_in(replies)
    assert letter.endswith("Ana Silva") and "SW1A" not in letter.upper()


async def test_a_postcode_outside_the_journey_gets_the_button_that_uses_it_and_is_not_kept(chat):
    services = await use_services(chat, FakeServices(lookup_routes()))
    await onboard(chat, 1, "pt")
    await chat.press(1, keyboards.journey_data("mp"), "pt")
    await chat.press(1, keyboards.MENU, "pt")  # the first screen left for the menu
    (hint,) = await chat.send(1, "SW1A 1AA", "pt")
    assert hint.text == text("pt", "core.errors.postcode_hint")
    assert keyboards.journey_data("mp") in chat.button_data(1)
    assert services.requests == []
    await chat.press(1, keyboards.journey_data("mp"), "pt")
    replies = await chat.send(1, "SW1A 1AA", "pt")  # on the first screen again: taken
    assert "Jane Example" in replies[-1].text
    assert not any("SW1A" in repr(data).upper() for data in chat.app.user_data.values())
    assert b"SW1A" not in stored_bytes(chat.app.bot_data.settings).upper()


async def test_anything_else_outside_a_journey_is_still_not_understood(chat):
    await onboard(chat, 1)
    await chat.press(1, keyboards.journey_data("mp"))
    (answer,) = await chat.send(1, "hello")
    assert "I didn't understand" in answer.text


# --- the postcode step: every way it can go wrong ----------------------------------------------


async def test_malformed_postcode_gets_an_example_and_is_asked_again(chat):
    services = await use_services(chat, FakeServices(lookup_routes()))
    await at_postcode(chat, 1)
    replies = await chat.send(1, "my house")
    assert "<code>SW1A 1AA</code>" in replies[-1].text
    assert services.requests == []
    replies = await chat.send(1, "SW1A 1AA")
    assert "Jane Example" in replies[-1].text


@pytest.mark.parametrize("typed", ["SW1A-1AA", " sw1a  1aa.", "(SW1A 1AA)", "sw1a1aa"])
async def test_postcode_with_punctuation_or_odd_spacing_finds_the_mp(chat, typed):
    services = await use_services(chat, FakeServices(lookup_routes()))
    await at_postcode(chat, 1)
    replies = await chat.send(1, typed)
    assert "Jane Example" in replies[-1].text
    assert services.requests[0].url.path == "/postcodes/SW1A1AA"


async def test_first_half_of_a_postcode_asks_for_the_full_one(chat):
    services = await use_services(chat, FakeServices(lookup_routes()))
    await at_postcode(chat, 1)
    replies = await chat.send(1, "SW1A")
    assert "send your full postcode" in replies[-1].text
    assert services.requests == []
    replies = await chat.send(1, "SW1A 1AA")
    assert "Jane Example" in replies[-1].text


@pytest.mark.parametrize(("typed", "answer"), [("JE2 4WD", JERSEY), ("im1 1ad", ISLE_OF_MAN)])
async def test_crown_dependency_postcode_is_told_plainly_there_is_no_mp(chat, typed, answer):
    path = f"/postcodes/{answer['result']['postcode'].replace(' ', '')}"
    services = await use_services(chat, FakeServices(lookup_routes(**{path: answer})))
    await at_postcode(chat, 1)
    replies = await chat.send(1, typed)
    assert "no MP at Westminster" in replies[-1].text
    assert "couldn't find" not in replies[-1].text
    assert services.asked("members-api.parliament.uk") == 0
    assert chat.storage.get_supporter(1)["constituency_code"] is None
    replies = await chat.send(1, "SW1A 1AA")  # someone with a second home can still write
    assert "Jane Example" in replies[-1].text


async def test_crown_dependency_answer_is_in_the_supporters_language(chat):
    await use_services(chat, FakeServices(lookup_routes(**{"/postcodes/JE24WD": JERSEY})))
    await at_postcode(chat, 1, "pt-br")
    replies = await chat.send(1, "JE2 4WD", "pt-br")
    assert "Westminster" in replies[-1].text
    assert "Ilha de Man" in replies[-1].text


async def test_unknown_postcode_is_asked_again(chat):
    await use_services(chat, FakeServices(lookup_routes(**{"/postcodes/XX11XX": NOT_FOUND})))
    await at_postcode(chat, 1)
    replies = await chat.send(1, "xx1 1xx")
    assert "couldn't find that postcode" in replies[-1].text
    replies = await chat.send(1, "SW1A 1AA")
    assert "Jane Example" in replies[-1].text


async def test_terminated_postcode_is_said_to_be_no_longer_in_use(chat):
    routes = lookup_routes(
        **{"/postcodes/E1W1UU": NOT_FOUND, "/terminated_postcodes/E1W1UU": TERMINATED}
    )
    await use_services(chat, FakeServices(routes))
    await at_postcode(chat, 1)
    replies = await chat.send(1, "e1w 1uu")
    assert "no longer in use" in replies[-1].text


async def test_vacant_seat_names_the_constituency_and_offers_writetothem(chat):
    vacant = search_result(constituency_item(4600, WESTMINSTER.name, None))
    routes = lookup_routes(**{"/api/Location/Constituency/Search": vacant})
    services = await use_services(chat, FakeServices(routes))
    await at_postcode(chat, 1)
    replies = await chat.send(1, "sw1a1aa")
    assert f"The seat for {WESTMINSTER.name} has no MP" in replies[-1].text
    (link,) = url_buttons(chat, 1).values()
    assert parse_qs(urlsplit(link).query) == {"a": ["westminstermp"]}  # no postcode in the chat
    services.routes.update(lookup_routes())  # the seat filled, or another postcode
    replies = await chat.send(1, "sw1a1aa")
    assert "Jane Example" in replies[-1].text  # still read as a postcode: the MP found
    assert SKIP_NAME in chat.button_data(1)


@pytest.mark.parametrize(
    "routes",
    [
        lookup_routes(**{"/postcodes/SW1A1AA": 503}),
        lookup_routes(**{"/postcodes/SW1A1AA": timeout}),
        lookup_routes(**{"/api/Location/Constituency/Search": timeout}),
        lookup_routes(**{"/api/Members/5001/Contact": 500}),
    ],
    ids=["postcodes-503", "postcodes-timeout", "members-timeout", "contacts-500"],
)
async def test_lookup_service_down_offers_writetothem_without_the_postcode(chat, routes):
    services = await use_services(chat, FakeServices(routes))
    await at_postcode(chat, 1)
    replies = await chat.send(1, "SW1A 1AA")
    assert "can't reach the MP lookup service" in replies[-1].text
    (link,) = url_buttons(chat, 1).values()
    assert parse_qs(urlsplit(link).query) == {"a": ["westminstermp"]}
    assert FIND in chat.button_data(1)  # try again
    services.routes.update(lookup_routes())  # the service is back
    replies = await chat.send(1, "SW1A 1AA")  # sent again, as the message says
    assert "Jane Example" in replies[-1].text


async def test_every_writetothem_link_is_the_same_and_carries_no_postcode(chat):
    """Issue: the vacant seat's link had the postcode (kept by Telegram), the hand-over's not."""
    down = lookup_routes(**{"/postcodes/SW1A1AA": 503})
    services = await use_services(chat, FakeServices(down))
    await at_postcode(chat, 1)
    await chat.send(1, "SW1A 1AA")
    fallback = {url for url in url_buttons(chat, 1).values() if "writetothem" in url}
    services.routes.update(lookup_routes())
    await chat.send(1, "SW1A 1AA")
    await chat.press(1, SKIP_NAME)
    await chat.press(1, SKIP_SENTENCE)
    handover = {url for url in url_buttons(chat, 1).values() if "writetothem" in url}
    assert fallback == handover and len(handover) == 1
    assert not any("pc=" in repr(call.params) for call in chat.api.calls)
    (privacy,) = await chat.send(1, "/privacy")
    assert "no link I send you carries it" in privacy.text


async def test_postcode_is_never_stored_or_logged(settings, api, caplog):
    caplog.set_level(logging.DEBUG)
    for name in QUIET:  # as bot.app.logs sets them in production
        caplog.set_level(logging.WARNING, logger=name)
    async with running_bot(settings, api) as chat:
        await use_services(chat, FakeServices(lookup_routes()))
        await at_name(chat, 1)
        await chat.send(1, "Ana")
        await chat.press(1, SKIP_SENTENCE)
        await chat.press(1, SENT)
        await use_services(chat, FakeServices(lookup_routes(**{"/postcodes/SW1A1AA": 503})))
        await chat.press(1, FIND)
        await chat.send(1, "sw1a1aa")
        assert not any("SW1A" in repr(data).upper() for data in chat.app.user_data.values())
        chat.storage.checkpoint()
        stored = stored_bytes(settings)
    assert WESTMINSTER.code.encode() in stored
    for form in POSTCODE_FORMS:
        assert form not in stored
        assert form.decode() not in caplog.text


# --- the name and sentence steps ----------------------------------------------------------------


async def test_over_long_name_is_refused_with_the_limit_and_asked_again(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_name(chat, 1)
    replies = await chat.send(1, "b" * 101)
    assert "has 101 characters, and it can be up to 100 characters" in replies[-1].text
    assert chat.button_data(1) == [SKIP_NAME]  # the way on, offered again
    replies = await chat.send(1, "Ana")
    assert "one sentence in your own words" in replies[-1].text


async def test_over_long_sentence_is_refused_with_the_limit_and_asked_again(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    replies = await chat.send(1, "a" * 501)
    assert "has 501 characters, and it can be up to 500 characters" in replies[-1].text
    assert chat.button_data(1) == [SKIP_SENTENCE]
    replies = await chat.send(1, "Short and mine.")
    assert "Short and mine." in letter_in(replies)


async def test_a_photo_instead_of_text_is_answered_kindly(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_name(chat, 1)
    await chat.app.process_update(photo_update(1))
    assert "text message" in chat.last_text(1)
    replies = await chat.send(1, "Ana")
    assert "one sentence" in replies[-1].text


async def test_a_button_from_an_earlier_step_is_answered_and_the_journey_waits(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    for stale in (SKIP_NAME, "mp:letter:fr", "mp:nonsense"):
        replies = await chat.press(1, stale)
        answers = [call for call in replies if call.method == "answerCallbackQuery"]
        assert "earlier step" in answers[0].params["text"]
    replies = await chat.send(1, "Still here.")
    assert "Still here." in letter_in(replies)


# --- leaving, restarting, forgetting ------------------------------------------------------------


async def test_journey_continues_after_a_restart_half_way(settings, api):
    async with running_bot(settings, api) as chat:
        await use_services(chat, FakeServices(lookup_routes()))
        await at_name(chat, 1)
    async with running_bot(settings, api) as chat:
        services = await use_services(chat, FakeServices(lookup_routes()))
        replies = await chat.send(1, "Ana")
        assert "one sentence in your own words" in replies[-1].text
        replies = await chat.send(1, "After the restart.")
        letter = letter_in(replies)
        assert letter.startswith("Dear Jane Example,")
        assert "After the restart." in letter
        assert services.requests == []  # the MP found before the restart was kept


async def test_a_step_the_database_refused_to_save_is_saved_with_the_next(settings, api):
    """The database refuses the write after the postcode step (a full disk, a lock held past
    the busy timeout): the supporter carries on, the step is kept and saved with the next one,
    so a restart resumes where they were. The step's state lands in one transaction: never the
    letter's data without the conversation's state, or the reverse."""
    async with running_bot(settings, api) as chat:
        await use_services(chat, FakeServices(lookup_routes()))
        await at_postcode(chat, 1)
        saved = chat.storage.load_conversations("mp"), chat.storage.load_json_rows(*USER_DATA)
        chat.storage.db.execute(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON conversations "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        replies = await chat.send(1, "SW1A 1AA")
        assert any("Your MP is <b>Jane Example</b>" in call.text for call in replies)
        # Nothing of the step was written, not even the MP found (user_data comes first)
        now = chat.storage.load_conversations("mp"), chat.storage.load_json_rows(*USER_DATA)
        assert now == saved
        chat.storage.db.execute("DROP TRIGGER refuse")
        await chat.send(1, "Ana")
    async with running_bot(settings, api) as chat:
        services = await use_services(chat, FakeServices(lookup_routes()))
        replies = await chat.send(1, "After the restart.")
        letter = letter_in(replies)
        assert letter.startswith("Dear Jane Example,")
        assert "Ana" in letter
        assert services.requests == []


async def test_a_postcode_typed_on_the_first_screen_after_a_restart_still_finds_the_mp(
    settings, api
):
    """The first screen is remembered with the rest of the supporter's state: a restart
    between showing it and the postcode typed there changes nothing."""
    async with running_bot(settings, api) as chat:
        await onboard(chat, 1)
        await chat.press(1, keyboards.journey_data("mp"))
        assert FIND in chat.button_data(1)
        page = "\n".join(call.text for call in await chat.send(1, "/mydata"))
        assert "Which screen I showed you last" in page  # /mydata shows what is kept...
        await chat.press(1, keyboards.journey_data("mp"))  # ...and replaced the screen
    async with running_bot(settings, api) as chat:
        services = await use_services(chat, FakeServices(lookup_routes()))
        replies = await chat.send(1, "SW1A 1AA")
        assert "Jane Example" in replies[-1].text
        assert services.asked("api.postcodes.io") == 1


async def test_menu_mid_way_ends_the_journey_and_drops_the_letter(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    replies = await chat.send(1, "/menu")
    assert "Your progress" in replies[-1].text
    assert LETTER not in chat.app.user_data[1]
    assert chat.storage.load_conversations("mp") == {}
    replies = await chat.send(1, CANARY)
    assert not any(CANARY in call.text for call in replies)


async def test_journey_whose_data_was_erased_meanwhile_starts_again_without_an_error(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_name(chat, 1)
    chat.app.user_data[1].clear()  # e.g. the retention purge ran while they were writing
    replies = await chat.send(1, "Ana")
    assert "Write to your MP" in replies[-1].text
    assert FIND in chat.button_data(1)


async def test_letter_text_is_gone_from_database_wal_and_user_data_after_sending(settings, api):
    async with running_bot(settings, api) as chat:
        await use_services(chat, FakeServices(lookup_routes()))
        await at_sentence(chat, 1)
        await chat.send(1, f"My own words {CANARY}.")
        await chat.press(1, SENT)
        assert CANARY not in repr(dict(chat.app.user_data))
        chat.storage.checkpoint()
        assert CANARY.encode() not in stored_bytes(settings)
        assert "mp_letter_sent" in chat.storage.done_actions(1)


# --- arbitrary text at every free-text step (X3) ------------------------------------------------

@PROPERTY
@given(typed=arbitrary_text.filter(lambda s: s.strip() and not s.startswith("/")))
async def test_any_text_as_a_postcode_gets_a_safe_helpful_answer(chat, typed):
    await use_services(chat, FakeServices(lookup_routes()))
    chat.storage.ensure_supporter(1, "en")  # started, as /start leaves them
    await chat.press(1, FIND)
    assert_safe_helpful_answer(await chat.send(1, typed))


@PROPERTY
@given(typed=arbitrary_text.filter(lambda s: s.strip() and not s.startswith("/")))
async def test_any_text_as_a_name_gets_a_safe_helpful_answer(chat, typed):
    await use_services(chat, FakeServices(lookup_routes()))
    chat.storage.ensure_supporter(1, "en")  # started, as /start leaves them
    await chat.press(1, FIND)
    await chat.send(1, "SW1A 1AA")
    assert_safe_helpful_answer(await chat.send(1, typed))


@PROPERTY
@given(typed=arbitrary_text.filter(lambda s: s.strip() and not s.startswith("/")))
async def test_any_text_as_the_sentence_gets_a_safe_helpful_answer(chat, typed):
    await use_services(chat, FakeServices(lookup_routes()))
    chat.storage.ensure_supporter(1, "en")  # started, as /start leaves them
    await chat.press(1, FIND)
    await chat.send(1, "SW1A 1AA")
    await chat.press(1, SKIP_NAME)
    replies = await chat.send(1, typed)
    assert_safe_helpful_answer(replies)
    answered = " ".join(c.text for c in replies)
    if looks_like_postcode(typed):  # e.g. "A0": taken as a postcode at any step of the journey
        assert "postcode" in answered
        return
    if not says_something(typed):
        assert "can't see any words" in answered
        return
    if "Your sentence seems to be in" in answered:  # e.g. "AAAAAAAApaña", read as Spanish
        assert KEEP_MIXED in str(replies[-1].params)  # the letter is a tap away
        return
    if len(" ".join(typed.split())) <= 500:
        assert " ".join(typed.split()) in letter_in(replies)
    assert re.search(r"can be up to 500 characters|Your letter to", answered)


@pytest.mark.parametrize("invisible", ["\u200b\u200b", "\u3164", " \u2060 "])
async def test_an_invisible_name_or_sentence_is_asked_for_again_kindly(chat, invisible):
    """Issue 13, point 6: the letter is never signed with nothing, nor given an empty line."""
    await use_services(chat, FakeServices(lookup_routes()))
    await at_name(chat, 1)
    replies = await chat.send(1, invisible)
    assert "can't see a name" in replies[-1].text
    assert SKIP_NAME in chat.button_data(1)
    await chat.send(1, "Ana")
    replies = await chat.send(1, invisible)
    assert "can't see any words" in replies[-1].text
    assert chat.app.user_data[1][LETTER].get("sentence") is None


@pytest.mark.parametrize(
    ("language_code", "typed_for_name", "typed_for_sentence"),
    [("en", "Skip", "skip"), ("pt-br", "PULAR", "pular"), ("es", "Omitir.", "omitir")],
)
async def test_typing_the_skip_buttons_word_skips_in_the_persons_language(
    chat, language_code, typed_for_name, typed_for_sentence
):
    await use_services(chat, FakeServices(lookup_routes()))
    await at_name(chat, 1, language_code)
    await chat.send(1, typed_for_name, language_code)
    assert SKIP_SENTENCE in chat.button_data(1)  # on to the sentence, unsigned
    replies = await chat.send(1, typed_for_sentence, language_code)
    if language_code != "en":
        replies = await chat.press(1, f"{screens.LETTER_LANGUAGE_PREFIX}en", language_code)
    letter = letter_in(replies)
    assert letter.endswith(f"A resident of {WESTMINSTER.name}")
    assert typed_for_sentence not in letter.lower()


async def test_typing_menu_at_the_postcode_step_leaves_for_the_menu(chat):
    await at_postcode(chat, 1, "es")
    replies = await chat.send(1, "menu", "es")  # the button says "⬅️ Menú"
    assert keyboards.journey_data("mp") in chat.button_data(1)  # the menu, not "malformed"
    assert "no parece un código postal" not in replies[-1].text
    replies = await chat.send(1, "sw1a 1aa", "es")  # the journey is over: not looked up
    assert "Eso parece un código postal" in replies[-1].text
    assert LETTER not in chat.app.user_data[1]


async def test_changing_language_mid_letter_carries_the_letter_on_in_the_new_language(chat):
    """Newcomer report: /language at the sentence step threw the letter away."""
    await use_services(chat, FakeServices(lookup_routes()))
    await at_sentence(chat, 1)
    await chat.send(1, "/language")
    replies = await chat.press(1, f"{keyboards.LANGUAGE_PREFIX}es")
    said = [call.text for call in replies if call.text]
    assert any("No se perdió nada" in words for words in said)
    assert "una frase con tus propias palabras" in chat.last_text(1)  # the same step, in Spanish
    assert SKIP_SENTENCE in chat.button_data(1)
    await chat.send(1, "My neighbour was turned away from a refuge.", "es")
    replies = await chat.press(1, f"{screens.LETTER_LANGUAGE_PREFIX}en", "es")
    letter = letter_in(replies)
    assert "My neighbour was turned away from a refuge." in letter
    assert letter.endswith("Ana Silva")  # the name typed before the change


@pytest.mark.parametrize("step", [at_postcode, at_name, at_sentence])
async def test_mydata_mid_letter_shows_the_page_then_asks_the_step_again(chat, step):
    """The page said "part-way through a letter to your MP" and then nothing: the supporter
    did not know the bot was still waiting for their postcode, name or sentence."""
    await use_services(chat, FakeServices(lookup_routes()))
    await step(chat, 1, "pt-br")
    question, buttons = chat.last_text(1), chat.button_data(1)
    replies = await chat.send(1, "/mydata", "pt-br")
    assert "Tudo o que guardo sobre você" in replies[0].text
    assert (replies[-1].text, chat.button_data(1)) == (question, buttons)


@pytest.mark.parametrize("step", [at_postcode, at_name])
async def test_changing_language_at_any_step_asks_that_step_again(chat, step):
    await use_services(chat, FakeServices(lookup_routes()))
    await step(chat, 1)
    before = chat.button_data(1)
    await chat.press(1, keyboards.MENU_LANGUAGE, message_id=1)  # the menu's button, on an old menu
    await chat.press(1, f"{keyboards.LANGUAGE_PREFIX}pt")
    assert chat.button_data(1) == before  # the step's own buttons, in Portuguese
    assert chat.storage.get_supporter(1)["language"] == "pt"
