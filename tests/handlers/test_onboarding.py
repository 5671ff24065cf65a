from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app.offline import Fault
from bot.consent import DAILY_PROMPT, UPDATES, WHATS_NEXT
from bot.delivery import Audience
from bot.mps import looks_like_postcode
from bot.stats import gather_stats
from messages import consent, keyboards
from tests.support.harness import ORGANISER_ID, make_settings, running_bot, tags_in


async def test_start_greets_in_telegram_language_and_asks_for_opt_in(chat):
    replies = await chat.send(1, "/start", language_code="pt-br")
    texts = [call.text for call in replies]
    assert any("Boas-vindas" in text for text in texts)
    assert consent.OPTIN_DAILY in chat.button_data(1)
    assert chat.storage.get_supporter(1)["language"] == "pt"
    assert not any(chat.storage.consents(1).values())


async def test_a_new_supporter_gets_two_messages_the_welcome_with_languages_and_the_question(chat):
    """Each message costs a thirtieth of a second of the bot's capacity in a rush."""
    replies = await chat.send(1, "/start")
    assert [call.method for call in replies] == ["sendMessage", "sendMessage"]
    welcome, question = replies
    assert "Not your language?" in welcome.text
    assert "lang:pt" in [button.get("callback_data") for button in welcome.buttons]
    assert consent.OPTIN_DAILY in [button.get("callback_data") for button in question.buttons]


@pytest.mark.parametrize(
    ("code", "greeting"),
    [("es-AR", "Te damos la bienvenida"), ("fr", "Welcome"), (None, "Welcome")],
)
async def test_language_is_guessed_from_telegram(chat, code, greeting):
    await chat.send(7, "/start", language_code=code)
    assert greeting in chat.texts(7)[0]


async def test_each_kind_is_chosen_separately_and_recorded_with_time_and_wording(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_DAILY)
    assert chat.storage.consents(1) == {DAILY_PROMPT: True, UPDATES: False, WHATS_NEXT: False}
    recorded = chat.storage.personal_data(1)["consents"]
    assert [(row["subject"], row["granted"]) for row in recorded] == [
        (DAILY_PROMPT, 1),
        (UPDATES, 0),
    ]
    wording = chat.app.bot_data.campaign.consent_wording_version
    assert all(row["wording_version"] == wording and row["at"] for row in recorded)
    assert "Your progress" in chat.last_text(1)
    assert keyboards.journey_data("mp") in chat.button_data(1)


async def test_declining_both_is_recorded_and_nothing_is_sent(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_NONE)
    assert not any(chat.storage.consents(1).values())
    assert [row["granted"] for row in chat.storage.personal_data(1)["consents"]] == [0, 0]


async def test_switching_language_during_onboarding_repeats_the_question_in_it(chat):
    await chat.send(1, "/start")
    await chat.press(1, "lang:es")
    texts = chat.texts(1)
    assert "Listo" in texts[-3]
    assert "bienvenida" in texts[-2]
    assert "un mensaje corto al día" in texts[-1]
    assert chat.storage.get_supporter(1)["language"] == "es"


async def test_deep_link_referral_is_recorded_as_source(chat):
    await chat.send(1, "/start ref-abc123")
    assert chat.storage.get_supporter(1)["referral_source"] == "ref-abc123"


async def test_malformed_deep_link_is_ignored_not_stored(chat):
    await chat.send(1, "/start <script>")
    assert chat.storage.get_supporter(1)["referral_source"] is None
    assert "Welcome" in chat.texts(1)[0]


async def test_returning_supporter_goes_straight_to_menu(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_DAILY)
    replies = await chat.send(1, "/start")
    assert len(replies) == 1
    assert "Your progress" in replies[0].text


async def test_menu_shows_checklist_with_next_step(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_NONE)
    chat.storage.record_action(1, "petition_signed")
    await chat.send(1, "/menu")
    menu = chat.last_text(1)
    assert "✅ Sign the petition" in menu
    assert "Next: <b>Write to your MP</b>" in menu


