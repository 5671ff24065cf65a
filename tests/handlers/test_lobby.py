"""Lobby days end to end, through the real Application and the offline Bot API: organisers
compose, edit and cancel an event; supporters say yes with their postcode (postcodes.io and the
Members API faked at the HTTP edge in their real shapes), ask their MP for a meeting, call the
office, read the guide, cancel, and afterwards say how it went and may tell a story."""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from bot import lobby, mps
from bot.clock import EXAMPLE_FORMAT
from bot.consent import UPDATES, WHATS_NEXT
from bot.storage import utcnow
from bot.storage.broadcasts import Selection
from handlers.lobby import COMPOSER
from messages import consent, keyboards, text
from messages import lobby as screens
from messages.mp import SKIP_NAME, SKIP_SENTENCE
from scheduler import lobby as jobs
from tests.support.broadcasts import finish
from tests.support.harness import ORGANISER_ID, tags_in
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
    JERSEY,
    WESTMINSTER,
    FakeServices,
    constituency_item,
    contacts,
    lookup_routes,
    never_answers,
    search_result,
)

ORGANISER = ORGANISER_ID
LONDON = ZoneInfo("Europe/London")
REFUSAL = "only for campaign organisers"

pytestmark = pytest.mark.filterwarnings(
    # The harness initialises the Application without starting it, so PTB warns that it will
    # not await background tasks at stop; the tests await them themselves (`finish`).
    "ignore:Tasks created via:telegram.warnings.PTBUserWarning"
)


def local(days: int, hour: int = 10) -> dt.datetime:
    """`days` from today at `hour`:00, London time (the bot's time zone)."""
    day = (utcnow().astimezone(LONDON) + dt.timedelta(days=days)).date()
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=LONDON)


def typed_at(moment: dt.datetime) -> str:
    return moment.strftime(EXAMPLE_FORMAT)


async def create_event(chat, *, days: int = 7, deadline_days: int | None = 5) -> int:
    """An organiser composes a lobby day: English texts, a Portuguese title and what to bring,
    no Spanish version. Returns its id."""
    await chat.send(ORGANISER, "/lobby")
    await chat.press(ORGANISER, screens.NEW)
    await chat.send(ORGANISER, "Mass lobby for equal protection")
    await chat.send(ORGANISER, typed_at(local(days)))
    await chat.send(ORGANISER, "Central Lobby, Houses of Parliament, London SW1A 0AA")
    await chat.send(ORGANISER, "Photo ID for security")
    await chat.send(ORGANISER, "masslobby")
    if deadline_days is None:
        await chat.press(ORGANISER, screens.SKIP)
    else:
        await chat.send(ORGANISER, typed_at(local(deadline_days, 18)))
    await chat.press(ORGANISER, f"{screens.VERSION}pt")
    await chat.send(ORGANISER, "Lobby em massa por proteção igual")
    await chat.press(ORGANISER, screens.SKIP)  # the place: English for Portuguese speakers
    await chat.send(ORGANISER, "Documento com foto")
    await chat.press(ORGANISER, screens.SAVE)
    (row, *_) = chat.storage.lobby_events()
    return row["id"]


async def going(chat, uid: int, event_id: int, language_code: str = "en") -> list:
    """A supporter says yes with their postcode; returns the bot's answer to the postcode."""
    await onboard(chat, uid, language_code)
    await chat.press(uid, f"{screens.YES}{event_id}", language_code)
    return await chat.send(uid, "sw1a 1aa", language_code)


@pytest.fixture
async def lobby_chat(chat):
    await use_services(chat, FakeServices(lookup_routes()))
    return chat


# --- organisers ---------------------------------------------------------------------------------


async def test_organiser_composes_a_lobby_day_and_is_told_which_languages_fall_back(lobby_chat):
    chat = lobby_chat
    await chat.send(ORGANISER, "/lobby")
    assert "No lobby days yet" in chat.last_text(ORGANISER)
    await chat.press(ORGANISER, screens.NEW)
    assert "in English" in chat.last_text(ORGANISER)
    await chat.send(ORGANISER, "Mass lobby")
    assert "Send the date and time (British Time)" in chat.last_text(ORGANISER)
    await chat.send(ORGANISER, "next tuesday maybe")
    assert "couldn't read that time" in chat.last_text(ORGANISER)
    await chat.send(ORGANISER, typed_at(local(-1)))
    assert "already passed" in chat.last_text(ORGANISER)
    await chat.send(ORGANISER, typed_at(local(7)))
    await chat.send(ORGANISER, "Central Lobby")
    await chat.press(ORGANISER, screens.SKIP)  # nothing to bring
    await chat.send(ORGANISER, "#mass lobby")
    assert "one hashtag" in chat.last_text(ORGANISER)
    await chat.send(ORGANISER, "#MassLobby")
    await chat.send(ORGANISER, typed_at(local(8)))
    assert "must be before the lobby day starts" in chat.last_text(ORGANISER)
    await chat.send(ORGANISER, typed_at(local(6)))
    review = chat.last_text(ORGANISER)
    assert "Check the lobby day" in review and "#MassLobby" in review
    assert "Portuguese: not given, supporters see the English texts" in review
    assert "Spanish: not given" in review
    await chat.press(ORGANISER, f"{screens.VERSION}pt")
    await chat.send(ORGANISER, "Lobby em massa")
    await chat.press(ORGANISER, screens.SKIP)
    review = chat.last_text(ORGANISER)
    assert "Portuguese: its own title; English for the rest" in review
    await chat.press(ORGANISER, screens.SAVE)
    assert "t.me/StepUpBot?start=lobby" in chat.texts(ORGANISER)[-2]
    (row,) = chat.storage.lobby_events()
    assert row["title"] == {"en": "Mass lobby", "pt": "Lobby em massa"}
    assert row["bring"] == {} and row["hashtag"] == "#MassLobby"
    assert dt.datetime.fromisoformat(row["starts_at"]) == local(7)
    assert dt.datetime.fromisoformat(row["rsvp_deadline"]) == local(6)


