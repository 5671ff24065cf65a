"""The solidarity journey and its moderation, driven through the real Application."""

from __future__ import annotations

import html
import logging
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.app import logs
from bot.mps import looks_like_postcode
from bot.progress import SOLIDARITY_POSTED, SOLIDARITY_WRITTEN
from bot.solidarity import MAX_SIGNATURE_LENGTH, tidy_message, tidy_signature
from bot.typed import says_something
from handlers import solidarity as journey
from messages import consent, keyboards
from messages.solidarity import (
    ANONYMOUS,
    APPROVE,
    CANCEL,
    EDIT,
    EXPORT,
    PENDING_NEXT,
    POSTED,
    REJECT,
    REJECT_YES,
    SEND,
    WRITE,
)
from tests.support.fakes import FileKeepingAPI
from tests.support.harness import ORGANISER_ID, running_bot, tags_in
from tests.support.pdf import flat, pdf_text

SUPPORTER = 1
OTHER = 2
GENERIC_ERROR = "Sorry, something went wrong"
# The tags our own solidarity and core messages use; anything else came from someone's input.
OUR_TAGS = {"b", "i", "blockquote"}
STATE_TABLES = ("conversations", "user_data")  # where a journey's state is saved


def documents(api: FileKeepingAPI) -> list[tuple[str, bytes]]:
    return [
        (filename, content) for method, filename, content in api.files if method == "sendDocument"
    ]


def texts(calls) -> list[str]:
    return [call.text for call in calls if call.method.startswith(("send", "edit"))]


def answers(calls) -> list[str]:
    return [call.params.get("text", "") for call in calls if call.method == "answerCallbackQuery"]


@pytest.fixture(autouse=True)
def supporters_have_started(request):
    """The supporters in these tests have started (/start made their row), unless a test starts
    them itself in another language."""
    if "chat" in request.fixturenames and "newcomer" not in request.node.name:
        started(request.getfixturevalue("chat"), SUPPORTER, OTHER)


def started(chat, *user_ids: int) -> None:
    """These people have started (their /start made their row): the bot acts for them."""
    for user_id in user_ids:
        chat.storage.ensure_supporter(user_id, "en")


async def write(chat, user_id: int, body: str, signature: str | None) -> None:
    """The whole journey up to the preview: write, then sign (or sign anonymously)."""
    started(chat, user_id)
    await chat.press(user_id, WRITE)
    await chat.send(user_id, body)
    if signature is None:
        await chat.press(user_id, ANONYMOUS)
    else:
        await chat.send(user_id, signature)


async def submit(chat, user_id: int, body: str, signature: str | None = "Ana") -> int:
    """Write and send a message; returns its id in the moderation queue."""
    await write(chat, user_id, body, signature)
    await chat.press(user_id, SEND)
    rows = chat.storage.personal_data(user_id)["solidarity_messages"]
    return rows[-1]["id"]


def message_rows(chat, user_id: int) -> list[dict]:
    return chat.storage.personal_data(user_id).get("solidarity_messages", [])


