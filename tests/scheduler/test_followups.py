"""The "Did your MP reply?" question: asked once, 14 days after "I've sent it", through the real
Application and its JobQueue job, across restarts; answers recorded from the buttons."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io

import pytest
import time_machine

from bot.app.offline import Fault
from bot.consent import UPDATES, WHATS_NEXT
from bot.delivery import enqueue
from bot.mps import REPLY_NOT_YET, REPLY_OUTCOMES
from bot.stats import export_csvs, gather_stats
from handlers.mp import HANDED_OVER
from messages import consent, keyboards
from messages.consent import choice_data
from messages.mp import ANSWER_PREFIX, ASKED_PREFIX, SENT
from scheduler import broadcasts
from scheduler.followups import CHECK_EVERY, FOLLOWUP_JOB, MISFIRE_GRACE
from tests.support.harness import running_bot
from tests.support.parliament import WESTMINSTER

pytestmark = pytest.mark.filterwarnings("ignore:Tasks created via:telegram.warnings.PTBUserWarning")

QUESTION = "Did your MP reply?"
TWO_WEEKS_ON = dt.timedelta(days=14, minutes=1)


# Letters sent on 12 November are followed up during the campaign; after its end, see the last
# test. (Time runs on from there, as the suite's other waits need.)
LETTERS_SENT = dt.datetime(2026, 11, 12, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def before_the_campaign_ends():
    with time_machine.travel(LETTERS_SENT):
        yield


def later(delta: dt.timedelta):
    return time_machine.travel(dt.datetime.now(dt.UTC) + delta)


async def letter_sent(chat, uid: int) -> None:
    """A supporter who found their MP and tapped "I've sent it"."""
    await chat.send(uid, "/start")
    await chat.press(uid, consent.OPTIN_NONE)
    chat.storage.set_constituency(uid, WESTMINSTER.code, WESTMINSTER.name)
    chat.app.user_data[uid][HANDED_OVER] = WESTMINSTER.name  # as the hand-over leaves it
    await chat.press(uid, SENT)


async def run_followups(chat) -> None:
    """What the JobQueue does every half hour, and the broadcast it starts, to the end."""
    (job,) = chat.app.job_queue.get_jobs_by_name(FOLLOWUP_JOB)
    await job.run(chat.app)
    await asyncio.gather(*broadcasts.running(chat.app))


def questions(chat, uid: int) -> list:
    return [call for call in chat.api.sent(uid) if QUESTION in call.text]


def followup(chat, uid: int) -> dict:
    (row,) = chat.storage.personal_data(uid)["mp_followups"]
    return row


async def asked(chat, uid: int) -> str:
    """Bring the follow-up due, run the job, and return what its answers' buttons carry before
    the answer (`mp:asked:<broadcast id>`)."""
    with later(TWO_WEEKS_ON):
        await run_followups(chat)
    return f"{ASKED_PREFIX}{followup(chat, uid)['broadcast_id']}"


def test_followup_job_repeats_with_a_grace_time(chat):
    (job,) = chat.app.job_queue.get_jobs_by_name(FOLLOWUP_JOB)
    assert job.job.trigger.interval == CHECK_EVERY
    assert job.job.misfire_grace_time == MISFIRE_GRACE


async def test_question_is_asked_once_fourteen_days_later_even_across_a_restart(settings, api):
    async with running_bot(settings, api) as chat:
        await letter_sent(chat, 1)
        with later(dt.timedelta(days=13)):
            await run_followups(chat)
        assert questions(chat, 1) == []
        with later(TWO_WEEKS_ON):
            await run_followups(chat)
            await run_followups(chat)
        (question,) = questions(chat, 1)
        buttons = [button["callback_data"] for button in question.buttons]
        broadcast_id = followup(chat, 1)["broadcast_id"]
        assert buttons == [f"mp:asked:{broadcast_id}:{outcome}" for outcome in REPLY_OUTCOMES]
    with later(TWO_WEEKS_ON + dt.timedelta(hours=1)):
        async with running_bot(settings, api) as chat:
            await run_followups(chat)
    assert len([call for call in api.sent(1) if QUESTION in call.text]) == 1


async def test_question_comes_in_the_supporters_language(chat):
    await chat.send(1, "/start", language_code="es")
    await chat.press(1, consent.OPTIN_NONE, language_code="es")
    chat.app.user_data[1][HANDED_OVER] = WESTMINSTER.name
    await chat.press(1, SENT, language_code="es")
    await asked(chat, 1)
    assert "¿Te respondió?" in chat.last_text(1)


async def test_supporter_who_blocked_the_bot_is_marked_and_not_asked_again(chat):
    await letter_sent(chat, 1)
    await letter_sent(chat, 2)
    chat.api.fail(
        Fault(403, "Forbidden: bot was blocked by the user"),
        when=lambda call: call.method == "sendMessage" and call.chat_id == 1,
    )
    await asked(chat, 1)
    assert chat.storage.get_supporter(1)["blocked_at"] is not None
    assert len(questions(chat, 2)) == 1  # one blocked supporter does not stop the others
    attempts = len([call for call in chat.api.calls if call.chat_id == 1])
    with later(TWO_WEEKS_ON):
        await run_followups(chat)
    assert len([call for call in chat.api.calls if call.chat_id == 1]) == attempts


async def test_a_failed_send_is_not_retried(chat):
    await letter_sent(chat, 1)
    chat.api.fail(Fault("timeout"), when=lambda call: call.method == "sendMessage")
    await asked(chat, 1)
    with later(TWO_WEEKS_ON):
        await run_followups(chat)
    assert len(questions(chat, 1)) == 1  # the one attempt, which may have reached them
    assert followup(chat, 1)["asked_at"] is not None


async def test_an_outage_of_telegram_when_the_question_is_due_delays_it_and_loses_nobody(chat):
    await letter_sent(chat, 1)
    await letter_sent(chat, 2)
    chat.api.fail(Fault(502, "Bad Gateway"), when=lambda call: call.method == "sendMessage")
    await asked(chat, 1)  # the first send meets the outage; the engine waits and sends again
    with later(TWO_WEEKS_ON + dt.timedelta(hours=1)):
        await run_followups(chat)
    refused, delivered = questions(chat, 1)
    assert refused.result is None and delivered.result is not None
    assert [call.result is not None for call in questions(chat, 2)] == [True]  # once each


async def test_a_question_whose_process_died_before_sending_goes_out_after_the_restart_once(
    settings, api, monkeypatch
):
    async with running_bot(settings, api) as chat:
        await letter_sent(chat, 1)
        with monkeypatch.context() as patched, later(TWO_WEEKS_ON):
            # kill -9 after the follow-up went into its broadcast, before any send
            patched.setattr(broadcasts, "start", lambda app, broadcast_id: None)
            await run_followups(chat)
        assert followup(chat, 1)["asked_at"] is not None and questions(chat, 1) == []
    with later(TWO_WEEKS_ON + dt.timedelta(minutes=5)):
        for _ in range(2):  # two restarts: the question goes out at the first, once
            async with running_bot(settings, api) as chat:
                for job in chat.app.job_queue.jobs():
                    if job.name.startswith(broadcasts.JOB_PREFIX):
                        await job.run(chat.app)  # what the JobQueue does just after a start
                await asyncio.gather(*broadcasts.running(chat.app))
                await run_followups(chat)
    assert len([call for call in api.sent(1) if QUESTION in call.text]) == 1


async def test_a_reply_reported_on_the_mp_screen_while_the_question_waits_is_not_asked(
    chat, monkeypatch
):
    await letter_sent(chat, 1)
    with monkeypatch.context() as patched, later(TWO_WEEKS_ON):
        patched.setattr(broadcasts, "start", lambda app, broadcast_id: None)  # not sent yet
        await run_followups(chat)
    broadcast_id = followup(chat, 1)["broadcast_id"]
    # The recipients fixed:
    assert await enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules) == 1
    await chat.press(1, f"{ANSWER_PREFIX}{followup(chat, 1)['id']}:supportive")  # the MP screen
    await broadcasts.start(chat.app, broadcast_id)
    assert questions(chat, 1) == []
    assert chat.storage.skip_reasons(broadcast_id) == {"answered": 1}


async def test_supporter_already_blocked_is_skipped(chat):
    await letter_sent(chat, 1)
    chat.storage.mark_blocked(1)
    await asked(chat, 1)
    assert questions(chat, 1) == []


async def test_forgotten_supporter_is_not_asked(chat):
    await letter_sent(chat, 1)
    await chat.send(1, "/forget")
    await chat.press(1, keyboards.FORGET_YES)
    with later(TWO_WEEKS_ON):
        await run_followups(chat)
    assert questions(chat, 1) == []


async def test_stop_after_sending_the_letter_cancels_the_question(chat):
    await letter_sent(chat, 1)
    with later(dt.timedelta(days=2)):
        await chat.send(1, "/stop")
    await asked(chat, 1)
    assert questions(chat, 1) == []


async def test_no_more_campaign_updates_after_the_letter_is_not_stop_the_question_comes(chat):
    await letter_sent(chat, 1)
    await chat.press(1, choice_data(UPDATES, True))
    with later(dt.timedelta(days=2)):
        await chat.press(1, choice_data(UPDATES, False))  # the Messages screen, not /stop
    await asked(chat, 1)
    assert len(questions(chat, 1)) == 1


@pytest.mark.parametrize("outcome", [o for o in REPLY_OUTCOMES if o != REPLY_NOT_YET])
async def test_answer_is_recorded_for_the_constituency(chat, outcome):
    await letter_sent(chat, 1)
    answers = await asked(chat, 1)
    await chat.press(1, f"{answers}:{outcome}")
    row = followup(chat, 1)
    assert (row["outcome"], row["constituency_code"]) == (outcome, WESTMINSTER.code)
    assert row["answered_at"]
    assert "your answer is recorded" in chat.last_text(1)


async def test_not_yet_can_be_changed_later_but_a_final_answer_cannot(chat):
    await letter_sent(chat, 1)
    answers = await asked(chat, 1)
    await chat.press(1, f"{answers}:not_yet")
    assert followup(chat, 1)["outcome"] == "not_yet"
    followup_id = followup(chat, 1)["id"]
    assert f"mp:reply:{followup_id}:supportive" in chat.button_data(1)
    await chat.press(1, f"mp:reply:{followup_id}:supportive")
    assert followup(chat, 1)["outcome"] == "supportive"
    replies = await chat.press(1, f"mp:reply:{followup_id}:no_reply")
    assert followup(chat, 1)["outcome"] == "supportive"
    assert any(call.method == "answerCallbackQuery" for call in replies)


async def test_tampered_or_stale_answers_are_answered_politely_and_change_nothing(chat):
    await letter_sent(chat, 1)
    await letter_sent(chat, 2)
    answers = await asked(chat, 1)
    own, other = followup(chat, 1)["id"], followup(chat, 2)["id"]
    broadcast_id = followup(chat, 1)["broadcast_id"]
    for data in (
        f"{ASKED_PREFIX}{broadcast_id + 1000}:supportive",  # a broadcast that asked them nothing
        f"{answers}:delighted",
        f"{ASKED_PREFIX}abc:supportive",
        f"mp:reply:{other}:supportive",  # someone else's
        f"mp:reply:{own + 1000}:supportive",  # no such follow-up
        f"mp:reply:{own}:delighted",  # no such answer
        f"mp:reply:{own}",
        "mp:reply:abc:supportive",
        "mp:reply:99999999999999999999999:supportive",
        f"mp:reply:-{own}:supportive",
    ):
        replies = await chat.press(1, data)
        answers = [call for call in replies if call.method == "answerCallbackQuery"]
        assert "expired" in answers[0].params["text"], data
        assert "something went wrong" not in chat.last_text(1)
    assert followup(chat, 1)["outcome"] is None
    assert followup(chat, 2)["outcome"] is None


async def test_forget_deletes_the_question_with_the_rest_of_the_chat(chat):
    await letter_sent(chat, 1)
    await asked(chat, 1)
    (question,) = questions(chat, 1)
    with later(TWO_WEEKS_ON + dt.timedelta(hours=1)):  # within Telegram's 48 hours
        await chat.send(1, "/forget")
        await chat.press(1, keyboards.FORGET_YES)
    deletions = [call for call in chat.api.calls if call.method == "deleteMessages"]
    deleted = {int(i) for call in deletions for i in call.params["message_ids"]}
    assert question.result["message_id"] in deleted


def day_ten_prompt(chat):
    """The campaign's day-10 prompt: "Has your MP replied? ... tell us what they said"."""
    campaign = chat.app.bot_data.campaign
    return next(prompt for prompt in campaign.daily_prompts if prompt.day == 10)