async def test_stale_or_tampered_button_gets_polite_answer_and_menu(chat):
    await chat.send(1, "/start")
    replies = await chat.press(1, "menu:doesnotexist")
    answers = [call for call in replies if call.method == "answerCallbackQuery"]
    assert "expired" in answers[0].params["text"]
    replies = await chat.press(1, "x" * 64)
    assert any(call.method == "answerCallbackQuery" for call in replies)
    assert "Your progress" in chat.last_text(1)


async def test_commands_are_published_in_each_language_and_organisers_get_theirs(chat):
    published = [call for call in chat.api.calls if call.method == "setMyCommands"]
    languages = {call.params.get("language_code") for call in published}
    assert {None, "en", "pt", "es"} <= languages
    organiser = [call for call in published if "scope" in call.params]
    assert organiser and all("stats" in str(call.params["commands"]) for call in organiser)
    public = [call for call in published if "scope" not in call.params]
    assert all("broadcast" not in str(call.params["commands"]) for call in public)


async def test_half_way_onboarding_survives_restart(settings, api):
    async with running_bot(settings, api) as chat:
        await chat.send(1, "/start mp")
    async with running_bot(settings, api) as chat:
        assert chat.app.user_data[1]["pending_journey"] == "mp"
        await chat.press(1, consent.OPTIN_DAILY)
        assert chat.storage.may_receive(1, DAILY_PROMPT)
        assert "pending_journey" not in chat.app.user_data[1]


async def test_text_nobody_waits_for_gets_a_kind_pointer_to_the_menu(chat):
    await chat.send(1, "/start")
    replies = await chat.send(1, "hello? <b>anyone</b>")
    assert "didn't understand" in replies[-1].text
    assert "<b>anyone" not in replies[-1].text
    replies = await chat.send(1, "/nonsense")
    assert "didn't understand" in replies[-1].text


async def test_cancel_outside_a_journey_shows_the_menu(chat):
    await chat.send(1, "/start")
    replies = await chat.send(1, "/cancel")
    assert "Your progress" in replies[-1].text


async def test_an_organiser_who_never_opened_the_bot_does_not_cost_the_others_their_menu(
    tmp_path, api
):
    settings = make_settings(tmp_path, organiser_ids=frozenset({111, 222}))
    # Whichever organiser is asked first has never opened the bot: Telegram refuses.
    api.fail(Fault(400, "Bad Request: chat not found"), when=lambda call: "scope" in call.params)
    async with running_bot(settings, api):
        menus = Counter(
            call.params["scope"]["chat_id"]
            for call in api.calls
            if call.method == "setMyCommands" and "scope" in call.params
        )
    assert api.faults == []
    assert sorted(menus.values()) == [1, 4]  # one refusal; the other got all four menus


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    typed=st.text(min_size=1, max_size=10_000)
    | st.sampled_from(["<b>x</b>", "<script>", "🙂" * 50, "e1 6an", "A1"])
)
async def test_any_text_outside_a_journey_gets_a_kind_escaped_answer(chat, typed):
    if not typed.strip() or typed.lstrip().startswith("/"):
        return  # commands are routed elsewhere; Telegram sends no blank messages
    chat.storage.ensure_supporter(5, "en")  # someone who started (the gate answers the others)
    replies = await chat.send(5, typed)
    assert replies, "the supporter got no answer"
    answer = replies[-1].text
    # Loose text can be a postcode ("a1 1aa"): that gets the MP button, not a shrug.
    expected = "looks like a postcode" if looks_like_postcode(typed) else "didn't understand"
    assert expected in answer
    assert tags_in(answer) <= {"b", "i", "a", "code"}  # nothing from the input became markup


# --- organisers who never started as supporters -------------------------------------------------