def non_text_message(chat, user_id: int, kind: str) -> Update:
    """A sticker or a photo, as Telegram delivers them."""
    attachment = {
        "sticker": {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
        "photo": [{"file_id": "photo-1", "file_unique_id": "p1", "width": 90, "height": 90}],
    }[kind]
    message = {
        "message_id": 900,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
        "from": chat.updates.user(user_id),
        kind: attachment,
    }
    return Update.de_json({"update_id": 90000, "message": message}, chat.app.bot)


# --- opening the journey ------------------------------------------------------------------------


async def test_menu_button_shows_the_address_suggested_message_and_languages(chat):
    calls = await chat.press(SUPPORTER, keyboards.journey_data("solidarity"))
    shown = texts(calls)[-1]
    assert "17-25 New Inn Yard" in shown and "EC2A 3EA" in shown
    assert "equal rights and equal protection" in shown
    assert "English, Portuguese or Spanish" in shown
    assert chat.button_data(SUPPORTER) == [POSTED, WRITE, keyboards.MENU]


async def test_journey_speaks_a_newcomers_language(chat):
    await chat.send(SUPPORTER, "/start", language_code="pt-br")
    await chat.press(SUPPORTER, consent.OPTIN_NONE, language_code="pt-br")
    await chat.send(SUPPORTER, "/start solidarity", language_code="pt-br")
    shown = chat.last_text(SUPPORTER)
    assert "Apoiamos direitos iguais" in shown
    assert "inglês, português ou espanhol" in shown
    assert "New Inn Yard" in shown


async def test_posting_a_letter_is_recorded_and_ticked_on_the_checklist(chat):
    await chat.press(SUPPORTER, keyboards.journey_data("solidarity"))
    await chat.press(SUPPORTER, POSTED)
    assert SOLIDARITY_POSTED in chat.storage.done_actions(SUPPORTER)
    assert "Thank you for posting" in chat.last_text(SUPPORTER)
    await chat.send(SUPPORTER, "/menu")
    assert "✅ Send solidarity" in chat.last_text(SUPPORTER)


# --- writing a message --------------------------------------------------------------------------


async def test_a_signed_message_is_queued_for_moderation_and_the_draft_is_gone(chat):
    await chat.press(SUPPORTER, WRITE)
    assert "600 characters" in chat.last_text(SUPPORTER)
    await chat.send(SUPPORTER, "You are not alone. We stand with you.")
    assert "How would you like to sign it?" in chat.last_text(SUPPORTER)
    await chat.send(SUPPORTER, "  Ana  ")
    preview = chat.last_text(SUPPORTER)
    assert "You are not alone. We stand with you." in preview
    assert "Signed: <b>Ana</b>" in preview
    assert chat.button_data(SUPPORTER) == [SEND, EDIT, CANCEL]

    await chat.press(SUPPORTER, SEND)
    assert "organisers" in chat.last_text(SUPPORTER)
    [row] = message_rows(chat, SUPPORTER)
    assert row["body"] == "You are not alone. We stand with you."
    assert row["signature"] == "Ana"
    assert row["status"] == "pending"
    assert row["language"] == "en"
    assert row["created_at"]
    assert SOLIDARITY_WRITTEN in chat.storage.done_actions(SUPPORTER)
    assert journey.DRAFT not in chat.app.user_data[SUPPORTER]


async def test_a_message_can_be_signed_anonymously(chat):
    await write(chat, SUPPORTER, "Força!", None)
    assert "anonymously" in chat.last_text(SUPPORTER)
    await chat.press(SUPPORTER, SEND)
    assert message_rows(chat, SUPPORTER)[0]["signature"] is None


async def test_a_newcomers_message_in_portuguese_is_stored_with_that_language(chat):
    await chat.send(SUPPORTER, "/start", language_code="pt")
    await chat.press(SUPPORTER, WRITE, language_code="pt")
    await chat.send(SUPPORTER, "Você não está sozinha.", language_code="pt")
    await chat.press(SUPPORTER, ANONYMOUS, language_code="pt")
    assert "Sua mensagem" in chat.last_text(SUPPORTER)
    await chat.press(SUPPORTER, SEND, language_code="pt")
    assert message_rows(chat, SUPPORTER)[0]["language"] == "pt"


async def test_a_supporter_half_way_continues_after_a_restart(settings, api):
    async with running_bot(settings, api) as chat:
        started(chat, SUPPORTER)
        await chat.press(SUPPORTER, WRITE)
        await chat.send(SUPPORTER, "Estamos com vocês.")
    async with running_bot(settings, api) as chat:
        await chat.send(SUPPORTER, "Maria")
        assert "Estamos com vocês." in chat.last_text(SUPPORTER)
    async with running_bot(settings, api) as chat:
        await chat.press(SUPPORTER, SEND)
        [row] = message_rows(chat, SUPPORTER)
        assert (row["body"], row["signature"]) == ("Estamos com vocês.", "Maria")


async def test_an_over_long_message_is_refused_with_the_limit_and_its_length(chat):
    await chat.press(SUPPORTER, WRITE)
    replies = await chat.send(SUPPORTER, "a" * 601)
    assert "601" in replies[-1].text and "600" in replies[-1].text
    assert journey.DRAFT not in chat.app.user_data[SUPPORTER]
    await chat.send(SUPPORTER, "a" * 600)
    assert "How would you like to sign it?" in chat.last_text(SUPPORTER)


async def test_the_limit_comes_from_the_campaign_file(chat):
    campaign = chat.app.bot_data.campaign
    shorter = campaign.solidarity.model_copy(update={"max_message_length": 50})
    chat.app.bot_data.campaign = campaign.model_copy(update={"solidarity": shorter})
    await chat.press(SUPPORTER, WRITE)
    assert "50 characters" in chat.last_text(SUPPORTER)
    replies = await chat.send(SUPPORTER, "b" * 51)
    assert "51" in replies[-1].text


@pytest.mark.parametrize("typed", ["   ", "\n\n\t"])
async def test_an_empty_message_gets_a_kind_re_ask(chat, typed):
    await chat.press(SUPPORTER, WRITE)
    replies = await chat.send(SUPPORTER, typed)
    assert "looks empty" in replies[-1].text
    await chat.send(SUPPORTER, "Coragem")
    assert "sign it" in chat.last_text(SUPPORTER)


@pytest.mark.parametrize("kind", ["sticker", "photo"])
async def test_a_sticker_or_photo_gets_a_kind_re_ask_at_each_step(chat, kind):
    await chat.press(SUPPORTER, WRITE)
    await chat.app.process_update(non_text_message(chat, SUPPORTER, kind))
    assert "Only text can be printed" in chat.last_text(SUPPORTER)
    await chat.send(SUPPORTER, "Coragem")
    await chat.app.process_update(non_text_message(chat, SUPPORTER, kind))
    assert "first name or initials" in chat.last_text(SUPPORTER)
    assert ANONYMOUS in chat.button_data(SUPPORTER)


async def test_an_over_long_or_empty_signature_is_asked_for_again(chat):
    await chat.press(SUPPORTER, WRITE)
    await chat.send(SUPPORTER, "Coragem")
    replies = await chat.send(SUPPORTER, "x" * (MAX_SIGNATURE_LENGTH + 1))
    assert str(MAX_SIGNATURE_LENGTH) in replies[-1].text
    replies = await chat.send(SUPPORTER, "  ")
    assert "first name or initials" in replies[-1].text
    await chat.send(SUPPORTER, "A.M.")
    assert "Signed: <b>A.M.</b>" in chat.last_text(SUPPORTER)


async def test_typing_at_the_preview_points_to_its_buttons(chat):
    await write(chat, SUPPORTER, "Coragem", "Ana")
    replies = await chat.send(SUPPORTER, "send it please")
    assert "use the buttons" in replies[-1].text
    assert chat.button_data(SUPPORTER) == [SEND, EDIT, CANCEL]
    assert message_rows(chat, SUPPORTER) == []


async def test_start_again_asks_for_a_new_message(chat):
    await write(chat, SUPPORTER, "First try", "Ana")
    await chat.press(SUPPORTER, EDIT)
    assert "Write your message" in chat.last_text(SUPPORTER)
    await chat.send(SUPPORTER, "Second try")
    await chat.press(SUPPORTER, ANONYMOUS)
    await chat.press(SUPPORTER, SEND)
    assert [row["body"] for row in message_rows(chat, SUPPORTER)] == ["Second try"]


@pytest.mark.parametrize("step", ["message", "signature"])
async def test_a_postcode_is_never_taken_as_a_message_or_signature(chat, step):
    """A postcode is only for finding an MP (and never kept): the hint offers that journey."""
    await chat.press(SUPPORTER, WRITE)
    if step == "signature":
        await chat.send(SUPPORTER, "You are not alone.")
    (hint,) = await chat.send(SUPPORTER, "E1 6AN")
    assert "looks like a postcode" in hint.text
    assert keyboards.journey_data("mp") in chat.button_data(SUPPORTER)
    assert "E1 6AN" not in str(chat.app.user_data[SUPPORTER])
    await chat.send(SUPPORTER, "Ana" if step == "signature" else "You are not alone.")
    assert message_rows(chat, SUPPORTER) == []  # the step is still the one it was


async def test_cancel_sends_nothing_and_discards_the_draft(chat):
    await write(chat, SUPPORTER, "Never mind", "Ana")
    await chat.press(SUPPORTER, CANCEL)
    assert "Nothing was sent" in chat.last_text(SUPPORTER)
    assert message_rows(chat, SUPPORTER) == []
    assert journey.DRAFT not in chat.app.user_data[SUPPORTER]
    assert SOLIDARITY_WRITTEN not in chat.storage.done_actions(SUPPORTER)


async def test_leaving_for_the_menu_ends_the_journey_and_keeps_no_draft(chat):
    await chat.press(SUPPORTER, WRITE)
    await chat.send(SUPPORTER, "Half a thought")
    await chat.send(SUPPORTER, "/menu")
    assert "Your progress" in chat.last_text(SUPPORTER)
    assert journey.DRAFT not in chat.app.user_data.get(SUPPORTER, {})
    await chat.send(SUPPORTER, "Ana")
    assert "Signed" not in chat.last_text(SUPPORTER)


@pytest.mark.parametrize("page", ["/help", "/privacy", keyboards.MENU_HELP])
async def test_reading_help_or_privacy_part_way_keeps_the_message_being_written(chat, page):
    await chat.press(SUPPORTER, WRITE)
    if page.startswith("/"):
        await chat.send(SUPPORTER, page)
    else:
        await chat.press(SUPPORTER, page)  # from a menu still on screen
    await chat.send(SUPPORTER, "Estamos com vocês.")
    await chat.send(SUPPORTER, "Ana")
    assert "Estamos com vocês." in chat.last_text(SUPPORTER)
    assert "Signed: <b>Ana</b>" in chat.last_text(SUPPORTER)


async def test_an_old_send_button_cannot_send_twice(chat):
    await submit(chat, SUPPORTER, "Once only")
    calls = await chat.press(SUPPORTER, SEND)
    assert len(message_rows(chat, SUPPORTER)) == 1
    assert answers(calls)
    assert GENERIC_ERROR not in " ".join(texts(calls))


async def test_a_send_handled_again_after_a_crash_queues_the_message_once(settings, api):
    """The crash came after the message was queued but before the journey's state was saved,
    so the restarted bot is at the preview again, and Telegram gives it the same press."""
    async with running_bot(settings, api) as chat:
        await write(chat, SUPPORTER, "Once only, even after a crash", None)
        saved = {table: list(chat.storage.db[table].rows) for table in STATE_TABLES}
        await chat.press(SUPPORTER, SEND)
    async with running_bot(settings, api) as chat:
        for table, rows in saved.items():  # the state as the crash left it
            chat.storage.db[table].delete_where()
            chat.storage.db[table].insert_all(rows)
    async with running_bot(settings, api) as chat:
        calls = await chat.press(SUPPORTER, SEND)
        assert len(message_rows(chat, SUPPORTER)) == 1
        assert chat.storage.done_actions(SUPPORTER) == {SOLIDARITY_WRITTEN}
        assert chat.storage.db.execute("SELECT count(*) FROM actions").fetchone()[0] == 1
        assert "Your message is with the organisers" in " ".join(texts(calls))


async def test_html_and_emoji_are_shown_escaped_in_the_preview(chat):
    await write(chat, SUPPORTER, "<b>Força</b> & <script>x</script> 💜", "<i>Ana</i>")
    preview = chat.last_text(SUPPORTER)
    assert "&lt;b&gt;Força&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt; 💜" in preview
    assert "&lt;i&gt;Ana&lt;/i&gt;" in preview
    assert tags_in(preview) <= OUR_TAGS
    await chat.press(SUPPORTER, SEND)
    assert message_rows(chat, SUPPORTER)[0]["body"] == "<b>Força</b> & <script>x</script> 💜"


typed_text = st.one_of(
    st.text(max_size=700),
    st.text(alphabet=st.sampled_from(list("<>&\"'/ab \n💜éñ")), max_size=80),
    st.sampled_from(["<b>bold</b>", "</blockquote><a href='x'>", "a" * 10_000, "💜" * 700]),
).map(lambda typed: typed.lstrip("/"))  # a leading slash would make it a command
# Telegram delivers no empty text messages: an empty one would look like a sticker or photo.
typed_text = typed_text.filter(bool)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=typed_text)
async def test_any_text_at_either_step_gets_a_helpful_escaped_answer(chat, typed):
    await chat.press(SUPPORTER, WRITE)
    answered = await chat.send(SUPPORTER, typed)
    body = tidy_message(typed)
    assert answered, "every text gets an answer"
    assert tags_in(answered[-1].text) <= OUR_TAGS
    if looks_like_postcode(typed):  # Hypothesis finds 'A0': never kept, the MP journey offered
        assert "looks like a postcode" in answered[-1].text
        return
    if not says_something(body) or len(body) > 600:
        assert ("empty" if not says_something(body) else "can be up to 600") in answered[-1].text
        return
    answered = await chat.send(SUPPORTER, typed)
    signature = tidy_signature(typed)
    reply = answered[-1].text
    assert tags_in(reply) <= OUR_TAGS
    assert GENERIC_ERROR not in reply
    if says_something(signature) and len(signature) <= MAX_SIGNATURE_LENGTH:
        assert html.escape(body) in reply
        assert f"Signed: <b>{html.escape(signature)}</b>" in reply
    else:
        assert "first name or initials" in reply or "can be up to" in reply