async def test_changing_language_while_planning_a_lobby_day_keeps_what_was_typed(lobby_chat):
    """/language in the composer, at a step and on the review screen: nothing typed is lost,
    and the step is asked again in the new language."""
    chat = lobby_chat
    await chat.send(ORGANISER, "/start")  # the language is kept on the organiser's own row
    await chat.press(ORGANISER, consent.OPTIN_NONE)
    await chat.send(ORGANISER, "/lobby")
    await chat.press(ORGANISER, screens.NEW)
    await chat.send(ORGANISER, "Mass lobby")
    await chat.send(ORGANISER, "/language")
    await chat.press(ORGANISER, f"{keyboards.LANGUAGE_PREFIX}pt")
    assert "Quando começa?" in chat.last_text(ORGANISER)
    assert chat.app.user_data[ORGANISER][COMPOSER]["texts"]["title"] == {"en": "Mass lobby"}
    await chat.send(ORGANISER, typed_at(local(7)))
    await chat.send(ORGANISER, "Central Lobby")
    await chat.press(ORGANISER, screens.SKIP)
    await chat.send(ORGANISER, "#MassLobby")
    await chat.press(ORGANISER, screens.SKIP)
    await chat.send(ORGANISER, "/language")
    await chat.press(ORGANISER, f"{keyboards.LANGUAGE_PREFIX}en")
    assert "Check the lobby day" in chat.last_text(ORGANISER)
    await chat.press(ORGANISER, screens.SAVE)
    (row,) = chat.storage.lobby_events()
    assert row["title"] == {"en": "Mass lobby"} and row["hashtag"] == "#MassLobby"


async def test_mydata_while_planning_a_lobby_day_asks_the_step_again(lobby_chat):
    chat = lobby_chat
    await chat.send(ORGANISER, "/lobby")
    await chat.press(ORGANISER, screens.NEW)
    await chat.send(ORGANISER, "Mass lobby")
    asked = chat.last_text(ORGANISER)
    replies = await chat.send(ORGANISER, "/mydata")
    assert "Everything I keep about you" in replies[0].text
    assert replies[-1].text == asked  # the time, still to give
    assert chat.app.user_data[ORGANISER][COMPOSER]["texts"]["title"] == {"en": "Mass lobby"}


async def test_without_a_deadline_rsvps_stay_open_until_the_start(lobby_chat):
    event_id = await create_event(lobby_chat, deadline_days=None)
    row = lobby_chat.storage.get_lobby_event(event_id)
    assert row["rsvp_deadline"] == row["starts_at"]


async def test_rsvps_open_until_the_start_stay_open_until_a_moved_start(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat, deadline_days=None)
    await chat.press(ORGANISER, f"{screens.EDIT}{event_id}")
    await chat.press(ORGANISER, f"{screens.CHANGE}{screens.STARTS_AT}")
    await chat.send(ORGANISER, typed_at(local(9, 11)))
    await chat.press(ORGANISER, screens.SAVE)
    row = chat.storage.get_lobby_event(event_id)
    assert dt.datetime.fromisoformat(row["rsvp_deadline"]) == local(9, 11)


async def test_discarding_the_composer_saves_nothing(lobby_chat):
    chat = lobby_chat
    await chat.send(ORGANISER, "/lobby")
    await chat.press(ORGANISER, screens.NEW)
    await chat.send(ORGANISER, "Mass lobby")
    await chat.press(ORGANISER, screens.DISCARD)
    assert "nothing was saved" in chat.last_text(ORGANISER)
    assert chat.storage.lobby_events() == []


