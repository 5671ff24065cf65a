"""Edited messages (fault 5): at every step waiting for typed text, an edit gets a clear "please
send it again as a new message" and the step keeps waiting; elsewhere an edit is left alone."""

from __future__ import annotations

import datetime as dt

import pytest

from messages import consent, keyboards
from messages import lobby as lobby_screens
from messages.mp import FIND
from messages.solidarity import WRITE
from tests.support.harness import ORGANISER_ID
from tests.support.journeys import use_services
from tests.support.parliament import FakeServices, lookup_routes

SUPPORTER = 616_001
RESEND = "please send it again as a new message"


async def edit(chat, user_id: int, text: str) -> list[str]:
    before = len(chat.api.calls)
    await chat.app.process_update(chat.updates.edited(user_id, text))
    return [call.text for call in chat.api.calls[before:] if call.method == "sendMessage"]


async def join(chat, user_id: int = SUPPORTER) -> None:
    await chat.send(user_id, "/start")
    await chat.press(user_id, consent.OPTIN_DAILY)


async def at_postcode(chat) -> None:
    await chat.press(SUPPORTER, FIND)


async def at_solidarity_message(chat) -> None:
    await chat.press(SUPPORTER, WRITE)


async def at_letter_name(chat) -> None:
    await use_services(chat, FakeServices(lookup_routes()))
    await at_postcode(chat)
    await chat.send(SUPPORTER, "SW1A 1AA")


async def at_letter_sentence(chat) -> None:
    await at_letter_name(chat)
    await chat.send(SUPPORTER, "Ana Silva")


async def at_solidarity_signature(chat) -> None:
    await at_solidarity_message(chat)
    await chat.send(SUPPORTER, "You are not alone.")


async def at_lobby_postcode(chat) -> None:
    """'I'll be there' on a lobby day a week away: its postcode step."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    chat.storage.create_lobby_event(
        texts={"title": {"en": "Mass lobby"}, "place": {"en": "Central Lobby"}},
        starts_at=soon,
        rsvp_deadline=soon - dt.timedelta(days=1),
        hashtag="#masslobby",
        created_by=ORGANISER_ID,
    )
    await chat.press(SUPPORTER, keyboards.journey_data("lobby"))
    (yes,) = [data for data in chat.button_data(SUPPORTER) if data.startswith(lobby_screens.YES)]
    await chat.press(SUPPORTER, yes)


STEPS = [
    at_postcode,
    at_letter_name,
    at_letter_sentence,
    at_solidarity_message,
    at_solidarity_signature,
    at_lobby_postcode,
]


@pytest.mark.parametrize("step", STEPS)
async def test_an_edit_at_a_free_text_step_is_asked_again_as_a_new_message(chat, step):
    await join(chat)
    await step(chat)
    (reply,) = await edit(chat, SUPPORTER, "SW1A 1AA")
    assert RESEND in reply
    assert "SW1A" not in str(chat.app.user_data[SUPPORTER])  # the edit was not taken
    # Still waiting at the same step: a new message is taken as the answer.
    replies = await chat.send(SUPPORTER, "not a postcode!")
    assert replies and RESEND not in replies[-1].text


async def test_an_edit_while_composing_a_broadcast_is_asked_again(chat):
    await chat.send(ORGANISER_ID, "/start")
    await chat.send(ORGANISER_ID, "/broadcast")
    (reply,) = await edit(chat, ORGANISER_ID, "Join us on Saturday")
    assert RESEND in reply


async def test_an_edit_while_setting_up_a_lobby_day_is_asked_again(chat):
    await chat.send(ORGANISER_ID, "/start")
    await chat.send(ORGANISER_ID, "/lobby")
    await chat.press(ORGANISER_ID, lobby_screens.NEW)
    (reply,) = await edit(chat, ORGANISER_ID, "Mass lobby")
    assert RESEND in reply


async def test_an_edit_outside_a_journey_is_left_alone(chat):
    await join(chat)
    assert await edit(chat, SUPPORTER, "a typo fixed in an old message") == []