async def test_the_day_ten_prompt_lets_a_supporter_report_the_reply_there_and_then(chat):
    await letter_sent(chat, 1)
    assert "tell us what they said" in day_ten_prompt(chat).text.en
    await chat.press(1, keyboards.journey_data(day_ten_prompt(chat).journey))  # its button
    assert "Has your MP replied?" in chat.last_text(1)
    followup_id = followup(chat, 1)["id"]
    answers = [f"{ANSWER_PREFIX}{followup_id}:{outcome}" for outcome in REPLY_OUTCOMES]
    assert chat.button_data(1)[: len(answers)] == answers  # the fourteen-day question's answers

    await chat.press(1, f"{ANSWER_PREFIX}{followup_id}:supportive")

    assert followup(chat, 1)["outcome"] == "supportive"
    assert "your answer is recorded" in chat.last_text(1)
    with later(TWO_WEEKS_ON):
        await run_followups(chat)
    assert questions(chat, 1) == []  # answered already: not asked again
    campaign = chat.app.bot_data.campaign
    (seat,) = gather_stats(chat.storage, campaign, dt.datetime.now(dt.UTC)).constituencies
    assert seat.replies == {"supportive": 1}


async def test_not_yet_before_the_question_leaves_the_question_to_come(chat):
    await letter_sent(chat, 1)
    await chat.press(1, f"{ANSWER_PREFIX}{followup(chat, 1)['id']}:{REPLY_NOT_YET}")
    assert followup(chat, 1)["outcome"] == REPLY_NOT_YET
    with later(TWO_WEEKS_ON):
        await run_followups(chat)
    assert len(questions(chat, 1)) == 1