async def test_organiser_edits_the_time_and_adds_spanish_keeping_the_rsvps(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await chat.press(ORGANISER, f"{screens.EDIT}{event_id}")
    await chat.press(ORGANISER, f"{screens.CHANGE}{screens.STARTS_AT}")
    await chat.send(ORGANISER, typed_at(local(9, 11)))
    await chat.press(ORGANISER, f"{screens.VERSION}es")
    await chat.send(ORGANISER, "Lobby masivo por la igualdad")
    await chat.send(ORGANISER, "Central Lobby, Parlamento")
    await chat.send(ORGANISER, "Documento con foto")
    assert "Spanish: its own texts" in chat.last_text(ORGANISER)
    await chat.press(ORGANISER, screens.SAVE)
    row = chat.storage.get_lobby_event(event_id)
    assert dt.datetime.fromisoformat(row["starts_at"]) == local(9, 11)
    assert row["title"]["es"] == "Lobby masivo por la igualdad"
    assert chat.storage.going_count(event_id) == 1
    jobs_now = {job.name for job in chat.app.job_queue.jobs()}
    assert jobs.job_name(event_id, "morning") in jobs_now


async def test_a_new_time_is_told_to_those_going_and_an_older_yes_shows_the_day_as_it_is(
    lobby_chat,
):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await going(chat, 2, event_id, "es")
    await onboard(chat, 3)
    await chat.press(3, keyboards.journey_data("lobby"))
    older_yes = f"{screens.YES}{event_id}:0"
    assert older_yes in chat.button_data(3)
    await chat.press(ORGANISER, f"{screens.EDIT}{event_id}")
    await chat.press(ORGANISER, f"{screens.CHANGE}{screens.STARTS_AT}")
    await chat.send(ORGANISER, typed_at(local(8, 14)))
    await chat.press(ORGANISER, screens.SAVE)
    assert "the 2 supporters going are being told" in "".join(chat.texts(ORGANISER))
    await finish(chat)
    # The report, whether or not the broadcast ended before the dashboard was shown again.
    assert any("Delivered: <b>2</b> of 2" in text for text in chat.texts(ORGANISER))
    assert "has changed" in chat.last_text(1) and "14:00" in chat.last_text(1)
    assert "say whether you're coming" not in chat.last_text(1)  # they said so already
    assert f"{screens.UNRSVP}{event_id}" in chat.button_data(1)  # can't come any more?
    assert "cambió" in chat.last_text(2)
    assert not any("changed" in body for body in chat.texts(3))
    calls = await chat.press(3, older_yes)
    (note,) = [call for call in calls if call.method == "answerCallbackQuery"]
    assert "has changed since that message" in note.params["text"]
    assert "14:00" in chat.last_text(3) and f"{screens.YES}{event_id}:1" in chat.button_data(3)
    assert chat.storage.get_rsvp(event_id, 3) is None  # nothing recorded from the older button


async def test_a_new_title_alone_is_no_news_to_those_going(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    before = len(chat.texts(1))
    await chat.press(ORGANISER, f"{screens.EDIT}{event_id}")
    await chat.press(ORGANISER, f"{screens.CHANGE}title")
    await chat.send(ORGANISER, "Mass lobby: equal protection now")
    await chat.press(ORGANISER, screens.SAVE)
    await finish(chat)
    assert "Saved your changes" in "".join(chat.texts(ORGANISER))
    assert len(chat.texts(1)) == before
    await onboard(chat, 3)
    await chat.press(3, f"{screens.YES}{event_id}:0")  # the same day: an older yes still works
    assert "postcode" in chat.last_text(3)


@pytest.mark.parametrize(
    "data",
    [
        screens.NEW,
        f"{screens.SHOW}1",
        f"{screens.EDIT}1",
        f"{screens.CANCEL}1",
        f"{screens.CANCEL_YES}1",
        f"{screens.CSV}1",
        f"{screens.STORIES}1",
        f"{screens.APPROVE}1",
        f"{screens.APPROVED_STORIES}1",
        f"{screens.REJECT}1",
        f"{screens.REJECT_YES}1",
        f"{screens.CHANGE}title",
        f"{screens.VERSION}es",
        screens.SKIP,
        screens.SAVE,
        screens.DISCARD,
        "lobbyadm:whatever",
    ],
)
async def test_crafted_organiser_buttons_from_a_supporter_are_refused(lobby_chat, data):
    chat = lobby_chat
    event_id = await create_event(chat)
    assert event_id == 1
    await onboard(chat, 7)
    calls = await chat.press(7, data)
    (refusal,) = [call for call in calls if call.method == "answerCallbackQuery"]
    assert REFUSAL in refusal.params["text"]
    assert not [call for call in calls if call.chat_id == 7 and call.method == "sendDocument"]
    assert chat.storage.get_lobby_event(1)["status"] == "open"


async def test_the_lobby_command_is_refused_to_supporters(lobby_chat):
    await onboard(lobby_chat, 7)
    await lobby_chat.send(7, "/lobby")
    assert REFUSAL in lobby_chat.last_text(7)


async def test_cancelling_tells_everyone_going_through_the_delivery_engine_and_nobody_else(
    lobby_chat,
):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await going(chat, 2, event_id, "pt")
    await onboard(chat, 3)
    await chat.press(ORGANISER, f"{screens.SHOW}{event_id}")
    await chat.press(ORGANISER, f"{screens.CANCEL}{event_id}")
    assert "The 2 supporters going will be told" in chat.last_text(ORGANISER)
    await chat.press(ORGANISER, f"{screens.CANCEL_YES}{event_id}")
    assert "The 2 supporters going are being told" in "".join(chat.texts(ORGANISER))
    await finish(chat)
    # The engine's report, whether or not the broadcast ended before the screen was shown.
    assert any("Delivered: <b>2</b> of 2" in text for text in chat.texts(ORGANISER))
    assert "is cancelled" in chat.last_text(1)
    assert "A organização cancelou" in chat.last_text(2)
    assert not any("cancelled" in body for body in chat.texts(3))
    assert chat.storage.get_lobby_event(event_id)["status"] == "cancelled"
    assert not [job for job in chat.app.job_queue.jobs() if job.name.startswith("lobby-1-")]
    await chat.press(ORGANISER, f"{screens.CANCEL_YES}{event_id}")  # a second tap: nobody twice
    assert len([body for body in chat.texts(1) if "is cancelled" in body]) == 1
    page = "\n".join(call.text for call in await chat.send(1, "/mydata"))
    assert "you said you're going to" in page and "The organisers cancelled that lobby day" in page
    await chat.press(ORGANISER, f"{screens.SHOW}{event_id}")
    board = chat.last_text(ORGANISER)
    assert "Had said yes before it was cancelled:</b> 2" in board and "Going:" not in board
    await chat.send(ORGANISER, "/lobby")
    assert "(cancelled)" in chat.last_text(ORGANISER)
    assert "going: 2" not in chat.last_text(ORGANISER)


async def test_dashboard_shows_coverage_and_the_csv_has_no_personal_data(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await going(chat, 2, event_id)
    await onboard(chat, 3)
    chat.storage.set_constituency(3, "E14000001", "Aldershot")
    await chat.press(ORGANISER, f"{screens.SHOW}{event_id}")
    board = chat.last_text(ORGANISER)
    assert "<b>Going:</b> 2" in board and "<b>Meeting requests sent:</b> 0" in board
    await chat.press(1, f"{screens.REQUEST_SENT}{event_id}")
    await chat.press(ORGANISER, f"{screens.SHOW}{event_id}")
    board = chat.last_text(ORGANISER)
    assert "<b>Meeting requests sent:</b> 1" in board
    assert "<b>MPs covered:</b> 1" in board and "• Labour: 1" in board
    assert "Where nobody is going yet" in board and "• Aldershot: 1" in board
    await chat.press(ORGANISER, f"{screens.CSV}{event_id}")
    (_, filename, content), *_ = reversed(chat.api.files)
    assert filename.startswith(f"stepup-lobby-{event_id}-")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0]["constituency_code"] == WESTMINSTER.code and rows[0]["going"] == "2"
    assert rows[0]["mp_party"] == "Labour"
    assert rows[1]["constituency_name"] == "Aldershot" and rows[1]["going"] == "0"
    assert b"Jane Example" not in content
    assert set(rows[0]) >= {"met_supportive", "not_met", "meeting_requests"}
    assert not {"user_id", "mp_name", "name"} & set(rows[0])


# --- supporters ---------------------------------------------------------------------------------


async def test_deep_link_explains_the_day_and_saying_yes_keeps_no_postcode(lobby_chat, settings):
    chat = lobby_chat
    event_id = await create_event(chat)
    await chat.send(1, "/start lobby")
    await chat.press(1, consent.OPTIN_BOTH)
    invitation = chat.last_text(1)
    assert "Mass lobby for equal protection" in invitation
    assert "each meets their own MP" in invitation and "#masslobby" in invitation
    assert "Supporters going so far: 0" in invitation
    await chat.press(1, f"{screens.YES}{event_id}")
    assert "it is not kept" in chat.last_text(1)
    await chat.send(1, "not a postcode")
    assert "doesn't look like a UK postcode" in chat.last_text(1)
    replies = await chat.send(1, "sw1a 1aa")
    done = replies[-1].text
    assert "You're going!" in done and "Jane Example" in done
    assert f"first supporter from {WESTMINSTER.name}" in done
    assert "remind you the evening before" in done
    rsvp = chat.storage.get_rsvp(event_id, 1)
    assert rsvp["constituency_code"] == WESTMINSTER.code and rsvp["mp_party"] == "Labour"
    chat.storage.checkpoint()
    assert b"SW1A 1AA" not in stored_bytes(settings) and b"sw1a 1aa" not in stored_bytes(settings)

    await onboard(chat, 2)
    await chat.press(2, keyboards.journey_data("lobby"))
    assert "Supporters going so far: 1" in chat.last_text(2)
    await chat.press(2, f"{screens.YES}{event_id}")
    replies = await chat.send(2, "SW1A1AA")
    assert f"Supporters from {WESTMINSTER.name} already going: 1" in replies[-1].text
    # No to campaign updates: no reminders, but the news of their own yes still comes.
    assert "I won't send reminders" in replies[-1].text
    assert "still tell you of any change or cancellation" in replies[-1].text


@pytest.mark.parametrize(("days", "told"), [(7, False), (30, True)])
async def test_a_yes_says_when_how_did_it_go_would_need_a_yes_to_what_comes_next(
    lobby_chat, days, told
):
    # On 20 November, a day 7 days on is in the campaign (it ends on 10 December); 30 is not.
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=LONDON)):
        event_id = await create_event(lobby_chat, days=days, deadline_days=days - 1)
        await going(lobby_chat, 1, event_id)
    assert ("falls after the campaign ends" in lobby_chat.last_text(1)) == told


