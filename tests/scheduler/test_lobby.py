"""Lobby days' jobs through the real Application: reminders the evening before and on the morning
to those going who agreed to hear from the campaign, the message on the day to everyone else,
"How did it go?" afterwards, and the news of a change or a cancellation; each a broadcast of the
delivery engine, at most once and never lost across a restart, with the jobs rebuilt from SQLite
at every start and a clock moved by hand."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot import lobby
from bot.consent import UPDATES, WHATS_NEXT, stop_everything
from bot.delivery import enqueue
from messages import mydata
from messages.consent import choice_data
from scheduler import broadcasts
from scheduler import lobby as jobs
from tests.support.harness import ORGANISER_ID, running_bot
from tests.support.parliament import WESTMINSTER

pytestmark = pytest.mark.filterwarnings("ignore:Tasks created via:telegram.warnings.PTBUserWarning")

LONDON = ZoneInfo("Europe/London")
GOING_SUBSCRIBED, GOING_NOT_SUBSCRIBED, NOT_GOING, STOPPED = 1, 2, 3, 4


def london(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


START = london(26, 11)  # Thursday 26 November 2026, 11:00
NOW = london(20, 12)  # where the `clock` fixture stands still; tests move it by hand


def supporter(storage, uid: int, *, subscribed: bool, going_to: int | None = None) -> None:
    storage.ensure_supporter(uid, "pt" if uid == GOING_NOT_SUBSCRIBED else "en")
    # Subscribed: agreed to hear from the campaign (its updates), what lobby reminders need.
    storage.set_consents(uid, {UPDATES: subscribed}, "test-wording")
    storage.set_constituency(uid, WESTMINSTER.code, WESTMINSTER.name)
    if going_to:
        storage.save_rsvp(
            going_to,
            uid,
            constituency=(WESTMINSTER.code, WESTMINSTER.name),
            mp={"member_id": 5001, "name": "Jane Example", "party": "Labour"},
        )


def new_event(storage, starts_at: dt.datetime = START) -> int:
    event_id = storage.create_lobby_event(
        texts={"title": {"en": "Mass lobby"}, "place": {"en": "Central Lobby"}, "bring": {}},
        starts_at=starts_at,
        rsvp_deadline=starts_at - dt.timedelta(days=1),
        hashtag="#masslobby",
        created_by=ORGANISER_ID,
    )
    supporter(storage, GOING_SUBSCRIBED, subscribed=True, going_to=event_id)
    supporter(storage, GOING_NOT_SUBSCRIBED, subscribed=False, going_to=event_id)
    supporter(storage, NOT_GOING, subscribed=True)
    return event_id


@pytest.fixture
async def event_id(settings, api, clock) -> int:
    """A lobby day on 26 November at 11:00, saved by a bot that has since stopped."""
    async with running_bot(settings, api) as chat:
        return new_event(chat.storage)


def received(api, uid: int, words: str) -> list[str]:
    return [call.text for call in api.sent(uid) if words in call.text]


async def run(chat, event_id: int, moment: str) -> None:
    """What the JobQueue does at the moment's time, and the broadcast it starts, to the end."""
    (job,) = chat.app.job_queue.get_jobs_by_name(jobs.job_name(event_id, moment))
    await job.run(chat.app)
    await asyncio.gather(*broadcasts.running(chat.app))


@contextlib.contextmanager
def not_started(monkeypatch):
    """Broadcasts are created and committed but not started: as if the process died there."""
    with monkeypatch.context() as patched:
        patched.setattr(broadcasts, "start", lambda app, broadcast_id: None)
        yield


async def resume(chat) -> None:
    """What the JobQueue does just after a start: broadcasts created but not begun go out."""
    for job in chat.app.job_queue.jobs():
        if job.name.startswith(broadcasts.JOB_PREFIX):
            await job.run(chat.app)
    await asyncio.gather(*broadcasts.running(chat.app))


