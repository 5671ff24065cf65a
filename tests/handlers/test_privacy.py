from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import time

import time_machine
from telegram.ext import ConversationHandler

from bot.app.offline import Fault
from bot.storage.supporters import PERSONAL_ROWS
from messages import consent, keyboards, text
from messages.mydata import CONVERSATIONS, SECTIONS, user_data
from scheduler.housekeeping import SCRUB_JOB
from tests.support.harness import ORGANISER_ID, make_settings, running_bot

MP_ROW = {"name": "Jane Example", "constituency_name": "Bristol Central"}

CANARY = "CanaryZebra7731"


async def onboard(chat, user_id: int, opt_in: bool = True, payload: str = f"ref-{CANARY}") -> None:
    await chat.send(user_id, f"/start {payload}")
    await chat.press(user_id, consent.OPTIN_DAILY if opt_in else consent.OPTIN_NONE)


async def test_stop_unsubscribes_and_confirms_after_the_write(chat):
    await onboard(chat, 1)
    confirmed_while_subscribed = []
    chat.api.on_call = lambda call: confirmed_while_subscribed.append(
        any(chat.storage.consents(1).values())
    )
    replies = await chat.send(1, "/stop")
    assert "won't get any more" in replies[-1].text
    assert confirmed_while_subscribed == [False]
    assert not any(chat.storage.consents(1).values())
    assert chat.storage.personal_data(1)["consents"][-1]["granted"] == 0


async def test_stop_when_not_subscribed_says_so(chat):
    await onboard(chat, 1, opt_in=False)
    replies = await chat.send(1, "/stop")
    assert "weren't getting any messages" in replies[-1].text


async def test_p4_mydata_reads_as_a_page_in_the_persons_language(chat):
    """No raw rows, no English table or field names on a Portuguese screen (issue 13, point 3)."""
    await chat.send(1, f"/start ref-{CANARY}", language_code="pt-br")
    await chat.press(1, consent.OPTIN_BOTH, language_code="pt-br")
    chat.storage.record_action(1, "petition_signed")
    chat.storage.set_constituency(1, "E14001063", "Bristol Central")
    replies = await chat.send(1, "/mydata", language_code="pt-br")
    shown = "\n".join(call.text for call in replies)
    for expected in (
        "Tudo o que guardo sobre você",
        "assinou a petição",
        "Bristol Central",
        "mensagem diária: sim",
        "novidades da campanha: sim",
        CANARY,  # the link they came through
        "Os números (não o conteúdo)",  # message ids kept for /forget
    ):
        assert expected in shown, expected
    for raw in ("supporters", "consents", "petition_signed", "opted_in", "draft_at", '{"', "None"):
        assert raw not in shown, raw


async def test_mydata_names_the_constituency_and_lists_what_they_did_in_time_order(chat):
    """Issue: a GSS code instead of the constituency, and actions out of order."""
    await onboard(chat, 1)
    chat.storage.set_constituency(1, "E14001063", "Bristol Central")
    moments = [dt.datetime(2026, 11, 25, 12, minute, tzinfo=dt.UTC) for minute in (24, 25, 28)]
    with time_machine.travel(moments[0], tick=False):
        chat.storage.record_action(1, "shared")
    with time_machine.travel(moments[1], tick=False):
        chat.storage.record_action(1, "petition_signed")
    with time_machine.travel(moments[2], tick=False):
        chat.storage.record_mp_letter(1, "mp_letter_sent", "E14001063", moments[2])
    await chat.send(1, "/mydata")
    page = chat.last_text(1)
    assert "wrote to your MP (Bristol Central)" in page
    assert "E14001063" not in page
    said = [page.index(words) for words in ("shared", "signed the petition", "wrote to your MP")]
    assert said == sorted(said)


async def test_the_mydata_page_offers_erasing_and_the_menu_not_itself_again(chat):
    await onboard(chat, 1)
    await chat.send(1, "/privacy")
    assert keyboards.MENU_MYDATA in chat.button_data(1)
    await chat.press(1, keyboards.MENU_MYDATA)
    assert "Everything I keep about you" in chat.last_text(1)
    assert chat.button_data(1) == [keyboards.FORGET_ASK, keyboards.MENU]


async def test_p4_mydata_shows_every_table_kept_about_a_person(chat):
    """Every table that holds rows about a person has its section on the page."""
    assert set(PERSONAL_ROWS) | {"conversations"} <= set(SECTIONS)


