"""Edited messages (fault 5): at every step waiting for typed text, an edit gets a clear "please
send it again as a new message" and the step keeps waiting; elsewhere an edit is left alone."""

from __future__ import annotations

import pytest

from handlers.solidarity import DRAFT
from messages import keyboards
from messages.mp import FIND
from messages.solidarity import WRITE
from tests.support.harness import ORGANISER_ID

SUPPORTER = 616_001
RESEND = "please send it again as a new message"


async def edit(chat, user_id: int, text: str) -> list[str]:
    before = len(chat.api.calls)
    await chat.app.process_update(chat.updates.edited(user_id, text))
    return [call.text for call in chat.api.calls[before:] if call.method == "sendMessage"]


async def join(chat, user_id: int = SUPPORTER) -> None:
    await chat.send(user_id, "/start")
    await chat.press(user_id, keyboards.OPTIN_YES)


async def at_postcode(chat) -> None:
    await chat.press(SUPPORTER, FIND)


async def at_solidarity_message(chat) -> None:
    await chat.press(SUPPORTER, WRITE)


@pytest.mark.parametrize("step", [at_postcode, at_solidarity_message])
async def test_an_edit_at_a_free_text_step_is_asked_again_as_a_new_message(chat, step):
    await join(chat)
    await step(chat)
    (reply,) = await edit(chat, SUPPORTER, "SW1A 1AA")
    assert RESEND in reply
    assert DRAFT not in chat.app.user_data[SUPPORTER]
    # Still waiting at the same step: a new message is taken as the answer.
    replies = await chat.send(SUPPORTER, "not a postcode!")
    assert replies and RESEND not in replies[-1].text


async def test_an_edit_while_composing_a_broadcast_is_asked_again(chat):
    await chat.send(ORGANISER_ID, "/start")
    await chat.send(ORGANISER_ID, "/broadcast")
    (reply,) = await edit(chat, ORGANISER_ID, "Join us on Saturday")
    assert RESEND in reply


async def test_an_edit_outside_a_journey_is_left_alone(chat):
    await join(chat)
    assert await edit(chat, SUPPORTER, "a typo fixed in an old message") == []
