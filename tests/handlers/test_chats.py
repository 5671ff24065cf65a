"""Chats that are not private, and updates without a person (X8, X9): the bot is personal, so it
acts only in a private chat; anywhere else it says at most once where to find it, and updates
about nobody in particular (a channel post, a reaction count, a boost) pass in silence."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

import handlers
from bot.app.build import ALL_COMMANDS
from bot.app.offline import CHAT_KINDS
from bot.consent import DAILY_PROMPT
from messages import consent, keyboards
from tests.support.harness import ORGANISER_ID, make_settings, running_bot
from tests.support.journeys import every_button, use_services
from tests.support.parliament import FakeServices, lookup_routes

SUPPORTER = 777_001
ELSEWHERE = [kind for kind in CHAT_KINDS if kind != "private"]
# Update kinds a person sends in a chat; every other kind is news about something else.
FROM_A_PERSON = {Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY}


def rows(chat, table: str) -> int:
    return chat.storage.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]


def errors_logged(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("kind", ELSEWHERE)
async def test_x8_outside_a_private_chat_every_command_gets_one_pointer_and_no_rows(chat, kind):
    sent = []
    for user_id in (SUPPORTER, ORGANISER_ID):
        for command in ALL_COMMANDS:
            update = chat.updates.message(user_id, f"/{command}", chat=kind)
            await chat.app.process_update(update)
            sent += [call for call in chat.api.sent() if call.chat_id == update.effective_chat.id]
            chat.api.clear()
    if kind == "channel":
        assert sent == []  # a post in the campaign's channel is read by all its subscribers
    else:
        (pointer,) = sent  # said once in that chat, whoever asked and however often
        assert "t.me/StepUpBot?start=menu" in pointer.text
    assert rows(chat, "supporters") == rows(chat, "chat_messages") == 0


@pytest.mark.parametrize("kind", ["group", "supergroup", "forum"])
async def test_x8_the_pointer_is_said_once_per_group_across_restarts_and_names_nobody(
    tmp_path, api, kind
):
    settings = make_settings(tmp_path)
    for user_id in (SUPPORTER, SUPPORTER + 1):  # two members, each in a life of the bot
        async with running_bot(settings, api) as chat:
            update = chat.updates.message(user_id, "/start", chat=kind)
            await chat.app.process_update(update)
            kept = chat.storage.db.execute("SELECT * FROM shared_chats_told").fetchall()
    assert len([call for call in api.sent() if "t.me/StepUpBot" in call.text]) == 1
    assert [row[0] for row in kept] == [update.effective_chat.id]  # the group's id, no person's


@pytest.mark.parametrize("kind", ELSEWHERE)
async def test_x8_personal_answers_never_reach_a_shared_chat(chat, kind):
    """/mydata, a postcode and /forget by someone who is a supporter in private."""
    await chat.send(SUPPORTER, "/start")
    await chat.press(SUPPORTER, consent.OPTIN_DAILY)
    before = chat.storage.personal_data(SUPPORTER)
    chat.api.clear()
    for text in ("/mydata", "SW1A 1AA", "/forget", "/stop"):
        await chat.app.process_update(chat.updates.message(SUPPORTER, text, chat=kind))
    assert all("t.me/StepUpBot" in call.text for call in chat.api.sent())
    assert not [call for call in chat.api.calls if call.method.startswith("delete")]
    assert chat.storage.personal_data(SUPPORTER) == before
    assert chat.storage.may_receive(SUPPORTER, DAILY_PROMPT)


@pytest.mark.parametrize("kind", ELSEWHERE)
async def test_x8_a_button_pressed_in_a_group_records_nothing_and_posts_nothing(chat, kind):
    for data in (consent.OPTIN_DAILY, keyboards.FORGET_YES, keyboards.MENU):
        await chat.app.process_update(chat.updates.callback(SUPPORTER, data, chat=kind))
    assert chat.api.sent() == []
    answers = [call for call in chat.api.calls if call.method == "answerCallbackQuery"]
    assert len(answers) == 3 and all(answer.params.get("show_alert") for answer in answers)
    assert rows(chat, "supporters") == rows(chat, "consents") == 0


async def test_x8_no_button_a_supporter_meets_acts_when_pressed_in_a_group(chat):
    """Every button met from the menu on, by someone who is a supporter in private, pressed in
    each kind of shared chat: nothing posted there, nothing recorded, each press answered."""
    await use_services(chat, FakeServices(lookup_routes()))
    await chat.send(SUPPORTER, "/start")
    await chat.press(SUPPORTER, consent.OPTIN_DAILY)
    buttons = await every_button(chat, SUPPORTER, avoid=(keyboards.FORGET_YES,))
    before = chat.storage.personal_data(SUPPORTER)
    chat.api.clear()
    for kind in ELSEWHERE:
        for data in sorted(buttons):
            await chat.app.process_update(chat.updates.callback(SUPPORTER, data, chat=kind))
    assert chat.api.sent() == []
    answers = [call for call in chat.api.calls if call.method == "answerCallbackQuery"]
    assert len(answers) == len(buttons) * len(ELSEWHERE)
    assert chat.api.calls == answers  # no edit, no deletion, nothing else
    assert chat.storage.personal_data(SUPPORTER) == before


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kind=st.sampled_from(Update.ALL_TYPES), where=st.sampled_from(CHAT_KINDS))
async def test_x9_every_update_type_in_every_chat_passes_without_error_or_stray_message(
    chat, caplog, kind, where
):
    caplog.clear()
    chat.api.clear()
    update = chat.updates.of_type(kind, SUPPORTER, where)
    await chat.app.process_update(update)
    assert errors_logged(caplog) == []
    sent = chat.api.sent()
    if kind in FROM_A_PERSON and where == "private":
        return  # a person talking to the bot: answered, as every other test shows
    assert all("t.me/StepUpBot" in call.text for call in sent)  # at most the pointer
    if kind not in FROM_A_PERSON:
        assert sent == []


def test_telegram_is_asked_only_for_the_updates_the_bot_handles():
    assert set(handlers.ALLOWED_UPDATES) == FROM_A_PERSON | {Update.MY_CHAT_MEMBER}


async def test_a_supporter_who_blocks_the_bot_gets_nothing_more(chat):
    await chat.send(SUPPORTER, "/start")
    await chat.press(SUPPORTER, consent.OPTIN_DAILY)
    chat.api.clear()
    await chat.app.process_update(chat.updates.of_type(Update.MY_CHAT_MEMBER, SUPPORTER))
    assert not chat.storage.may_receive(SUPPORTER, DAILY_PROMPT)
    assert chat.storage.get_supporter(SUPPORTER)["blocked_at"]
    assert chat.api.calls == []  # a blocked chat cannot be written to anyway


async def test_someone_forgotten_who_then_blocks_the_bot_stays_forgotten(chat):
    await chat.send(SUPPORTER, "/start")
    await chat.press(SUPPORTER, keyboards.FORGET_YES)
    assert chat.storage.get_supporter(SUPPORTER) is None
    await chat.app.process_update(chat.updates.of_type(Update.MY_CHAT_MEMBER, SUPPORTER))
    assert chat.storage.personal_data(SUPPORTER) == {}
    assert rows(chat, "supporters") == 0