async def test_forget_erases_the_supporters_messages_and_draft(chat):
    await submit(chat, SUPPORTER, "Mine to erase")
    await chat.press(SUPPORTER, WRITE)
    await chat.send(SUPPORTER, "A draft to erase")
    await chat.send(SUPPORTER, "/forget")
    await chat.press(SUPPORTER, keyboards.FORGET_YES)
    assert chat.storage.personal_data(SUPPORTER) == {}
    assert chat.storage.next_pending_solidarity() is None


async def test_neither_the_message_nor_the_signature_is_logged(tmp_path, capsys, api):
    from tests.support.harness import make_settings

    typed, name = "PrivateSolidarityWordsQx", "SecretNameZq"
    settings = make_settings(tmp_path, log_level="DEBUG")
    logs.configure(settings.log_level)
    try:
        async with running_bot(settings, api) as chat:
            message_id = await submit(chat, SUPPORTER, f"{typed} 💜🌸", name)
            await chat.send(ORGANISER_ID, "/moderate")
            await chat.press(ORGANISER_ID, f"{APPROVE}:{message_id}")
            await chat.press(ORGANISER_ID, EXPORT)
            assert documents(api)
        captured = capsys.readouterr().err
    finally:
        logging.getLogger().handlers.clear()
    assert typed not in captured
    assert name not in captured