async def test_p4_mydata_names_every_journey_and_shows_every_draft_in_its_own_words(chat):
    """No "something else you started": each conversation a person can be part-way through,
    and each draft a journey keeps, has its own line on the page, in each language."""
    names = {
        handler.name
        for group in chat.app.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler)
    }
    assert names <= set(CONVERSATIONS)
    story = {"event": 1, "story": "We met her office team."}
    zone = chat.app.bot_data.settings.zone

    def page(lang: str, key: str, value: dict) -> list[str]:
        return user_data(lang, [{"data": json.dumps({key: value})}], zone)

    for lang in ("en", "pt", "es"):
        vague = text(lang, "mydata.unfinished.something_else")
        for key in chat.app.bot_data.drafts:
            value = story if key == "lobby_draft" else {"mp": MP_ROW, "body": "Hi", "steps": []}
            assert vague not in page(lang, key, value), key
        assert "We met her office team." in page(lang, "lobby_draft", story)[0]


async def test_no_stale_draft_stamp_is_kept_once_the_draft_is_gone(chat):
    await onboard(chat, 1)
    await chat.press(1, "solidarity:write")
    await chat.send(1, "Estamos com vocês.")
    assert "draft_at" in chat.app.user_data[1]
    await chat.press(1, "solidarity:anonymous")
    await chat.press(1, "solidarity:send")
    assert "draft_at" not in chat.app.user_data[1]
    replies = await chat.send(1, "/mydata")
    assert "Kept until" not in replies[-1].text


async def test_erase_everything_is_two_taps_from_the_menu_and_from_my_data(chat):
    """Issue 13, point 2: the button, one confirmation, the same erasure as /forget."""
    for screen in (keyboards.MENU, keyboards.MENU_PRIVACY):
        await onboard(chat, 1)
        await chat.press(1, screen)
        assert keyboards.FORGET_ASK in chat.button_data(1)
        await chat.press(1, keyboards.FORGET_ASK)  # tap one
        assert "Erase everything about you?" in chat.last_text(1)
        await chat.press(1, keyboards.FORGET_YES)  # tap two
        assert chat.storage.personal_data(1) == {}
        assert "Delete chat" in chat.last_text(1)  # how to clear the chat itself


async def test_privacy_says_backups_outlive_forget_and_what_happens_to_solidarity_messages(chat):
    replies = await chat.send(1, "/privacy")
    said = replies[-1].text
    assert "Backups of the database" in said and "don't reach them" in said
    assert "Once printed it is kept without anything linking it to you" in said
    assert "the limit of 1" in said  # the daily cap, from the settings


async def test_a_printed_solidarity_message_no_longer_names_its_author(chat):
    """What /privacy promises: once organisers print it, nothing links the card to a person."""
    await onboard(chat, 1)
    message_id = chat.storage.add_solidarity_message(1, "Você não está sozinha.", None, "pt")
    chat.storage.moderate_solidarity(message_id, "approved", ORGANISER_ID)
    assert chat.storage.personal_data(1)["solidarity_messages"]
    await chat.send(ORGANISER_ID, "/moderate pdf")
    assert "solidarity_messages" not in chat.storage.personal_data(1)
    (author, printed_at) = chat.storage.db.execute(
        "SELECT user_id, printed_at FROM solidarity_messages WHERE id = ?", [message_id]
    ).fetchone()
    assert author is None and printed_at


async def test_mydata_for_a_stranger_after_forget_shows_nothing_personal(chat):
    await onboard(chat, 1)
    await chat.send(1, "/forget")
    await chat.press(1, keyboards.FORGET_YES)
    replies = await chat.send(1, "/mydata")
    assert CANARY not in replies[-1].text


async def test_help_shows_support_lines_and_is_one_tap_from_menu(chat):
    await onboard(chat, 1)
    assert keyboards.MENU_HELP in chat.button_data(1)
    await chat.press(1, keyboards.MENU_HELP)
    shown = chat.last_text(1)
    assert "0808 2000 247" in shown
    assert "999" in shown


async def test_privacy_says_what_is_kept_and_when_it_goes(chat):
    replies = await chat.send(1, "/privacy", language_code="es")
    assert "código postal" in replies[-1].text
    assert "90 días" in replies[-1].text