async def test_a_postcode_lookup_that_never_answers_shows_typing_then_offers_writetothem(
    lobby_chat, monkeypatch
):
    """Saying yes calls postcodes.io, as the MP journey does: a sign at once, the WriteToThem
    fallback once the lookup's time is up, and no RSVP without an MP."""
    monkeypatch.setattr(mps, "LOOKUP_SECONDS", 0.05)
    chat = lobby_chat
    event_id = await create_event(chat)
    await use_services(chat, FakeServices(lookup_routes(**{"/postcodes/SW1A1AA": never_answers})))

    replies = await going(chat, 1, event_id)

    assert [call.method for call in replies] == ["sendChatAction", "sendMessage"]
    assert replies[-1].text.startswith(text("en", "mp.lookup_unavailable"))
    assert "writetothem.com" in str(replies[-1].buttons)
    assert chat.storage.get_rsvp(event_id, 1) is None


async def test_without_campaign_messages_no_reminders_are_promised(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    replies = await going(chat, 1, event_id)  # onboard() says no to messages
    assert "I won't send reminders" in replies[-1].text


async def test_portuguese_supporter_sees_portuguese_texts_with_english_where_none(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await onboard(chat, 1, "pt")
    await chat.press(1, keyboards.journey_data("lobby"), "pt")
    invitation = chat.last_text(1)
    assert "Lobby em massa por proteção igual" in invitation
    assert "Central Lobby, Houses of Parliament" in invitation  # no Portuguese place given
    assert "Documento com foto" in invitation
    assert f"{screens.YES}{event_id}:0" in chat.button_data(1)


async def test_with_no_event_the_supporter_is_offered_to_write_instead(lobby_chat):
    await onboard(lobby_chat, 1)
    await lobby_chat.press(1, keyboards.journey_data("lobby"))
    assert "No lobby day is planned" in lobby_chat.last_text(1)
    assert keyboards.journey_data("mp") in lobby_chat.button_data(1)


async def test_cancelling_an_rsvp_asks_first_then_offers_the_email_or_post_instead(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await chat.press(1, f"{screens.UNRSVP}{event_id}")
    assert "Cancel your RSVP for Mass lobby for equal protection" in chat.last_text(1)
    assert chat.storage.going_count(event_id) == 1  # a tap by mistake changes nothing
    await chat.press(1, f"{screens.EVENT}{event_id}")  # "No, I'm still going"
    assert "You're going" in chat.last_text(1)
    assert "say whether you're coming" not in chat.last_text(1)
    await chat.press(1, f"{screens.UNRSVP}{event_id}")
    await chat.press(1, f"{screens.UNRSVP_YES}{event_id}")
    assert "Your RSVP is cancelled" in chat.last_text(1)
    assert chat.storage.going_count(event_id) == 0
    post = next(url for url in url_buttons(chat, 1).values() if "x.com" in url)
    assert parse_qs(urlsplit(post).query)["hashtags"] == ["masslobby"]
    assert keyboards.journey_data("mp") in chat.button_data(1)


async def test_cant_come_offers_email_or_post_on_the_day(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await onboard(chat, 1)
    await chat.press(1, f"{screens.CANT_COME}{event_id}")
    assert "Can't come? You can still take part." in chat.last_text(1)
    assert "#masslobby" in chat.last_text(1)


async def test_after_the_deadline_there_is_no_yes_button_and_a_crafted_one_is_stale(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat, deadline_days=2)
    await onboard(chat, 1)
    with time_machine.travel(local(3)):
        await chat.press(1, f"{screens.EVENT}{event_id}")
        assert "RSVPs closed" in chat.last_text(1)
        assert f"{screens.YES}{event_id}" not in chat.button_data(1)
        calls = await chat.press(1, f"{screens.YES}{event_id}")
        assert any("no longer open" in (call.params.get("text") or "") for call in calls)
    assert chat.storage.get_rsvp(event_id, 1) is None


@pytest.mark.parametrize("data", ["lobby:yes:999", "lobby:event:abc", "lobby:call:-1", "lobby:x"])
async def test_tampered_supporter_buttons_get_a_polite_answer(lobby_chat, data):
    await onboard(lobby_chat, 1)
    calls = await lobby_chat.press(1, data)
    assert calls and all(call.method != "sendDocument" for call in calls)


async def test_guide_covers_nerves_what_to_ask_and_what_not_to_share(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await onboard(chat, 1)
    await chat.press(1, f"{screens.GUIDE}{event_id}")
    guide = chat.last_text(1)
    assert "fine to be nervous" in guide
    assert "What to ask" in guide
    assert "could identify a survivor" in guide
    assert "immigration status is nobody's business" in guide


async def test_call_their_office_shows_the_number_the_members_api_lists(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await chat.press(1, f"{screens.CALL}{event_id}")
    assert "<code>020 7219 3000</code>" in chat.last_text(1)  # the Parliamentary office's


async def test_an_office_without_a_phone_number_is_said_plainly(chat):
    routes = lookup_routes(**{"/api/Members/5001/Contact": contacts_without_phones()})
    await use_services(chat, FakeServices(routes))
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await chat.press(1, f"{screens.CALL}{event_id}")
    assert "lists no phone number" in chat.last_text(1)


def contacts_without_phones() -> dict:
    listed = contacts(x="https://x.com/JaneExampleMP")
    for entry in listed["value"]:
        entry["phone"] = None
    return listed


async def test_meeting_request_is_handed_over_like_the_mp_letter(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await chat.press(1, f"{screens.REQUEST}{event_id}")
    assert "ask for a meeting" in chat.last_text(1)
    assert SKIP_NAME in chat.button_data(1)
    await chat.send(1, "Ana Silva")
    replies = await chat.send(1, "I volunteer at a refuge.")
    letter = letter_in(replies)
    day = local(7).strftime("%-d %B %Y")
    assert letter.startswith("Dear Jane Example,")
    assert f"in Parliament on {day}" in letter
    assert "I volunteer at a refuge." in letter and letter.endswith("Ana Silva")
    assert f"Request to meet on {day}" in replies[0].text
    links = url_buttons(chat, 1)
    tweet = next(url for url in links.values() if url.startswith("https://x.com/intent/tweet"))
    query = parse_qs(urlsplit(tweet).query)
    assert query["text"][0].startswith("@JaneExampleMP ") and query["hashtags"] == ["masslobby"]
    assert any("writetothem.com" in url for url in links.values())
    assert f"{screens.REQUEST_SENT}{event_id}" in chat.button_data(1)
    await chat.press(1, f"{screens.REQUEST_SENT}{event_id}")
    assert chat.storage.get_rsvp(event_id, 1)["request_sent_at"] is not None
    await chat.press(ORGANISER, f"{screens.CSV}{event_id}")
    content = chat.api.files[-1][2].decode("utf-8-sig")
    assert next(csv.DictReader(io.StringIO(content)))["meeting_requests"] == "1"


def meeting_requests(chat, event_id: int) -> dict[str, str]:
    """Constituency -> meeting requests sent, from the CSV the organisers download."""
    content = lobby.coverage_csv(chat.storage, event_id).decode("utf-8-sig")
    rows = csv.DictReader(io.StringIO(content))
    return {row["constituency_name"]: row["meeting_requests"] for row in rows}


async def test_a_yes_from_another_constituency_does_not_keep_the_old_meeting_request(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    await chat.press(1, f"{screens.REQUEST_SENT}{event_id}")
    assert meeting_requests(chat, event_id)[WESTMINSTER.name] == "1"
    chat.storage.cancel_rsvp(event_id, 1)
    await chat.press(1, f"{screens.YES}{event_id}")
    await chat.send(1, "sw1a 1aa")  # the same constituency again: the request still counts
    assert meeting_requests(chat, event_id)[WESTMINSTER.name] == "1"
    chat.storage.cancel_rsvp(event_id, 1)
    chat.storage.save_rsvp(  # as a yes from a Manchester postcode records it
        event_id,
        1,
        constituency=("E14001350", "Manchester Central"),
        mp={"member_id": 5002, "name": "Lucy Example", "party": "Labour"},
    )
    assert meeting_requests(chat, event_id)["Manchester Central"] == "0"


async def test_meeting_request_is_read_in_spanish_and_sent_in_english_by_default(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id, "es")
    await chat.press(1, f"{screens.REQUEST}{event_id}", "es")
    await chat.press(1, SKIP_NAME, "es")
    replies = await chat.press(1, SKIP_SENTENCE, "es")
    bodies = [call.text for call in replies if call.text]
    assert "Aquí tienes tu carta en español" in bodies[0]
    assert any("Me gustaría reunirme con usted" in body for body in bodies)  # read in Spanish
    replies = await chat.press(1, "mp:letter:en", "es")
    assert letter_in(replies).startswith("Dear Jane Example,")


async def test_only_someone_going_can_ask_for_a_meeting(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await onboard(chat, 1)
    await chat.press(1, f"{screens.REQUEST}{event_id}")
    assert "please say you're coming first" in chat.last_text(1)


# --- afterwards ---------------------------------------------------------------------------------


async def asked_how_it_went(chat, uid: int, event_id: int) -> None:
    # The event is a week from today, perhaps after the campaign: then only those who agreed
    # to hear what comes next are asked (tests/scheduler/test_lobby.py).
    chat.storage.set_consents(uid, {WHATS_NEXT: True}, "test-wording")
    with time_machine.travel(local(7, 17)):
        assert jobs.act(chat.app, event_id, "outcome")
        await finish(chat)
    assert "How did it go?" in chat.last_text(uid)


async def going_and_asked_how_it_went(chat, uid: int) -> int:
    """A new lobby day, `uid` going, and the day over: they are asked how it went. Returns the
    event's id."""
    event_id = await create_event(chat)
    await going(chat, uid, event_id)
    await asked_how_it_went(chat, uid, event_id)
    return event_id


async def story_allowed(chat, uid: int, story: str) -> int:
    """A supporter went, was asked how it went, wrote `story` and allowed publishing it; the
    signature question is next. Returns the event's id."""
    event_id = await create_event(chat)
    await going(chat, uid, event_id)
    await asked_how_it_went(chat, uid, event_id)
    await chat.press(uid, f"{screens.STORY}{event_id}")
    await chat.send(uid, story)
    await chat.press(uid, screens.PUBLISH_YES)
    return event_id


async def test_how_did_it_go_then_a_story_published_only_with_permission(lobby_chat):
    chat = lobby_chat
    event_id = await going_and_asked_how_it_went(chat, 1)
    await chat.press(1, f"{screens.OUTCOME}{event_id}:met_supportive")
    assert "Thank you for going" in chat.last_text(1)
    await chat.press(1, f"{screens.OUTCOME}{event_id}:met_opposed")  # once only
    assert chat.storage.get_rsvp(event_id, 1)["outcome"] == "met_supportive"
    await chat.press(1, f"{screens.STORY}{event_id}")
    await chat.send(1, "x" * 601)
    assert "has 601 characters, and it can be up to 600 characters" in chat.last_text(1)
    await chat.send(1, "I met Jane <b>in person</b>; she listened.")
    assert "May the organisers publish it" in chat.last_text(1)
    assert "u" not in tags_in(chat.last_text(1)) and "&lt;b&gt;" in chat.last_text(1)
    await chat.press(1, screens.PUBLISH_YES)
    await chat.send(1, "Ana")
    assert "An organiser will read your story" in chat.last_text(1)

    await chat.press(ORGANISER, f"{screens.SHOW}{event_id}")
    board = chat.last_text(ORGANISER)
    assert "How it went</b> (1 of 1 answered)" in board
    assert "• met the MP, supportive: 1" in board
    await chat.press(ORGANISER, f"{screens.STORIES}{event_id}")
    view = chat.last_text(ORGANISER)
    assert "she listened" in view and "signed: Ana" in view and "Jane Example" in view
    (story_id,) = [row["id"] for row in chat.storage.personal_data(1)["lobby_stories"]]
    await chat.press(ORGANISER, f"{screens.REJECT}{story_id}")
    assert f"Reject story {story_id}?" in chat.last_text(ORGANISER)
    await chat.press(ORGANISER, f"{screens.STORIES}{event_id}")  # "No, back to the story"
    assert "she listened" in chat.last_text(ORGANISER)  # still waiting, nothing decided
    await chat.press(ORGANISER, f"{screens.APPROVE}{story_id}")
    assert "approved" in chat.last_text(ORGANISER) and "No stories waiting" in chat.last_text(
        ORGANISER
    )
    await chat.press(ORGANISER, f"{screens.APPROVED_STORIES}{event_id}")
    assert "she listened" in chat.last_text(ORGANISER) and "— Ana" in chat.last_text(ORGANISER)


@pytest.mark.parametrize(
    "prefix",
    [
        screens.UNRSVP,
        screens.UNRSVP_YES,
        screens.GUIDE,
        screens.CALL,
        screens.CANT_COME,
        screens.REQUEST_SENT,
    ],
)
async def test_a_day_s_buttons_after_it_is_over_get_a_polite_answer_and_record_nothing(
    lobby_chat, prefix
):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    with time_machine.travel(local(8)):
        calls = await chat.press(1, f"{prefix}{event_id}")
    (note,) = [call for call in calls if call.method == "answerCallbackQuery"]
    assert "That lobby day is over" in note.params["text"]
    rsvp = chat.storage.get_rsvp(event_id, 1)
    assert rsvp["status"] == "yes" and rsvp["request_sent_at"] is None


async def test_how_did_it_go_counts_only_once_asked_and_not_for_a_cancelled_day(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await going(chat, 1, event_id)
    calls = await chat.press(1, f"{screens.OUTCOME}{event_id}:met_supportive")  # crafted, early
    (note,) = [call for call in calls if call.method == "answerCallbackQuery"]
    assert "nothing was recorded" in note.params["text"]
    await asked_how_it_went(chat, 1, event_id)
    await chat.press(ORGANISER, f"{screens.CANCEL_YES}{event_id}")
    await finish(chat)
    calls = await chat.press(1, f"{screens.OUTCOME}{event_id}:met_supportive")
    (note,) = [call for call in calls if call.method == "answerCallbackQuery"]
    assert "nothing was recorded" in note.params["text"]
    assert chat.storage.get_rsvp(event_id, 1)["outcome"] is None
    await chat.press(1, f"{screens.UNRSVP}{event_id}")  # the reminder's button
    await chat.press(1, f"{screens.UNRSVP_YES}{event_id}")
    assert chat.storage.get_rsvp(event_id, 1)["status"] == "yes"


async def test_a_story_without_permission_is_not_kept(lobby_chat):
    chat = lobby_chat
    event_id = await going_and_asked_how_it_went(chat, 1)
    await chat.press(1, f"{screens.OUTCOME}{event_id}:not_met")
    await chat.press(1, f"{screens.STORY}{event_id}")
    await chat.send(1, "CanaryStory4411")
    await chat.press(1, screens.PUBLISH_NO)
    assert "not kept" in chat.last_text(1)
    assert "lobby_stories" not in chat.storage.personal_data(1)
    assert "CanaryStory4411" not in str(chat.app.user_data[1])


async def test_a_postcode_is_never_taken_as_a_story_or_signature(lobby_chat):
    chat = lobby_chat
    event_id = await going_and_asked_how_it_went(chat, 1)
    await chat.press(1, f"{screens.STORY}{event_id}")
    (hint,) = await chat.send(1, "sw1a 1aa")
    assert "looks like a postcode" in hint.text
    await chat.send(1, "We met her office team.")
    await chat.press(1, screens.PUBLISH_YES)
    (hint,) = await chat.send(1, "SW1A1AA")
    assert "looks like a postcode" in hint.text
    assert "SW1A" not in str(chat.app.user_data[1]).upper()
    assert "lobby_stories" not in chat.storage.personal_data(1)


async def test_a_story_or_signature_that_shows_nothing_is_asked_for_again(lobby_chat):
    """Issue 13, point 6: zero-width and blank-looking characters are not a story or a name."""
    chat = lobby_chat
    event_id = await going_and_asked_how_it_went(chat, 1)
    await chat.press(1, f"{screens.STORY}{event_id}")
    (answer,) = await chat.send(1, "\u200b\u2800")
    assert "looks empty" in answer.text
    await chat.send(1, "We met her office team.")
    await chat.press(1, screens.PUBLISH_YES)
    (answer,) = await chat.send(1, "\u3164 \u200d")
    assert "can't see a name" in answer.text and screens.UNSIGNED in chat.button_data(1)
    await chat.send(1, "Ana")
    (story,) = chat.storage.personal_data(1)["lobby_stories"]
    assert (story["body"], story["signature"]) == ("We met her office team.", "Ana")


async def test_a_lobby_day_title_that_shows_nothing_is_asked_for_again(lobby_chat):
    await lobby_chat.send(ORGANISER, "/lobby")
    await lobby_chat.press(ORGANISER, screens.NEW)
    (answer,) = await lobby_chat.send(ORGANISER, "\u200b")
    assert "looks empty" in answer.text
    assert lobby_chat.app.user_data[ORGANISER][COMPOSER]["texts"]["title"] == {}


async def test_mydata_before_the_rsvp_postcode_asks_for_it_again(lobby_chat):
    event_id = event_for(lobby_chat)
    await onboard(lobby_chat, 2, "es")
    await lobby_chat.press(2, f"{screens.YES}{event_id}", "es")
    asked = lobby_chat.last_text(2)
    replies = await lobby_chat.send(2, "/mydata", "es")
    assert "Todo lo que guardo sobre ti" in replies[0].text
    assert replies[-1].text == asked and "código postal" in asked


@pytest.mark.parametrize(
    ("typed", "refusal"),
    [
        ("ok", "doesn't look like a place"),
        ("?", "doesn't look like a place"),
        ("🏛️", "doesn't look like a place"),
        ("Yes!", "doesn't look like a place"),
        ("Central\nLobby\nHouses\nof\nParliament\nWestminster\nLondon", "no more than 6 lines"),
        ("Central Lobby " * 215, "up to 300 characters"),  # a 3,000-character paste
    ],
)
async def test_a_place_that_names_nowhere_is_refused_and_asked_again(lobby_chat, typed, refusal):
    chat = lobby_chat
    await chat.send(ORGANISER, "/lobby")
    await chat.press(ORGANISER, screens.NEW)
    await chat.send(ORGANISER, "Mass lobby")
    await chat.send(ORGANISER, typed_at(local(7)))
    (answer,) = await chat.send(ORGANISER, typed)
    assert refusal in answer.text and "send" in answer.text
    assert chat.app.user_data[ORGANISER][COMPOSER]["texts"]["place"] == {}
    await chat.send(ORGANISER, "Zoom")
    assert chat.app.user_data[ORGANISER][COMPOSER]["texts"]["place"] == {"en": "Zoom"}


async def test_a_place_that_names_nowhere_is_refused_in_the_organisers_language(lobby_chat):
    chat = lobby_chat
    await chat.send(ORGANISER, "/lobby", "pt-br")
    await chat.press(ORGANISER, screens.NEW, "pt-br")
    await chat.send(ORGANISER, "Mass lobby", "pt-br")
    await chat.send(ORGANISER, typed_at(local(7)), "pt-br")
    (answer,) = await chat.send(ORGANISER, "ok", "pt-br")
    assert "Isso não parece um lugar. Envie o local aonde" in answer.text


async def test_a_postcode_on_the_invitation_points_to_ill_be_there_and_records_nothing(lobby_chat):
    """Saying yes is a tap: a postcode typed before it is not an RSVP, and is not kept."""
    chat = lobby_chat
    event_id = await create_event(chat)
    await onboard(chat, 1, "es")
    await chat.press(1, keyboards.journey_data("lobby"), "es")
    (hint,) = await chat.send(1, "SW1A 1AA", "es")
    assert "<b>Voy a ir</b>" in hint.text and "código postal" in hint.text
    yes = next(data for data in chat.button_data(1) if data.startswith(screens.YES))
    assert chat.storage.get_rsvp(event_id, 1) is None
    assert "SW1A" not in str(chat.app.user_data.get(1, {})).upper()
    await chat.press(1, yes, "es")
    await chat.send(1, "SW1A 1AA", "es")
    assert chat.storage.get_rsvp(event_id, 1)["status"] == lobby.GOING


async def test_a_postcode_after_a_vacant_seat_is_looked_up_again(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    vacant = search_result(constituency_item(4600, WESTMINSTER.name, None))
    services = await use_services(
        chat, FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": vacant}))
    )
    replies = await going(chat, 1, event_id)
    assert "has no MP" in replies[-1].text
    services.routes.update(lookup_routes())
    await chat.send(1, "SW1A 1AA")
    assert chat.storage.get_rsvp(event_id, 1)["status"] == lobby.GOING


async def test_try_again_after_a_vacant_seat_asks_for_the_rsvp_postcode_again(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    vacant = search_result(constituency_item(4600, WESTMINSTER.name, None))
    services = await use_services(
        chat, FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": vacant}))
    )
    await going(chat, 1, event_id)
    (try_again,) = [
        button["callback_data"] for button in chat.buttons(1) if "Try again" in button["text"]
    ]
    await chat.press(1, try_again)
    assert "postcode" in chat.last_text(1)
    services.routes.update(lookup_routes())
    replies = await chat.send(1, "SW1A 1AA")
    assert not any("sign your letter" in call.text for call in replies)
    assert chat.storage.get_rsvp(event_id, 1)["status"] == lobby.GOING


async def test_an_unsigned_story_is_published_without_a_name(lobby_chat):
    chat = lobby_chat
    await story_allowed(chat, 1, "A staffer took notes.")
    await chat.press(1, screens.UNSIGNED)
    (story,) = chat.storage.personal_data(1)["lobby_stories"]
    assert story["signature"] is None and story["status"] == "pending"


async def test_rejecting_a_story_asks_first(lobby_chat):
    chat = lobby_chat
    await story_allowed(chat, 1, "A staffer took notes.")
    await chat.press(1, screens.UNSIGNED)
    (story,) = chat.storage.personal_data(1)["lobby_stories"]
    await chat.press(ORGANISER, f"{screens.REJECT}{story['id']}")
    assert "can't be undone" in chat.last_text(ORGANISER)
    assert chat.storage.personal_data(1)["lobby_stories"][0]["status"] == "pending"
    await chat.press(ORGANISER, f"{screens.REJECT_YES}{story['id']}")
    assert f"Story {story['id']}: rejected" in chat.last_text(ORGANISER)


async def test_typing_skip_in_the_composer_skips_the_step_rather_than_becoming_its_text(
    lobby_chat,
):
    chat = lobby_chat
    await chat.send(ORGANISER, "/lobby")
    await chat.press(ORGANISER, screens.NEW)
    await chat.send(ORGANISER, "Mass lobby for equal protection")
    await chat.send(ORGANISER, typed_at(local(7)))
    await chat.send(ORGANISER, "Central Lobby, Houses of Parliament, London SW1A 0AA")
    await chat.send(ORGANISER, "SKIP")  # what to bring: optional
    assert "Which hashtag" in chat.last_text(ORGANISER)
    assert chat.app.user_data[ORGANISER][COMPOSER]["texts"]["bring"] == {}


async def test_welcome_and_help_tell_of_lobby_days(lobby_chat):
    chat = lobby_chat
    welcome = " ".join(call.text for call in await chat.send(1, "/start"))
    assert "when a lobby day is planned" in welcome and "Meet your MP" in welcome
    assert "When a lobby day is planned" in (await chat.send(1, "/help"))[-1].text


async def test_the_checklist_shows_an_open_lobby_day_and_all_done_waits_for_a_yes(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await onboard(chat, 1)
    for kind in ("petition_signed", "mp_letter_sent", "solidarity_written", "shared"):
        chat.storage.record_action(1, kind)
    await chat.send(1, "/menu")
    menu = chat.last_text(1)
    assert "▫️ Meet your MP at “Mass lobby for equal protection”" in menu
    assert "Next: <b>Meet your MP at “Mass lobby for equal protection”</b>" in menu
    assert "You've done everything" not in menu
    await chat.press(1, f"{screens.YES}{event_id}")
    await chat.send(1, "sw1a 1aa")
    await chat.send(1, "/menu")
    menu = chat.last_text(1)
    assert "✅ Meet your MP at “Mass lobby for equal protection”" in menu
    assert "You've done everything" in menu


async def test_typing_the_unsigned_buttons_words_publishes_the_story_without_a_name(lobby_chat):
    chat = lobby_chat
    event_id = await story_allowed(chat, 1, "We were heard")
    await chat.send(1, "publish it UNSIGNED")
    story = chat.storage.next_pending_story(event_id)
    assert (story["body"], story["signature"]) == ("We were heard", None)


async def test_typing_menu_at_the_rsvp_postcode_leaves_for_the_menu(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await onboard(chat, 1)
    await chat.press(1, f"{screens.YES}{event_id}")
    await chat.send(1, "Menu")
    assert keyboards.journey_data("lobby") in chat.button_data(1)
    assert chat.storage.get_rsvp(event_id, 1) is None


async def test_forget_erases_rsvps_and_stories_and_mydata_shows_them(lobby_chat, settings):
    chat = lobby_chat
    event_id = await story_allowed(chat, 1, "CanaryLobby7731 went well")
    await chat.press(1, screens.UNSIGNED)
    await chat.send(1, "/mydata")
    mine = chat.last_text(1)
    assert "Lobby days" in mine and "CanaryLobby7731" in mine  # the RSVP and the story
    assert mine.count("Mass lobby for equal protection") == 2 and "#1" not in mine
    await chat.send(1, "/forget")
    await chat.press(1, keyboards.FORGET_YES)
    assert chat.storage.get_rsvp(event_id, 1) is None
    assert b"CanaryLobby7731" not in stored_bytes(settings)
    assert chat.storage.going_count(event_id) == 0


# --- broadcasts around an event -----------------------------------------------------------------


async def test_broadcast_to_those_going_or_where_nobody_is_going_yet(lobby_chat):
    chat = lobby_chat
    event_id = await create_event(chat)
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_BOTH)
    await chat.press(1, f"{screens.YES}{event_id}")
    await chat.send(1, "SW1A 1AA")
    for uid, code, name in ((2, "E14000001", "Aldershot"), (3, WESTMINSTER.code, "x")):
        await chat.send(uid, "/start")
        await chat.press(uid, consent.OPTIN_BOTH)
        chat.storage.set_constituency(uid, code, name)
    await chat.send(ORGANISER, "/broadcast")
    await chat.send(ORGANISER, "Bring a friend!")
    await chat.press(ORGANISER, "broadcast:continue")
    assert f"broadcast:to:lobby:{event_id}:going" in chat.button_data(ORGANISER)
    await chat.press(ORGANISER, f"broadcast:to:lobby:{event_id}:uncovered")
    chosen = "live where nobody is going to Mass lobby for equal protection yet, <b>1</b>"
    assert any(chosen in body for body in chat.texts(ORGANISER))
    assert chat.storage.count_audience(Selection(UPDATES, lobby=(event_id, "uncovered"))) == 1
    assert chat.storage.count_audience(Selection(UPDATES, lobby=(event_id, "going"))) == 1
    assert chat.storage.count_audience(Selection(UPDATES, lobby=(event_id, "not_going"))) == 2
    calls = await chat.press(ORGANISER, f"broadcast:to:lobby:{event_id + 1}:going")
    assert calls  # an event that doesn't exist: asked again, nothing chosen


async def test_a_title_with_html_characters_reads_as_typed_on_every_button(lobby_chat):
    """Button labels are plain text: "&" and "<b>" in a title are shown, not "&amp;"."""
    chat = lobby_chat
    title = "Mass lobby <b>for</b> Jo & Ana"
    for days in (7, 8):
        chat.storage.create_lobby_event(
            texts={"title": {"en": title}, "place": {"en": "Central Lobby"}},
            starts_at=local(days),
            rsvp_deadline=local(days - 1),
            hashtag="#masslobby",
            created_by=ORGANISER,
        )
    await chat.send(ORGANISER, "/broadcast")
    await chat.send(ORGANISER, "Bring a friend!")
    await chat.press(ORGANISER, "broadcast:continue")
    audience = [button["text"] for button in chat.buttons(ORGANISER)]
    assert f"🙋 Going to {title}" in audience
    assert f"📍 Nobody going from their area: {title}" in audience
    await chat.send(ORGANISER, "/lobby")
    assert title in [button["text"] for button in chat.buttons(ORGANISER)]
    await onboard(chat, 1)
    await chat.press(1, keyboards.journey_data("lobby"))
    assert all(button["text"].startswith(title) for button in chat.buttons(1)[:2])


# --- arbitrary text at every free-text step (X3) ------------------------------------------------

any_words = arbitrary_text.filter(lambda s: s.strip() and not s.startswith("/"))


def event_for(chat) -> int:
    """An open lobby day a week away, and supporter 1 going to it (a story needs no more)."""
    storage = chat.storage
    if not storage.lobby_events():
        storage.create_lobby_event(
            texts={"title": {"en": "Mass lobby"}, "place": {"en": "Central Lobby"}},
            starts_at=local(7),
            rsvp_deadline=local(6),
            hashtag="#masslobby",
            created_by=ORGANISER,
        )
        storage.ensure_supporter(1, "en")
        storage.save_rsvp(
            1,
            1,
            constituency=(WESTMINSTER.code, WESTMINSTER.name),
            mp={"member_id": 5001, "name": "Jane Example", "party": "Labour"},
        )
    return 1


@PROPERTY
@given(typed=any_words)
async def test_any_text_as_a_postcode_for_a_yes_gets_a_safe_helpful_answer(lobby_chat, typed):
    event_id = event_for(lobby_chat)
    await lobby_chat.press(2, f"{screens.YES}{event_id}")
    assert_safe_helpful_answer(await lobby_chat.send(2, typed))


@PROPERTY
@given(typed=any_words)
async def test_any_text_as_a_story_or_its_signature_gets_a_safe_helpful_answer(lobby_chat, typed):
    event_id = event_for(lobby_chat)
    await lobby_chat.press(1, f"{screens.STORY}{event_id}")
    assert_safe_helpful_answer(await lobby_chat.send(1, typed))
    await lobby_chat.press(1, f"{screens.STORY}{event_id}")
    await lobby_chat.send(1, "It went well.")
    await lobby_chat.press(1, screens.PUBLISH_YES)
    assert_safe_helpful_answer(await lobby_chat.send(1, typed))


@PROPERTY
@given(typed=any_words, step=st.integers(min_value=0, max_value=5))
async def test_any_text_at_any_composer_step_gets_a_safe_helpful_answer(lobby_chat, typed, step):
    """Title, time, place, what to bring, hashtag, deadline: whatever the organiser types."""
    chat = lobby_chat
    await chat.send(ORGANISER, "/lobby")
    await chat.press(ORGANISER, screens.NEW)
    answers = ["Mass lobby", typed_at(local(7)), "Central Lobby", "Photo ID", "#masslobby"]
    for answer in answers[:step]:
        await chat.send(ORGANISER, answer)
    assert_safe_helpful_answer(await chat.send(ORGANISER, typed))


@pytest.mark.parametrize(
    ("language_code", "vacant_says", "jersey_says"),
    [
        ("en", "nobody to write to or meet there yet", "no MP to write to or meet"),
        (
            "pt-br",
            "para quem escrever nem com quem se encontrar",
            "não há deputado(a) para quem escrever nem com quem se encontrar.",
        ),
        (
            "es",
            "a quién escribirle ni con quién reunirte",
            "a quien escribirle ni con quien reunirte.",
        ),
    ],
)
async def test_a_yes_from_a_seat_without_an_mp_says_there_is_nobody_to_meet(
    lobby_chat, language_code, vacant_says, jersey_says
):
    """The lookup's answers were written for the letter: on a lobby day's "I'll be there" a
    vacant seat or Jersey said only that there was no MP to write to."""
    chat = lobby_chat
    event_id = await create_event(chat)
    vacant = search_result(constituency_item(4600, WESTMINSTER.name, None))
    services = await use_services(
        chat, FakeServices(lookup_routes(**{"/api/Location/Constituency/Search": vacant}))
    )
    replies = await going(chat, 1, event_id, language_code)
    assert vacant_says in replies[-1].text
    services.routes.update(lookup_routes(**{"/postcodes/JE24WD": JERSEY}))
    replies = await chat.send(1, "JE2 4WD", language_code)
    assert "Westminster" in replies[-1].text and jersey_says in replies[-1].text
    assert chat.storage.get_rsvp(event_id, 1) is None