async def test_jobs_are_rebuilt_at_start_at_the_moments_of_the_day(settings, api, clock, event_id):
    async with running_bot(settings, api) as chat:
        runs = {
            moment: chat.app.job_queue.get_jobs_by_name(jobs.job_name(event_id, moment))[0]
            for moment in lobby.MOMENTS
        }
    assert runs["eve"].job.trigger.run_date == london(25, 18)
    assert runs["morning"].job.trigger.run_date == london(26, 8)
    assert runs["fallback"].job.trigger.run_date == london(26, 8)
    assert runs["outcome"].job.trigger.run_date == london(26, 17)


async def test_reminders_go_once_to_those_going_who_agreed_even_across_a_restart(
    settings, api, clock, event_id
):
    clock.move_to(london(25, 18))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "eve")
        assert not jobs.act(chat.app, event_id, "eve")  # a second run: nobody twice
    (eve,) = received(api, GOING_SUBSCRIBED, "Tomorrow: Mass lobby")
    assert "Central Lobby" in eve
    (details, *_) = api.sent(GOING_SUBSCRIBED)[-1].buttons  # who they meet, one tap away
    assert details["callback_data"] == f"lobby:event:{event_id}"
    assert api.sent(GOING_NOT_SUBSCRIBED) == [] and api.sent(NOT_GOING) == []
    clock.move_to(london(26, 8, 5))
    async with running_bot(settings, api) as chat:  # the eve's job is rebuilt, and finds nobody
        await run(chat, event_id, "eve")
        await run(chat, event_id, "morning")
    assert len(received(api, GOING_SUBSCRIBED, "Tomorrow")) == 1
    assert len(received(api, GOING_SUBSCRIBED, "Today's the day")) == 1
    assert api.sent(GOING_NOT_SUBSCRIBED) == []


async def test_no_reminder_once_the_event_has_begun(settings, api, clock, event_id):
    clock.move_to(START + dt.timedelta(minutes=5))  # the bot was down all morning
    async with running_bot(settings, api) as chat:
        names = {job.name for job in chat.app.job_queue.jobs()}
        assert jobs.job_name(event_id, "eve") not in names
        assert jobs.job_name(event_id, "morning") not in names
        assert not jobs.act(chat.app, event_id, "morning")
    assert api.sent(GOING_SUBSCRIBED) == []


async def test_on_the_morning_everyone_else_subscribed_is_offered_to_email_or_post(
    settings, api, clock, event_id
):
    clock.move_to(london(26, 8))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "fallback")
        assert not jobs.act(chat.app, event_id, "fallback")  # created once only
        assert len(chat.storage.open_broadcasts("broadcast")) == 0
    (offer,) = received(api, NOT_GOING, "Can't be there?")
    assert "#masslobby" in offer
    (button,) = next(call for call in api.sent(NOT_GOING) if "Can't be there?" in call.text).buttons
    assert button["url"] == "https://t.me/StepUpBot?start=mp"
    assert received(api, GOING_SUBSCRIBED, "Can't be there?") == []
    assert api.sent(GOING_NOT_SUBSCRIBED) == []  # no campaign messages without a yes
    assert api.sent(ORGANISER_ID)  # its progress and report, as for any broadcast


async def test_no_today_message_after_the_day(settings, api, clock, event_id):
    clock.move_to(london(27, 9))
    async with running_bot(settings, api) as chat:
        assert not jobs.act(chat.app, event_id, "fallback")
    assert api.sent(NOT_GOING) == []


async def test_how_did_it_go_is_asked_once_to_everyone_going_unless_they_stopped(
    settings, api, clock, event_id
):
    async with running_bot(settings, api) as chat:
        supporter(chat.storage, STOPPED, subscribed=True, going_to=event_id)
    clock.move_to(london(26, 12))
    async with running_bot(settings, api) as chat:
        stop_everything(chat.storage, STOPPED, "test-wording")  # /stop after saying yes
    clock.move_to(london(26, 17))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "outcome")
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "outcome")
    (question,) = received(api, GOING_SUBSCRIBED, "How did it go?")
    assert "Mass lobby" in question
    assert len(received(api, GOING_NOT_SUBSCRIBED, "Como foi?")) == 1
    assert api.sent(STOPPED) == [] and api.sent(NOT_GOING) == []
    buttons = [button["callback_data"] for button in api.sent(GOING_SUBSCRIBED)[-1].buttons]
    assert buttons == [f"lobby:how:{event_id}:{outcome}" for outcome in lobby.OUTCOMES]