async def test_once_the_reply_is_reported_the_mp_screen_no_longer_asks(chat):
    await letter_sent(chat, 1)
    await chat.press(1, f"{ANSWER_PREFIX}{followup(chat, 1)['id']}:no_reply")
    await chat.press(1, keyboards.journey_data("mp"))
    assert "Has your MP replied?" not in chat.last_text(1)
    assert not any(data.startswith(ANSWER_PREFIX) for data in chat.button_data(1))


@pytest.mark.parametrize("outcome", REPLY_OUTCOMES)
async def test_every_answer_reaches_the_organisers_figures(chat, outcome):
    await letter_sent(chat, 1)
    answers = await asked(chat, 1)
    await chat.press(1, f"{answers}:{outcome}")
    campaign = chat.app.bot_data.campaign
    figures = gather_stats(chat.storage, campaign, dt.datetime.now(dt.UTC))
    (seat,) = figures.constituencies
    assert seat.replies == {outcome: 1}
    (row,) = export_rows(chat.storage)
    assert row[outcome] == "1"


def export_rows(storage) -> list[dict]:
    per_constituency = export_csvs(storage, dt.date.today())["per_constituency"]
    return list(csv.DictReader(io.StringIO(per_constituency.decode("utf-8-sig"))))


async def test_after_the_campaign_only_those_who_agreed_to_what_comes_next_are_asked(chat):
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)):
        await letter_sent(chat, 1)
        await letter_sent(chat, 2)
        chat.storage.set_consents(2, {WHATS_NEXT: True}, "test-wording")
        with later(TWO_WEEKS_ON):  # 15 December: the campaign ended on the 10th
            await run_followups(chat)
    assert questions(chat, 1) == [] and len(questions(chat, 2)) == 1