# --- moderation -------------------------------------------------------------------------------


async def test_moderate_shows_the_oldest_waiting_message_escaped_with_the_counts(chat):
    first = await submit(chat, SUPPORTER, "<b>Oi</b> 💜", "Ana & Bia")
    await submit(chat, OTHER, "Second")
    replies = await chat.send(ORGANISER_ID, "/moderate")
    shown = replies[-1].text
    assert "waiting 2 · approved 0 · rejected 0" in shown
    assert f"#{first}" in shown
    assert "&lt;b&gt;Oi&lt;/b&gt; 💜" in shown
    assert "Ana &amp; Bia" in shown
    assert "English" in shown
    assert tags_in(shown) <= OUR_TAGS
    assert chat.button_data(ORGANISER_ID) == [
        f"{APPROVE}:{first}",
        f"{REJECT}:{first}",
    ]
    assert str(SUPPORTER) not in shown.replace(f"#{first}", "")


async def test_moderator_is_told_which_characters_the_card_cannot_print(chat):
    first = await submit(chat, SUPPORTER, "Força, 姐妹 💜 مرحبا", "小美")
    await submit(chat, OTHER, "Força 💜 مرحبا ★ नमस्ते")  # every character prints
    shown = (await chat.send(ORGANISER_ID, "/moderate")).pop().text
    assert "The printed card can't show 姐 妹 小 美:" in shown
    await chat.press(ORGANISER_ID, f"{APPROVE}:{first}")
    assert "नमस्ते" in chat.last_text(ORGANISER_ID)
    assert "can't show" not in chat.last_text(ORGANISER_ID)