async def test_a_moment_whose_process_died_before_sending_goes_out_after_the_restart_once(
    settings, api, clock, event_id, monkeypatch
):
    clock.move_to(london(25, 18))
    async with running_bot(settings, api) as chat:
        with not_started(monkeypatch):  # kill -9 after the moment's commit, before a send
            await run(chat, event_id, "eve")
    assert api.sent(GOING_SUBSCRIBED) == []
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "eve")  # the job is rebuilt: the moment is done, not redone
        await resume(chat)
    async with running_bot(settings, api) as chat:
        await resume(chat)
        await run(chat, event_id, "eve")
    assert len(received(api, GOING_SUBSCRIBED, "Tomorrow: Mass lobby")) == 1
    assert api.sent(GOING_NOT_SUBSCRIBED) == [] and api.sent(NOT_GOING) == []


async def test_a_cancellation_whose_process_died_before_telling_anyone_is_told_at_start(
    settings, api, clock, event_id, monkeypatch
):
    async with running_bot(settings, api) as chat:
        event = lobby.LobbyEvent.from_row(chat.storage.get_lobby_event(event_id))
        with not_started(monkeypatch):
            assert await jobs.cancel(chat.app, event, ORGANISER_ID) == 2
    async with running_bot(settings, api) as chat:
        assert not [job for job in chat.app.job_queue.jobs() if job.name.startswith("lobby-")]
        await resume(chat)
    async with running_bot(settings, api) as chat:
        await resume(chat)
        assert await jobs.cancel(chat.app, event, ORGANISER_ID) is None  # cancelled once, told once
    assert len(received(api, GOING_SUBSCRIBED, "is cancelled")) == 1
    # News, not a promo: told whatever their choice about campaign messages.
    assert len(received(api, GOING_NOT_SUBSCRIBED, "A organização cancelou")) == 1
    assert api.sent(NOT_GOING) == []
    assert any("Delivered: <b>2</b> of 2" in call.text for call in api.sent(ORGANISER_ID))


async def move(chat, event_id: int, starts_at: dt.datetime) -> int:
    """An organiser moves the day to `starts_at`; returns how many are told, once they are."""
    before = lobby.LobbyEvent.from_row(chat.storage.get_lobby_event(event_id))
    after = dataclasses.replace(before, starts_at=starts_at)
    values = {
        "texts": {field: dict(getattr(after, field)) for field in lobby.TEXT_FIELDS},
        "starts_at": after.starts_at,
        "rsvp_deadline": after.rsvp_deadline,
        "hashtag": after.hashtag,
    }
    told = await jobs.save_changes(chat.app, before, after, values, ORGANISER_ID)
    await asyncio.gather(*broadcasts.running(chat.app))
    return told


async def test_moving_the_day_tells_those_going_and_reminds_them_again_for_the_new_day(
    settings, api, clock, event_id
):
    clock.move_to(london(25, 18))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "eve")  # "Tomorrow", for the 26th
        assert await move(chat, event_id, london(28, 11)) == 2
        (eve,) = chat.app.job_queue.get_jobs_by_name(jobs.job_name(event_id, "eve"))
        assert eve.job.trigger.run_date == london(27, 18)
    (news,) = received(api, GOING_SUBSCRIBED, "has changed")
    assert "28 November 2026, 11:00" in news
    assert len(received(api, GOING_NOT_SUBSCRIBED, "mudou")) == 1  # news of their own yes
    assert api.sent(NOT_GOING) == []
    clock.move_to(london(27, 18))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "eve")
    assert len(received(api, GOING_SUBSCRIBED, "Tomorrow: Mass lobby")) == 2