# --- what /mydata says of the question ----------------------------------------------------------


def asking(chat, uid: int) -> list:
    """The questions sent (not /mydata's pages, which name them too)."""
    return [call for call in chat.api.sent(uid) if ASKED_PREFIX in str(call.buttons)]


async def followup_line(chat, uid: int) -> str:
    """The line of /mydata about the letter's "Did your MP reply?"."""
    page = "\n".join(call.text for call in await chat.send(uid, "/mydata"))
    (line,) = [line for line in page.splitlines() if line.startswith("Letter sent")]
    return line


async def queued(chat, monkeypatch) -> int:
    """Bring the follow-up due and put it in its broadcast, with nothing sent yet."""
    with monkeypatch.context() as patched, later(TWO_WEEKS_ON):
        patched.setattr(broadcasts, "start", lambda app, broadcast_id: None)
        await run_followups(chat)
    return followup(chat, 1)["broadcast_id"]


async def test_mydata_says_the_question_is_queued_until_it_is_sent_then_asked(chat, monkeypatch):
    await letter_sent(chat, 1)
    assert "I'll ask you once, on 26 November 2026" in await followup_line(chat, 1)
    broadcast_id = await queued(chat, monkeypatch)
    assert "waiting its turn" in await followup_line(chat, 1)
    assert await enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules) == 1
    assert "waiting its turn" in await followup_line(chat, 1)
    with later(TWO_WEEKS_ON):
        await broadcasts.start(chat.app, broadcast_id)
    assert len(asking(chat, 1)) == 1
    assert "asked on 26 November 2026, no answer yet" in await followup_line(chat, 1)