async def test_a_message_the_card_cannot_print_at_all_lists_a_few_characters(chat):
    await submit(chat, SUPPORTER, "加油！我们永远和你站在一起，你并不孤单。", None)
    shown = (await chat.send(ORGANISER_ID, "/moderate")).pop().text
    assert "can't show 加 油 ！ 我 们 永 远 和 你 站 在 一 …:" in shown


async def test_approve_and_reject_record_the_decision_and_show_the_next(chat):
    first = await submit(chat, SUPPORTER, "First")
    second = await submit(chat, OTHER, "Second")
    await chat.send(ORGANISER_ID, "/moderate")

    await chat.press(ORGANISER_ID, f"{APPROVE}:{first}")
    shown = chat.last_text(ORGANISER_ID)
    assert f"#{first} approved" in shown
    assert "Second" in shown and "waiting 1 · approved 1" in shown
    assert EXPORT in chat.button_data(ORGANISER_ID)

    await chat.press(ORGANISER_ID, f"{REJECT}:{second}")
    assert f"Reject #{second}?" in chat.last_text(ORGANISER_ID)  # a slip can't be undone
    assert message_rows(chat, OTHER)[0]["status"] == "pending"
    await chat.press(ORGANISER_ID, PENDING_NEXT)  # "No, back to the message"
    assert "Second" in chat.last_text(ORGANISER_ID)
    assert message_rows(chat, OTHER)[0]["status"] == "pending"
    await chat.press(ORGANISER_ID, f"{REJECT}:{second}")
    await chat.press(ORGANISER_ID, f"{REJECT_YES}:{second}")
    shown = chat.last_text(ORGANISER_ID)
    assert f"#{second} rejected" in shown
    assert "No messages are waiting" in shown
    assert "waiting 0 · approved 1 · rejected 1" in shown
    assert chat.button_data(ORGANISER_ID) == [EXPORT]

    [approved] = message_rows(chat, SUPPORTER)
    assert approved["status"] == "approved"
    assert approved["moderated_by"] == ORGANISER_ID and approved["moderated_at"]
    # A rejected message keeps only its status: its words and author go at once (/privacy).
    assert message_rows(chat, OTHER) == []
    (body, author) = chat.storage.db.execute(
        "SELECT body, user_id FROM solidarity_messages WHERE id = ?", [second]
    ).fetchone()
    assert (body, author) == (None, None)