async def choose_as_organiser(chat, code: str) -> list:
    """An organiser who never sent /start asks for /language and presses `code`."""
    await chat.send(ORGANISER_ID, "/language")
    return await chat.press(ORGANISER_ID, f"{keyboards.LANGUAGE_PREFIX}{code}")


async def test_an_organiser_who_never_started_works_in_the_language_they_choose(chat):
    replies = await choose_as_organiser(chat, "pt")
    texts = [call.text for call in replies if call.method == "sendMessage"]
    assert texts == ["Pronto: a partir de agora falo com você em português."]  # no welcome
    stats = await chat.send(ORGANISER_ID, "/stats")
    assert "<b>Pessoas apoiadoras</b>: 0" in stats[0].text
    await chat.send(ORGANISER_ID, "/broadcast")
    assert "Nova mensagem em massa" in chat.last_text(ORGANISER_ID)
    await chat.press(ORGANISER_ID, f"{keyboards.LANGUAGE_PREFIX}es")  # mid-composer: carries on
    assert "Nuevo envío masivo" in chat.last_text(ORGANISER_ID)
    assert chat.storage.language_of(ORGANISER_ID) == "es"  # what jobs tell organisers in
    assert chat.storage.get_supporter(ORGANISER_ID) is None


async def test_an_organisers_language_makes_them_no_supporter_and_no_recipient(chat):
    await chat.send(1, "/start")
    await chat.press(1, consent.OPTIN_BOTH)
    await choose_as_organiser(chat, "es")
    now = dt.datetime.now(dt.UTC)
    stats = gather_stats(chat.storage, chat.app.bot_data.campaign, now)
    assert stats.funnel["started"] == 1
    for subject in (None, DAILY_PROMPT, UPDATES, WHATS_NEXT):
        everyone = Audience().selection(subject)
        assert chat.storage.count_audience(everyone) <= 1, subject
    assert chat.storage.count_audience(Audience(languages=("es",)).selection(None)) == 0


async def test_an_organisers_language_moves_to_their_row_when_they_start(chat):
    await choose_as_organiser(chat, "es")
    await chat.send(ORGANISER_ID, "/start")
    assert "bienvenida" in chat.texts(ORGANISER_ID)[-2]
    assert chat.storage.get_supporter(ORGANISER_ID)["language"] == "es"
    assert "organiser_languages" not in chat.storage.personal_data(ORGANISER_ID)


async def test_an_organiser_sees_and_erases_their_language_without_having_started(chat):
    await choose_as_organiser(chat, "pt")
    await chat.send(ORGANISER_ID, "/mydata")
    page = chat.last_text(ORGANISER_ID)
    assert "comandos da organização: Português" in page
    assert keyboards.FORGET_ASK in chat.button_data(ORGANISER_ID)
    await chat.press(ORGANISER_ID, keyboards.FORGET_ASK)
    await chat.press(ORGANISER_ID, keyboards.FORGET_YES)
    assert chat.storage.personal_data(ORGANISER_ID) == {}
    assert chat.storage.chosen_language(ORGANISER_ID) is None
    (stats,) = [call for call in await chat.send(ORGANISER_ID, "/stats")][:1]
    assert "<b>Supporters</b>" in stats.text  # back to Telegram's language, English here


async def test_someone_the_bot_keeps_nothing_about_is_told_so_by_forget(chat):
    replies = await chat.send(1, "/forget")
    assert replies[-1].text == "I keep nothing about you, so there is nothing to erase."
    assert not replies[-1].buttons


async def test_the_menu_for_someone_who_never_started_says_how_to_begin(chat):
    """No checklist of progress nobody made, and no buttons that would each refuse."""
    for user_id in (1, ORGANISER_ID):
        (reply,) = await chat.send(user_id, "/menu")
        assert "opens once you send /start" in reply.text and not reply.buttons
        assert "Your progress" not in reply.text
    assert chat.storage.get_supporter(1) is None