async def test_mydata_says_a_question_skipped_at_its_turn_was_never_asked(chat, monkeypatch):
    """Queued, then /stop before its turn: the delivery is skipped, and /mydata says so rather
    than "asked"."""
    await letter_sent(chat, 1)
    broadcast_id = await queued(chat, monkeypatch)
    await enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules)
    await chat.send(1, "/stop")
    await broadcasts.start(chat.app, broadcast_id)
    assert asking(chat, 1) == []
    line = await followup_line(chat, 1)
    assert line.endswith("the question was not sent to you: you had sent /stop.")
    assert "asked" not in line


async def test_mydata_says_a_question_left_out_of_its_broadcast_was_never_asked(
    chat, monkeypatch
):
    await letter_sent(chat, 1)
    broadcast_id = await queued(chat, monkeypatch)
    chat.storage.mark_blocked(1)  # left out when its recipients are fixed
    await broadcasts.start(chat.app, broadcast_id)
    assert asking(chat, 1) == []
    assert (await followup_line(chat, 1)).endswith("the question was not sent to you.")


async def test_mydata_says_a_refused_question_was_not_delivered(chat):
    await letter_sent(chat, 1)
    chat.api.fail(
        Fault(403, "Forbidden: bot was blocked by the user"),
        when=lambda call: call.method == "sendMessage" and call.chat_id == 1,
    )
    await asked(chat, 1)
    line = await followup_line(chat, 1)  # writing again unblocks them
    assert line.endswith("not sent to you: the bot was blocked.")


async def test_mydata_says_a_question_that_timed_out_may_not_have_arrived(chat):
    await letter_sent(chat, 1)
    chat.api.fail(Fault("timeout"), when=lambda call: call.method == "sendMessage")
    await asked(chat, 1)
    assert "can't tell whether it reached you" in await followup_line(chat, 1)


async def test_mydata_says_a_stop_after_the_letter_means_no_question(chat):
    await letter_sent(chat, 1)
    await chat.send(1, "/stop")
    assert (await followup_line(chat, 1)).endswith("you sent /stop after it, so I won't ask you.")


async def test_mydata_says_a_question_due_after_the_campaign_needs_what_comes_next(chat):
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)):
        await letter_sent(chat, 1)
        line = await followup_line(chat, 1)
        assert "the campaign will be over by 15 December 2026" in line
        chat.storage.set_consents(1, {WHATS_NEXT: True}, "test-wording")
        assert "I'll ask you once, on 15 December 2026" in await followup_line(chat, 1)


async def test_mydata_tells_the_stage_of_the_question_in_portuguese(chat, monkeypatch):
    await chat.send(1, "/start", language_code="pt-br")
    await chat.press(1, consent.OPTIN_NONE, language_code="pt-br")
    chat.app.user_data[1][HANDED_OVER] = WESTMINSTER.name
    await chat.press(1, SENT, language_code="pt-br")
    await queued(chat, monkeypatch)
    page = "\n".join(call.text for call in await chat.send(1, "/mydata", language_code="pt-br"))
    assert "a pergunta está na fila para ser enviada a você" in page


async def test_mydata_says_a_question_whose_sending_was_cancelled_was_never_asked(
    chat, monkeypatch
):
    await letter_sent(chat, 1)
    broadcast_id = await queued(chat, monkeypatch)
    await enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules)
    assert chat.storage.cancel_broadcast(broadcast_id)  # an organiser's Cancel, say
    line = await followup_line(chat, 1)
    assert line.endswith("the question was not sent to you: the organisers cancelled it.")