async def test_a_message_already_decided_is_not_decided_again(chat):
    message_id = await submit(chat, SUPPORTER, "Decide me once")
    await chat.press(ORGANISER_ID, f"{APPROVE}:{message_id}")
    calls = await chat.press(ORGANISER_ID, f"{REJECT_YES}:{message_id}")
    assert f"#{message_id} had already been approved" in texts(calls)[-1]
    assert message_rows(chat, SUPPORTER)[0]["status"] == "approved"


async def test_a_message_its_author_erased_is_reported_politely(chat):
    message_id = await submit(chat, SUPPORTER, "Soon gone")
    await chat.send(SUPPORTER, "/forget")
    await chat.press(SUPPORTER, keyboards.FORGET_YES)
    calls = await chat.press(ORGANISER_ID, f"{APPROVE}:{message_id}")
    assert f"#{message_id} no longer exists" in texts(calls)[-1]
    assert GENERIC_ERROR not in " ".join(texts(calls))


@pytest.mark.parametrize(
    "data",
    [
        f"{APPROVE}:abc",
        f"{APPROVE}:-1",
        f"{APPROVE}:１２",
        f"{REJECT}:{'9' * 40}",
        f"{APPROVE}:",
        APPROVE,
        f"{REJECT}:1:2",
        f"{REJECT_YES}:abc",
        REJECT_YES,
    ],
)
async def test_a_tampered_moderation_button_changes_nothing(chat, data):
    message_id = await submit(chat, SUPPORTER, "Still waiting")
    calls = await chat.press(ORGANISER_ID, data)
    shown = " ".join(texts(calls))
    assert "wasn't valid" in shown
    assert GENERIC_ERROR not in shown
    assert f"{APPROVE}:{message_id}" in chat.button_data(ORGANISER_ID)
    assert message_rows(chat, SUPPORTER)[0]["status"] == "pending"


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("command", "/moderate"),
        ("command", "/moderate pdf"),
        ("button", f"{APPROVE}:MESSAGE"),
        ("button", f"{REJECT}:MESSAGE"),
        ("button", f"{REJECT_YES}:MESSAGE"),
        ("button", PENDING_NEXT),
        ("button", EXPORT),
    ],
)
async def test_every_organiser_command_and_button_is_refused_to_anyone_else(
    chat, api, kind, action
):
    message_id = await submit(chat, SUPPORTER, "Approved already")
    chat.storage.moderate_solidarity(message_id, "approved", ORGANISER_ID)
    pending_id = await submit(chat, SUPPORTER, "Waiting quietly")
    action = action.replace("MESSAGE", str(pending_id))
    before = len(api.calls)
    if kind == "command":
        await chat.send(OTHER, action)
    else:
        await chat.press(OTHER, action)
    seen = api.calls[before:]
    refusal = [*texts(seen), *answers(seen)]
    assert refusal == ["Sorry, that's only for campaign organisers."]
    assert not documents(api)
    assert [row["status"] for row in message_rows(chat, SUPPORTER)] == ["approved", "pending"]


# --- the PDF ----------------------------------------------------------------------------------