async def test_forget_asks_first_and_keeps_data_when_declined(chat):
    await onboard(chat, 1)
    await chat.send(1, "/forget")
    assert keyboards.FORGET_YES in chat.button_data(1)
    await chat.press(1, keyboards.FORGET_NO)
    assert chat.storage.get_supporter(1) is not None


async def test_forget_erases_from_database_and_wal_files(settings, api):
    async with running_bot(settings, api) as chat:
        await onboard(chat, 1)
        await onboard(chat, 2, payload="ref-someone-else")
        chat.storage.record_action(1, "petition_signed")
        chat.app.user_data[1]["note"] = CANARY
        await chat.send(1, "/menu")
        await chat.send(1, "/forget")
        await chat.press(1, keyboards.FORGET_YES)
        assert chat.storage.get_supporter(1) is None
        assert chat.storage.get_supporter(2) is not None
        files = [settings.database_path, settings.database_path.with_name("bot.db-wal")]
        for path in files:
            if path.exists():
                assert CANARY.encode() not in path.read_bytes(), path.name
        assert chat.storage.personal_data(1) == {}


@contextlib.asynccontextmanager
async def loop_lag():
    """The longest the event loop went without running a 10 ms timer, in seconds."""
    worst = [0.0]

    async def tick() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            worst[0] = max(worst[0], time.monotonic() - before - 0.01)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        yield worst
    finally:
        ticker.cancel()


async def come_due(app, name: str) -> None:
    """The run_once job `name` comes due: the JobQueue drops it as it runs it."""
    (job,) = app.job_queue.get_jobs_by_name(name)
    job.schedule_removal()
    await job.run(app)