async def test_no_more_campaign_updates_ends_the_reminders_but_not_the_news_of_the_day(
    settings, api, clock, event_id
):
    clock.move_to(london(21, 12))
    async with running_bot(settings, api) as chat:
        # Going, then "No more campaign updates" on the Messages screen: not /stop.
        await chat.press(GOING_SUBSCRIBED, choice_data(UPDATES, False))
        supporter(chat.storage, STOPPED, subscribed=True, going_to=event_id)
    clock.move_to(london(22, 12))
    async with running_bot(settings, api) as chat:
        await chat.send(STOPPED, "/stop")
    clock.move_to(london(25, 18))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "eve")
        assert await jobs.told(chat.app, event_id) == 2
        assert await move(chat, event_id, london(28, 11)) == 2
    assert received(api, GOING_SUBSCRIBED, "Tomorrow") == []  # a reminder is a campaign update
    assert len(received(api, GOING_SUBSCRIBED, "has changed")) == 1  # news of their own yes
    clock.move_to(london(28, 17))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "outcome")
    assert len(received(api, GOING_SUBSCRIBED, "How did it go?")) == 1
    assert received(api, STOPPED, "has changed") == received(api, STOPPED, "How did it go") == []


async def test_the_organisers_report_says_why_each_person_going_was_not_told(
    settings, api, clock, event_id, monkeypatch
):
    async with running_bot(settings, api) as chat:
        with not_started(monkeypatch):
            assert await move(chat, event_id, london(28, 11)) == 2
        ((broadcast_id, _),) = chat.storage.scheduled_broadcasts()
        assert await enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules) == 2  # both going
        clock.move_to(london(20, 13))
        chat.storage.cancel_rsvp(event_id, GOING_SUBSCRIBED)  # then, before their turn...
        await chat.send(GOING_NOT_SUBSCRIBED, "/stop")
        await broadcasts.start(chat.app, broadcast_id)
    assert received(api, GOING_SUBSCRIBED, "has changed") == []
    assert received(api, GOING_NOT_SUBSCRIBED, "mudou") == []
    report = api.sent(ORGANISER_ID)[-1].text
    assert "Delivered: <b>0</b> of 2" in report
    assert "Skipped (unsubscribed before their turn): 0" in report  # neither had unsubscribed
    assert "1 supporter was not sent it: they had cancelled their yes to the lobby day" in report
    assert "1 supporter was not sent it: they had sent /stop since saying yes" in report


async def test_after_the_campaign_only_those_who_agreed_to_what_comes_next_are_asked_how_it_went(
    settings, api, clock
):
    after_the_campaign = dt.datetime(2026, 12, 15, 11, tzinfo=LONDON)  # it ended on the 10th
    async with running_bot(settings, api) as chat:
        event_id = new_event(chat.storage, after_the_campaign)
        chat.storage.set_consents(GOING_NOT_SUBSCRIBED, {WHATS_NEXT: True}, "test-wording")
    clock.move_to(after_the_campaign + dt.timedelta(hours=6))
    async with running_bot(settings, api) as chat:
        await run(chat, event_id, "outcome")
    assert len(received(api, GOING_NOT_SUBSCRIBED, "Como foi?")) == 1
    assert received(api, GOING_SUBSCRIBED, "How did it go?") == []  # campaign updates only


async def test_a_yes_cancelled_while_the_reminder_is_under_way_gets_no_reminder(
    settings, api, clock, event_id, monkeypatch
):
    clock.move_to(london(25, 18))
    async with running_bot(settings, api) as chat:
        with not_started(monkeypatch):
            await run(chat, event_id, "eve")
        ((broadcast_id, _),) = chat.storage.scheduled_broadcasts()
        # The recipients fixed:
        assert await enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules) == 1
        chat.storage.cancel_rsvp(event_id, GOING_SUBSCRIBED)  # then "Cancel my RSVP"
        await broadcasts.start(chat.app, broadcast_id)
        assert chat.storage.broadcast_summary(broadcast_id) == {"skipped": 1}
        page = mydata.page("en", chat.storage.personal_data(GOING_SUBSCRIBED), LONDON)
    assert api.sent(GOING_SUBSCRIBED) == []
    assert "lobby day reminder: not sent (you had cancelled your yes to the lobby day)" in page