async def test_the_pdf_holds_only_approved_messages_and_no_telegram_ids(chat, api):
    authors = (987_654_321, 876_543_210, 765_432_109, 654_321_098)
    approved = await submit(chat, authors[0], "Você não está sozinha 💜🌸", "Conceição")
    anonymous = await submit(chat, authors[1], "No estás sola", None)
    rejected = await submit(chat, authors[2], "Rejected words", "Zed")
    await submit(chat, authors[3], "Pending words")
    for message_id in (approved, anonymous):
        await chat.press(ORGANISER_ID, f"{APPROVE}:{message_id}")
    await chat.press(ORGANISER_ID, f"{REJECT_YES}:{rejected}")

    calls = await chat.press(ORGANISER_ID, EXPORT)
    [document] = [call for call in calls if call.method == "sendDocument"]
    assert "2 approved messages" in document.text
    [(filename, pdf)] = documents(api)
    assert filename == "solidarity-cards.pdf"
    assert pdf.startswith(b"%PDF-")
    printed = flat(pdf_text(pdf))
    assert "Você não está sozinha" in printed and "— Conceição" in printed
    assert "No estás sola" in printed and "— someone who stands with you" in printed
    assert "Rejected words" not in printed and "Pending words" not in printed
    for telegram_id in (*authors, ORGANISER_ID):
        assert str(telegram_id) not in printed
    for telegram_id in authors:
        assert str(telegram_id).encode() not in pdf


async def test_moderate_pdf_sends_the_same_cards(chat, api):
    message_id = await submit(chat, SUPPORTER, "Printed by command")
    await chat.press(ORGANISER_ID, f"{APPROVE}:{message_id}")
    await chat.send(ORGANISER_ID, "/moderate pdf")
    [(_, pdf)] = documents(api)
    assert "Printed by command" in flat(pdf_text(pdf))


async def test_asking_for_the_pdf_with_nothing_approved_says_so(chat, api):
    await submit(chat, SUPPORTER, "Not yet approved")
    replies = await chat.send(ORGANISER_ID, "/moderate pdf")
    assert "nothing to print" in replies[-1].text
    assert not documents(api)


@pytest.mark.parametrize("invisible", ["\u200b\u200b\u200b", "\u3164\u3164", "\u2800 \u2060"])
async def test_an_invisible_message_or_signature_is_asked_for_again(chat, invisible):
    """Issue 13, point 6: no blank card reaches the refuges, and no blank signature."""
    await chat.press(SUPPORTER, WRITE)
    replies = await chat.send(SUPPORTER, invisible)
    assert "looks empty" in replies[-1].text
    await chat.send(SUPPORTER, "Estamos com vocês.")
    replies = await chat.send(SUPPORTER, invisible)
    assert "first name or initials" in replies[-1].text
    assert message_rows(chat, SUPPORTER) == []


async def test_typing_a_buttons_words_does_what_the_button_does_at_each_step(chat):
    await chat.press(SUPPORTER, WRITE)
    await chat.send(SUPPORTER, "CANCEL")
    assert "Nothing was sent" in chat.last_text(SUPPORTER)
    assert journey.DRAFT not in chat.app.user_data[SUPPORTER]
    await chat.press(SUPPORTER, WRITE)
    await chat.send(SUPPORTER, "You are not alone.")
    await chat.send(SUPPORTER, "sign anonymously")
    assert "anonymously" in chat.last_text(SUPPORTER) and SEND in chat.button_data(SUPPORTER)
    await chat.send(SUPPORTER, "Send")
    (row,) = message_rows(chat, SUPPORTER)
    assert (row["body"], row["signature"]) == ("You are not alone.", None)


async def test_the_author_is_told_before_sending_which_characters_the_card_cannot_print(chat):
    await write(chat, SUPPORTER, "Força, 姐妹 💜", "小美")
    preview = chat.last_text(SUPPORTER)
    assert "The printed card can't show 姐 妹 小 美:" in preview
    assert SEND in chat.button_data(SUPPORTER) and EDIT in chat.button_data(SUPPORTER)
    await write(chat, OTHER, "Força 💜 مرحبا", "Ana")
    assert "can't show" not in chat.last_text(OTHER)


async def test_after_a_message_too_long_for_a_card_cancel_is_offered_again(chat):
    await chat.press(SUPPORTER, WRITE)
    replies = await chat.send(SUPPORTER, "a" * 5000)
    assert "has 5,000 characters, and it can be up to 600" in replies[-1].text
    assert chat.button_data(SUPPORTER) == [CANCEL]
