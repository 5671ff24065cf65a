"""What supporters choose to hear from us, from their side of the chat: separate choices at
/start, changeable from the menu (P2, P7); /stop and back; nothing kept about anyone until they
start, and nothing brought back after /forget (issue 13, points 1, 5 and 8)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app.build import ALL_COMMANDS
from bot.consent import DAILY_PROMPT, UPDATES, WHATS_NEXT
from bot.stats import gather_stats
from messages import broadcast, consent, keyboards, lobby
from messages.mp import SENT, SKIP_NAME, SKIP_SENTENCE
from messages.petition import SIGNED
from tests.support.broadcasts import compose
from tests.support.harness import ORGANISER_ID, make_settings, running_bot
from tests.support.journeys import every_button, use_services
from tests.support.legacy import before_consent_by_kind
from tests.support.parliament import FakeServices, lookup_routes

NOTHING = {DAILY_PROMPT: False, UPDATES: False, WHATS_NEXT: False}


def recorded(chat, user_id: int) -> list[tuple[str, int]]:
    return [
        (row["subject"], row["granted"]) for row in chat.storage.personal_data(user_id)["consents"]
    ]


async def test_the_question_at_start_explains_each_kind_and_offers_every_combination(chat):
    await chat.send(1, "/start")
    question = chat.last_text(1)
    assert "Daily prompt" in question and "one short message a day" in question
    assert "Campaign updates" in question and "at most 1 a day" in question
    assert set(chat.button_data(1)) == {
        consent.OPTIN_BOTH,
        consent.OPTIN_DAILY,
        consent.OPTIN_UPDATES,
        consent.OPTIN_NONE,
    }


@pytest.mark.parametrize(
    ("pressed", "daily", "updates"),
    [
        (consent.OPTIN_BOTH, True, True),
        (consent.OPTIN_DAILY, True, False),
        (consent.OPTIN_UPDATES, False, True),
        (consent.OPTIN_NONE, False, False),
    ],
)
async def test_each_answer_records_both_choices(chat, pressed, daily, updates):
    await chat.send(1, "/start")
    await chat.press(1, pressed)
    assert chat.storage.consents(1) == {**NOTHING, DAILY_PROMPT: daily, UPDATES: updates}
    assert recorded(chat, 1) == [(DAILY_PROMPT, int(daily)), (UPDATES, int(updates))]


async def test_every_choice_can_be_changed_from_the_menu_and_each_change_is_recorded(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_DAILY)
    assert keyboards.MENU_MESSAGES in chat.button_data(1)
    await chat.press(1, keyboards.MENU_MESSAGES)
    screen = chat.last_text(1)
    assert "What comes next" in screen and "after 10 December" in screen
    for subject, granted in ((UPDATES, True), (WHATS_NEXT, True), (DAILY_PROMPT, False)):
        assert consent.choice_data(subject, granted) in chat.button_data(1)
        await chat.press(1, consent.choice_data(subject, granted))
    assert chat.storage.consents(1) == {DAILY_PROMPT: False, UPDATES: True, WHATS_NEXT: True}
    assert recorded(chat, 1)[2:] == [(UPDATES, 1), (WHATS_NEXT, 1), (DAILY_PROMPT, 0)]
    wording = chat.app.bot_data.campaign.consent_wording_version
    rows = chat.storage.personal_data(1)["consents"]
    assert all(row["wording_version"] == wording and row["at"] for row in rows)
    assert "no more daily prompt" in chat.last_text(1)


async def test_the_question_and_the_messages_screen_say_what_comes_whatever_the_choice(chat):
    """Saying no to a kind is not /stop: the news of a lobby day someone said yes to and the
    follow-ups their own actions set up still come, and both screens say so."""
    await chat.send(1, "/start")
    assert "news of a lobby day you said you're going to" in chat.last_text(1)
    await chat.press(1, consent.OPTIN_NONE)
    await chat.press(1, keyboards.MENU_MESSAGES)
    screen = chat.last_text(1)
    assert "Whatever you choose here" in screen and "moves or is cancelled" in screen
    assert "send /stop, to end those too" in screen


async def test_mydata_says_when_they_sent_stop(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_BOTH)
    await chat.send(1, "/mydata")
    assert "You sent /stop" not in chat.last_text(1)
    await chat.send(1, "/stop")
    await chat.send(1, "/mydata")
    assert "You sent /stop on" in chat.last_text(1)


async def test_a_forged_choice_button_changes_nothing(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_NONE)
    for forged in ("consent:everything:1", "optin:21", "consent:campaign_updates:yes"):
        calls = await chat.press(1, forged)
        assert any(call.method == "answerCallbackQuery" for call in calls)
    assert chat.storage.consents(1) == NOTHING


async def test_a_repeated_stop_adds_no_consent_row(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_BOTH)
    await chat.send(1, "/stop")
    after_first = recorded(chat, 1)
    replies = await chat.send(1, "/stop")
    assert recorded(chat, 1) == after_first
    assert chat.storage.consents(1) == NOTHING
    assert "weren't getting any messages" in replies[-1].text


async def test_after_stop_start_offers_the_daily_prompt_and_updates_again(chat):
    """Issue 13, point 8: /stop said "/start brings you back", so /start does."""
    await chat.send(1, "/start", language_code="es")
    await chat.press(1, consent.OPTIN_BOTH, language_code="es")
    await chat.send(1, "/stop", language_code="es")
    replies = await chat.send(1, "/start", language_code="es")
    offered = "\n".join(call.text for call in replies)
    assert "tenerte de vuelta" in offered
    assert "Mensaje diario" in offered and "Novedades de la campaña" in offered
    assert consent.OPTIN_BOTH in chat.button_data(1)
    await chat.press(1, consent.OPTIN_DAILY, language_code="es")
    assert chat.storage.may_receive(1, DAILY_PROMPT)
    assert "Tu progreso" in chat.last_text(1)


async def test_an_answer_of_neither_is_not_asked_again_at_every_start(chat):
    """A newcomer's find: "Neither" was asked again at each /start. It stands until they change
    it on the Messages screen, which the menu always offers."""
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_NONE)
    for _ in range(2):
        (menu,) = await chat.send(1, "/start")
        assert "Your progress" in menu.text
        assert consent.OPTIN_NONE not in chat.button_data(1)
        assert keyboards.MENU_MESSAGES in chat.button_data(1)
    assert recorded(chat, 1) == [(DAILY_PROMPT, 0), (UPDATES, 0)]


async def test_after_stop_start_asks_once_and_neither_then_stands(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_NONE)
    await chat.send(1, "/stop")
    await chat.send(1, "/start mp")  # a deep link goes where it points; the question waits
    assert consent.OPTIN_NONE not in chat.button_data(1)
    data = await chat.send(1, "/mydata")
    assert "at your next /start I'll ask again" in "\n".join(call.text for call in data)
    await chat.send(1, "/start")
    assert consent.OPTIN_NONE in chat.button_data(1)
    await chat.press(1, consent.OPTIN_NONE)
    (menu,) = await chat.send(1, "/start")
    assert "Your progress" in menu.text


@pytest.mark.parametrize(
    ("answers", "welcomed_back"),
    [([True, False], True), ([False], True), ([True], False)],
    ids=["stopped", "said-no", "getting-the-prompt"],
)
async def test_someone_from_before_consent_by_kind_is_asked_about_updates_once(
    tmp_path, answers, welcomed_back
):
    """Before 0.2.0 the only question was the daily prompt, and /stop left no note to ask
    again. Whoever stopped, said no or said yes then was never asked about campaign updates:
    their next plain /start asks once, saying what each kind is; their answer then stands."""
    before_consent_by_kind(tmp_path / "bot.db", {1: answers})
    async with running_bot(make_settings(tmp_path)) as chat:
        await chat.send(1, "/start mp")  # a deep link still goes where it points
        assert consent.OPTIN_NONE not in chat.button_data(1)
        replies = await chat.send(1, "/start")
        offered = "\n".join(call.text for call in replies)
        assert ("Welcome back" in offered) is welcomed_back
        assert "Daily prompt" in offered and "Campaign updates" in offered
        await chat.press(1, consent.OPTIN_UPDATES)
        assert chat.storage.consents(1) == {**NOTHING, UPDATES: True}
        (menu,) = await chat.send(1, "/start")
        assert "Your progress" in menu.text


async def test_the_last_prompts_link_opens_the_messages_screen_to_choose_what_comes_next(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_DAILY)
    await chat.send(1, f"/start {consent.MESSAGES}")  # the link in the last daily prompt
    assert "What comes next" in chat.last_text(1)
    await chat.press(1, consent.choice_data(WHATS_NEXT, True))
    assert chat.storage.consents(1) == {DAILY_PROMPT: True, UPDATES: False, WHATS_NEXT: True}


async def test_a_newcomer_through_that_link_answers_the_question_then_sees_the_screen(chat):
    await chat.send(1, f"/start {consent.MESSAGES}")
    await chat.press(1, consent.OPTIN_NONE)
    assert consent.choice_data(WHATS_NEXT, True) in chat.button_data(1)


async def test_nothing_but_start_creates_a_row(chat):
    """Issue 13, point 5: a message, a button or a command from someone who never started keeps
    nothing about them, and each gets a polite answer."""
    replies = await chat.send(1, "hello")
    assert "/start" in replies[-1].text
    calls = await chat.press(1, keyboards.journey_data("mp"))
    assert any("/start" in call.params.get("text", "") for call in calls)
    await chat.send(1, "/help")
    await chat.send(1, "/stop")
    assert chat.storage.get_supporter(1) is None
    assert chat.storage.personal_data(1) == {}
    await chat.send(1, "/start mp")
    assert chat.storage.get_supporter(1)["referral_source"] == "mp"


async def test_after_forget_nothing_brings_the_row_back_and_stats_do_not_count_them(chat):
    for user_id in (1, 2):
        await chat.send(user_id, "/start")
        await chat.press(user_id, consent.OPTIN_BOTH)
    await chat.send(1, "/forget")
    await chat.press(1, keyboards.FORGET_YES)
    await chat.send(1, "are you still there?")
    await chat.press(1, SENT)  # "I've sent it" from an old message
    await chat.press(1, consent.OPTIN_BOTH)
    await chat.send(1, "/stop")
    assert chat.storage.personal_data(1) == {}
    stats = gather_stats(chat.storage, chat.app.bot_data.campaign, dt.datetime.now(dt.UTC))
    assert stats.funnel["started"] == 1


async def test_after_forget_no_button_and_no_command_keeps_anything_or_acts(chat):
    """Issue 13, point 5, for everything a supporter could have left on screen: each button
    met from the menu on, pressed after /forget, and every command but /start."""
    await use_services(chat, FakeServices(lookup_routes()))
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_BOTH)
    buttons = await every_button(chat, 1, avoid=(keyboards.FORGET_YES,))
    assert len(buttons) > 25  # every menu entry, the Messages screen, the journeys' first steps
    # ...and those further in, or pressed once and edited away: the answer at /start, a letter.
    deeper = {consent.OPTIN_BOTH, consent.OPTIN_NONE, SENT, SKIP_NAME, SKIP_SENTENCE}
    deeper |= {f"{lobby.YES}1", f"{lobby.STORY}1", "optin:11", "mp:unknown"}
    await chat.send(1, "/forget")
    await chat.press(1, keyboards.FORGET_YES)
    for data in sorted(buttons | deeper):
        calls = await chat.press(1, data)
        assert any("/start" in call.params.get("text", "") for call in calls), data
    for command in sorted(set(ALL_COMMANDS) - {"start"}):
        await chat.send(1, f"/{command}")
    await chat.send(1, "SW1A 1AA")
    assert chat.storage.personal_data(1) == {}
    assert chat.storage.get_supporter(1) is None
    assert 1 not in chat.app.user_data or chat.app.user_data[1] == {}
    assert chat.storage.chat_messages_since(1, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) == []


async def test_an_organiser_after_forget_is_not_recreated_by_supporter_buttons(chat):
    await chat.send(ORGANISER_ID, "/start")
    await chat.press(ORGANISER_ID, consent.OPTIN_BOTH)
    await chat.send(ORGANISER_ID, "/forget")
    await chat.press(ORGANISER_ID, keyboards.FORGET_YES)
    await chat.send(ORGANISER_ID, "/menu")
    refused = await chat.press(ORGANISER_ID, keyboards.journey_data("petition"))
    await chat.press(ORGANISER_ID, SIGNED)
    await chat.press(ORGANISER_ID, keyboards.journey_data("share"))
    assert chat.storage.get_supporter(ORGANISER_ID) is None
    # Only the chat's message ids, as for any organiser, for the next /forget to delete.
    assert set(chat.storage.personal_data(ORGANISER_ID)) == {"chat_messages"}
    assert "Send /start to begin" in refused[-1].params["text"]
    # Their own work goes on without a supporter row: a broadcast composed and its audience.
    await compose(chat)
    replies = await chat.press(ORGANISER_ID, broadcast.CONTINUE)
    assert any(broadcast.EVERYONE in str(call.params) for call in replies)
    assert chat.storage.get_supporter(ORGANISER_ID) is None
