from __future__ import annotations

import datetime as dt

import time_machine

from messages import consent, solidarity
from scheduler.housekeeping import HOUSEKEEPING_JOB, run_housekeeping
from tests.support.fakes import JobContext
from tests.support.harness import ORGANISER_ID, running_bot


async def test_personal_data_is_kept_during_retention_and_purged_after(chat):
    chat.storage.ensure_supporter(1, "en")
    campaign = chat.app.bot_data.campaign
    retention = chat.app.bot_data.settings.data_retention_days
    purge_day = campaign.end_date + dt.timedelta(days=retention)
    with time_machine.travel(dt.datetime.combine(purge_day - dt.timedelta(days=1), dt.time(12))):
        await run_housekeeping(JobContext(chat.app))
    assert chat.storage.get_supporter(1) is not None
    with time_machine.travel(dt.datetime.combine(purge_day, dt.time(12))):
        await run_housekeeping(JobContext(chat.app))
    assert chat.storage.get_supporter(1) is None


async def test_old_message_ids_are_pruned_but_recent_ones_kept(chat):
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=3)):
        chat.storage.record_chat_messages([(1, 10)])
    chat.storage.record_chat_messages([(1, 11)])
    await run_housekeeping(JobContext(chat.app))
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    assert chat.storage.chat_messages_since(1, week_ago) == [11]


async def test_housekeeping_is_scheduled_by_name_in_london_time(chat):
    jobs = chat.app.job_queue.get_jobs_by_name(HOUSEKEEPING_JOB)
    assert len(jobs) == 1
    assert jobs[0].job.misfire_grace_time > 0


ABANDONED, FRESH = "AbandonedDraftQuokka", "FreshDraftWombat"


async def write_half_a_message(chat, user_id: int, words: str) -> None:
    await chat.send(user_id, "/start")
    await chat.press(user_id, consent.OPTIN_NONE)
    await chat.press(user_id, solidarity.WRITE)
    await chat.send(user_id, f"Courage, from me. {words}")


async def test_a_draft_abandoned_for_a_day_is_erased_and_a_fresh_one_kept(settings, api):
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    async with running_bot(settings, api) as chat:
        with time_machine.travel(day_ago, tick=False):
            await write_half_a_message(chat, 1, ABANDONED)
        await write_half_a_message(chat, 2, FRESH)
        await run_housekeeping(JobContext(chat.app))
        chat.storage.checkpoint()
        assert ABANDONED not in str(chat.app.user_data[1])
        assert FRESH in str(chat.app.user_data[2])
        stored = settings.database_path.read_bytes()
        assert ABANDONED.encode() not in stored
        assert FRESH.encode() in stored
        # Supporter 1 comes back and signs: the journey asks for the message again, no error.
        replies = await chat.send(1, "Ana")
    assert "Sorry" not in replies[-1].text
    assert any("message" in call.text.lower() for call in replies)


async def test_the_language_of_someone_no_longer_an_organiser_is_erased(chat):
    """Only an organiser can use a language kept without a supporter row, or press the buttons
    that erase it: once their id leaves ORGANISER_IDS, housekeeping erases it."""
    chat.storage.set_organiser_language(ORGANISER_ID, "pt")
    chat.storage.set_organiser_language(ORGANISER_ID + 1, "es")  # an organiser until a restart
    await run_housekeeping(JobContext(chat.app))
    assert chat.storage.chosen_language(ORGANISER_ID) == "pt"
    assert chat.storage.chosen_language(ORGANISER_ID + 1) is None
