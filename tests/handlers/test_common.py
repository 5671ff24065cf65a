"""Replies and edits as Telegram takes or refuses them: every screen reaches the person, in
their own language, whatever Telegram says about the message before it."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot.app.offline import CHAT_KINDS, Fault
from handlers.common import ButtonHandler, Journey
from messages import keyboards
from messages.i18n import label, text
from tests.support.journeys import onboard

GENERIC = "Sorry, something went wrong"
HELP = "How this bot helps"


def is_edit(call) -> bool:
    return call.method == "editMessageText"


async def test_a_screen_whose_edit_telegram_refuses_comes_as_a_new_message(chat):
    """Too old to edit (Telegram's 48 hours), or deleted: the screen still arrives, buttons too."""
    await onboard(chat, 1)
    chat.api.fail(Fault(400, "Bad Request: message can't be edited"), when=is_edit)
    calls = await chat.press(1, keyboards.MENU_HELP)
    (new,) = [call for call in calls if call.method == "sendMessage"]
    assert HELP in new.text
    assert keyboards.MENU in [button["callback_data"] for button in new.buttons]
    assert GENERIC not in chat.last_text(1)


async def test_a_screen_pressed_for_again_on_the_same_message_comes_as_a_new_message(chat):
    """Telegram refuses an edit that changes nothing ("message is not modified")."""
    await onboard(chat, 1)
    await chat.send(1, "/menu")
    menu = chat.message_with(1, keyboards.MENU_HELP)
    await chat.press(1, keyboards.MENU_HELP, message_id=menu)
    await chat.press(1, keyboards.MENU, message_id=menu)  # the help screen's own button
    calls = await chat.press(1, keyboards.MENU, message_id=menu)
    assert [call.method for call in calls if call.method != "answerCallbackQuery"] == [
        "editMessageText",  # refused: the menu is already there
        "sendMessage",
    ]
    menu_buttons = keyboards.main_menu("en").inline_keyboard
    assert chat.button_data(1) == [button.callback_data for row in menu_buttons for button in row]


async def test_a_reply_telegram_asks_to_wait_for_arrives_after_the_wait(chat):
    """A 429 with retry_after: the reply waits its turn and goes, no apology instead."""
    await onboard(chat, 1)
    chat.api.fail(Fault(429, retry_after=1), when=lambda call: call.method == "sendMessage")
    calls = await chat.send(1, "/help")
    sent = [call for call in calls if call.method == "sendMessage"]
    assert [call.result is None for call in sent] == [True, False]
    assert HELP in sent[-1].text


async def test_a_reply_telegrams_servers_refused_arrives_once_they_take_it(chat):
    """A 500, then a 502 from the proxy in front: nothing was sent, so the reply is sent again
    and arrives, once, with no apology instead."""
    await onboard(chat, 1)
    for status in (500, 502):
        chat.api.fail(Fault(status), when=lambda call: call.method == "sendMessage")
    calls = await chat.send(1, "/help")
    sent = [call for call in calls if call.method == "sendMessage"]
    assert [call.result is None for call in sent] == [True, True, False]
    assert HELP in sent[-1].text


async def test_a_reply_that_times_out_gets_the_kind_apology_in_the_persons_language(chat):
    await onboard(chat, 1, "pt-br")
    chat.api.fail(Fault("timeout"), when=lambda call: call.method == "sendMessage")
    await chat.send(1, "/help", "pt-br")
    assert chat.last_text(1) == text("pt", "core.errors.generic")


async def test_a_kept_keyboard_is_shown_to_each_person_in_their_own_language(chat):
    """The menu's keyboard is built once per language and kept: three people asking for it in
    turn each get theirs."""
    people = {1: "en", 2: "pt-br", 3: "es-419"}
    for user_id, code in people.items():
        await onboard(chat, user_id, code)
    for _ in range(2):
        for user_id, code in people.items():
            await chat.send(user_id, "/menu", code)
            language = code[:2]
            petition = label(language, "core.menu.button_petition")
            assert chat.buttons(user_id)[0]["text"] == petition, code
    assert len({chat.buttons(user_id)[0]["text"] for user_id in people}) == 3


def sample_updates(chat, user_id: int) -> list[Update]:
    """Every kind of update in every kind of chat, and in the private chat the texts and
    button presses journeys start and continue on: each journey's own entry buttons, others',
    postcodes whole and half, commands, a name, an edited message."""
    updates = [
        chat.updates.of_type(kind, user_id, where)
        for kind in Update.ALL_TYPES
        for where in CHAT_KINDS
    ]
    texts = ["/start", "/menu", "/broadcast", "/lobby", "SW1A 1AA", "sw1a", "Ana", "hello"]
    updates += [chat.updates.message(user_id, typed) for typed in texts]
    updates.append(chat.updates.edited(user_id, "SW1A 1AA"))
    presses = {keyboards.MENU_HELP, keyboards.journey_data("mp"), "stale:button"}
    for journey in journeys(chat):
        for handler in journey.entry_points + journey.fallbacks:
            if isinstance(handler, ButtonHandler) and handler.pattern is not None:
                presses.add(re.sub(r"[\\^$()]", "", handler.pattern.pattern).split("|")[0] + "1")
    updates += [chat.updates.callback(user_id, data) for data in sorted(presses)]
    return updates


def journeys(chat) -> list[Journey]:
    return [handler for handler in chat.app.handlers[0] if isinstance(handler, Journey)]


async def test_every_journey_takes_exactly_the_updates_python_telegram_bot_would_give_it(chat):
    """`Journey` answers "not this journey's" early for someone with no such journey open:
    for every kind of update, with a journey open and without, it takes the same updates to
    the same handlers as python-telegram-bot's own check (a wrong early answer would leave a
    supporter mid-letter unheard, or start nothing where a button should)."""
    open_journey, no_journey = 1, 2
    updates = sample_updates(chat, open_journey) + sample_updates(chat, no_journey)
    for journey in journeys(chat):
        first_state = next(iter(journey.states))
        journey._conversations[(open_journey, open_journey)] = first_state
        for update in updates:
            ours = journey.check_update(update)
            theirs = ConversationHandler.check_update(journey, update)
            assert (ours is None) == (theirs is None), (journey.name, update.to_dict())
            if theirs is not None:
                assert ours[2] is theirs[2], (journey.name, update.to_dict())


async def test_every_button_handler_takes_exactly_the_presses_python_telegram_bot_would(chat):
    """`ButtonHandler` matches its compiled pattern directly: for every button handler the
    bot has (journeys' included) and every sample update, it gives the same answer as
    python-telegram-bot's own check, so no press reaches another handler than before."""
    updates = sample_updates(chat, 1)
    handlers = list(chat.app.handlers[0])
    for journey in journeys(chat):
        handlers += journey.entry_points + journey.fallbacks
        handlers += [handler for step in journey.states.values() for handler in step]
    buttons = [handler for handler in handlers if isinstance(handler, ButtonHandler)]
    assert len(buttons) > 50
    for button in buttons:
        for update in updates:
            ours = button.check_update(update)
            theirs = CallbackQueryHandler.check_update(button, update)
            if hasattr(theirs, "group"):  # a match: the same text matched
                assert ours.group(0) == theirs.group(0), (button.pattern, update.to_dict())
            else:
                assert ours is theirs, (button.pattern, update.to_dict())