async def test_forget_while_the_database_is_being_read_never_blocks_and_erases_after(
    settings, api
):
    def canary_in_files() -> bool:
        files = settings.database_path.parent.glob(f"{settings.database_path.name}*")
        return any(CANARY.encode() in path.read_bytes() for path in files)

    async with running_bot(settings, api) as chat:
        await onboard(chat, 1)
        await chat.send(1, "/forget")
        # A backup or `stepup-bot stats` in another process, holding its snapshot.
        reader = sqlite3.connect(settings.database_path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM supporters").fetchone()
        async with loop_lag() as worst:
            await chat.press(1, keyboards.FORGET_YES)
        assert worst[0] < 0.3
        assert "erased" in chat.last_text(1)
        assert chat.storage.personal_data(1) == {}
        assert canary_in_files()  # the reader still sees the old pages, so they stay

        await come_due(chat.app, SCRUB_JOB)  # while it still reads: tried again later
        assert canary_in_files()
        reader.execute("COMMIT")
        reader.close()
        await come_due(chat.app, SCRUB_JOB)
        assert not canary_in_files()
        assert not chat.app.job_queue.get_jobs_by_name(SCRUB_JOB)


async def test_forget_deletes_recent_messages_and_is_honest_about_old_ones(settings, api):
    three_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with time_machine.travel(three_days_ago, tick=True):
        async with running_bot(settings, api) as chat:
            await onboard(chat, 1)
    async with running_bot(settings, api) as chat:
        await chat.send(1, "/menu")
        recent_ids = [call for call in chat.api.sent(1)][-1:]
        await chat.send(1, "/forget")
        await chat.press(1, keyboards.FORGET_YES, message_id=5000)
        deletions = [call for call in chat.api.calls if call.method == "deleteMessages"]
        deleted_ids = {int(i) for call in deletions for i in call.params["message_ids"]}
        assert 5000 in deleted_ids
        assert recent_ids
        final = chat.last_text(1)
        assert "erased" in final
        assert "48 hours" in final


async def test_forget_says_plainly_when_telegram_refuses_deletion(chat):
    await onboard(chat, 1)
    chat.api.fail(
        Fault(400, "Bad Request: message can't be deleted"),
        when=lambda c: c.method == "deleteMessages",
    )
    await chat.send(1, "/forget")
    await chat.press(1, keyboards.FORGET_YES)
    assert "I could not delete any messages in this chat" in chat.last_text(1)
    assert chat.storage.get_supporter(1) is None


async def test_forget_mid_journey_leaves_no_conversation_state(settings, api):
    async with running_bot(settings, api) as chat:
        await chat.send(1, "/start mp")
        await chat.send(1, "/forget")
        await chat.press(1, keyboards.FORGET_YES)
    async with running_bot(settings, api) as chat:
        assert 1 not in chat.app.user_data or not chat.app.user_data[1]
        assert chat.storage.personal_data(1) == {}


async def test_p4_mydata_for_a_busy_supporter_is_split_within_telegrams_limit(chat):
    """16 daily prompts, 5 broadcasts and eight long solidarity messages: more than one message
    can hold."""
    await onboard(chat, 1)
    for number in range(1, 22):
        kind = "daily_prompt" if number <= 16 else "broadcast"
        chat.storage.db["broadcasts"].insert(
            {"id": number, "kind": kind, "created_at": "2026-11-25T08:00:00+00:00"}
        )
        sent_at = f"2026-11-{min(24 + number, 30)}T08:00:01.123456+00:00"
        chat.storage.db["deliveries"].insert(
            {
                "broadcast_id": number,
                "user_id": 1,
                "status": "sent",
                "updated_at": sent_at,
                "message_id": 5000 + number,
            }
        )
    bodies = [f"Message {number}: " + "solidarity " * 53 for number in range(8)]
    for body in bodies:
        chat.storage.add_solidarity_message(1, body.strip(), None, "en")
    replies = [call for call in await chat.send(1, "/mydata") if call.method == "sendMessage"]
    assert len(replies) > 1  # the strict fake refuses any over 4,096 characters
    shown = "\n".join(call.text for call in replies)
    assert all(body.strip() in shown for body in bodies)  # nothing left out
    assert shown.count("daily prompt: delivered") == 16
    assert shown.count("campaign update: delivered") == 5
    assert replies[-1].buttons  # the way back to the menu, under the last part


async def test_mydata_says_a_message_of_a_cancelled_broadcast_will_not_come(chat):
    """A broadcast cancelled before someone's turn leaves their delivery pending for good: the
    page says it was not sent, not that it is waiting."""
    await onboard(chat, 1)
    for number, status in ((1, "cancelled"), (2, "running")):
        chat.storage.db["broadcasts"].insert(
            {"id": number, "kind": "lobby_reminder", "status": status, "created_at": "2026-11-25"}
        )
        chat.storage.db["deliveries"].insert(
            {"broadcast_id": number, "user_id": 1, "status": "pending", "updated_at": "2026-11-25"}
        )
    page = "\n".join(call.text for call in await chat.send(1, "/mydata"))
    assert "lobby day reminder: not sent: it was cancelled" in page
    assert page.count("lobby day reminder: waiting to be sent") == 1  # the one still running


def message_ids_sent(calls) -> set[int]:
    return {
        call.result["message_id"]
        for call in calls
        if call.method.startswith("send") and call.method != "sendChatAction" and call.result
    }


async def test_forget_deletes_every_message_the_bot_sent_in_the_last_48_hours(chat):
    """Each reply's id is recorded as it goes, so /forget leaves nothing of the bot's behind
    but its last word: the menu, screens, the /mydata page, and an apology after a failure."""
    await onboard(chat, 1)
    await chat.send(1, "/help")
    await chat.press(1, keyboards.MENU_HELP)
    await chat.send(1, "/mydata")
    chat.api.fail(Fault("timeout"), when=lambda call: call.method == "sendMessage")
    await chat.send(1, "/privacy")  # the reply is lost; the apology is not
    await chat.send(1, "/forget")
    sent = message_ids_sent(chat.api.calls)
    calls = await chat.press(1, keyboards.FORGET_YES)
    deleted = {
        int(message_id)
        for call in calls
        if call.method == "deleteMessages"
        for message_id in call.params["message_ids"]
    }
    assert sent and sent <= deleted


async def test_forget_deletes_what_the_bot_sent_an_organiser_who_never_started(chat):
    """An organiser at work needs no /start, and the replies to their commands were not
    noted: /forget said "nothing to erase" and left them all in the chat (P3)."""
    await chat.send(ORGANISER_ID, "/stats")
    await chat.send(ORGANISER_ID, "/schedule")
    await chat.send(ORGANISER_ID, "/broadcast")
    await chat.send(ORGANISER_ID, "Day 5: write to your MP")
    await chat.send(ORGANISER_ID, "/forget")
    sent = message_ids_sent(chat.api.calls)
    assert keyboards.FORGET_YES in chat.button_data(ORGANISER_ID)
    calls = await chat.press(ORGANISER_ID, keyboards.FORGET_YES)
    assert sent and sent <= deleted_ids(calls)
    assert chat.storage.personal_data(ORGANISER_ID) == {}
    assert chat.storage.get_supporter(ORGANISER_ID) is None


async def test_forget_deletes_the_apology_an_organiser_who_never_started_was_sent(chat):
    chat.api.fail(Fault("timeout"), when=lambda call: call.method == "sendMessage")
    await chat.send(ORGANISER_ID, "/schedule")  # the reply is lost; the apology is not
    (apology,) = message_ids_sent(chat.api.calls)
    await chat.send(ORGANISER_ID, "/forget")
    calls = await chat.press(ORGANISER_ID, keyboards.FORGET_YES)
    assert apology in deleted_ids(calls)


async def test_a_supporter_who_never_started_has_nothing_noted(chat):
    await chat.send(1, "/help")
    await chat.send(1, "/privacy")
    assert chat.storage.personal_data(1) == {}
    replies = await chat.send(1, "/forget")
    assert "nothing to erase" in replies[-1].text


def deleted_ids(calls) -> set[int]:
    return {
        int(message_id)
        for call in calls
        if call.method == "deleteMessages"
        for message_id in call.params["message_ids"]
    }


async def test_forget_deletes_a_reply_sent_before_its_update_failed_and_the_apology(chat):
    """A newcomer's /start: the welcome goes, then Telegram refuses the question that follows
    and the apology comes. The welcome (and their /start) were noted before the failure, so
    /forget deletes them with the apology."""
    chat.api.fail(
        Fault(400, "Bad Request: can't parse entities"),
        when=lambda call: call.method == "sendMessage" and "Daily prompt" in call.text,
    )
    start = chat.updates.message(1, "/start")
    await chat.app.process_update(start)
    welcome, apology = [call for call in chat.api.sent(1) if call.result]
    assert "Welcome" in welcome.text and "Sorry" in apology.text
    calls = await chat.press(1, keyboards.FORGET_YES)
    assert {
        start.message.message_id,
        welcome.result["message_id"],
        apology.result["message_id"],
    } <= deleted_ids(calls)


async def test_forget_deletes_a_reply_whose_note_the_database_refused_until_then(chat):
    """A reply noted while the database refused writes is still waiting to be written when the
    very next update is the press of "Erase everything": it is deleted too."""
    await onboard(chat, 1)
    chat.storage.db.execute("PRAGMA query_only = ON")  # the update's commit is refused
    (help_reply,) = await chat.send(1, "/help")
    chat.storage.db.execute("PRAGMA query_only = OFF")
    calls = await chat.press(1, keyboards.FORGET_YES)
    assert help_reply.result["message_id"] in deleted_ids(calls)
    assert chat.storage.get_supporter(1) is None


async def test_the_slow_down_warning_is_noted_for_forget(tmp_path):
    """The flood gate's warning stops the update before its messages would be noted."""
    async with running_bot(make_settings(tmp_path, user_updates_per_minute=5)) as chat:
        await onboard(chat, 1)
        for _ in range(5):
            await chat.send(1, "/help")
        (warning,) = [call for call in chat.api.sent(1) if "very fast" in call.text]
        noted = chat.storage.chat_messages_since(1, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        assert warning.result["message_id"] in noted


async def test_mydata_part_way_through_a_journey_keeps_the_draft_it_shows(chat):
    """/mydata said "your solidarity message, not sent yet: kept until tomorrow" while the same
    command ended the journey and erased that draft; the page leaves it where it was, and the
    step's question comes again, so the supporter knows what the bot is waiting for."""
    await onboard(chat, 1)
    await chat.press(1, "solidarity:write")
    await chat.send(1, "Estamos com vocês.")

    *page, asked = await chat.send(1, "/mydata")
    page = "\n".join(call.text for call in page)
    assert "part-way through a solidarity message" in page and "Estamos com vocês." in page
    assert "How would you like to sign it?" in asked.text
    await chat.press(1, keyboards.MENU_MYDATA, message_id=asked.result["message_id"])
    assert "How would you like to sign it?" in chat.last_text(1)
    assert "Everything I keep about you" in chat.texts(1)[-2]

    await chat.press(1, "solidarity:anonymous")
    await chat.press(1, "solidarity:send")
    assert chat.storage.personal_data(1)["solidarity_messages"][0]["body"] == "Estamos com vocês."
