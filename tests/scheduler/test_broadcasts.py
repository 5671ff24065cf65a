"""Broadcasts in the background: scheduled jobs rebuilt at every start (a missed time runs at
once), the organiser's progress message edited in place, and the final report."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.app.offline import Fault
from bot.delivery import Audience, DeliveryReport, ProgressSnapshot, create_broadcast, enqueue
from messages import broadcast as screens
from messages.broadcast import duration, progress_text, report_text
from scheduler import broadcasts
from scheduler.broadcasts import AT_START_DELAY, job_name
from scheduler.daily import CATCH_UP_JOB
from tests.support.broadcasts import compose, finish, received, subscribe
from tests.support.fakes import run_job
from tests.support.harness import ORGANISER_ID, make_settings, running_bot

pytestmark = pytest.mark.filterwarnings("ignore:Tasks created via:telegram.warnings.PTBUserWarning")

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def london(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


NOW = london(27, 19, 30)  # where `clock` stops time; tests move it by hand


async def schedule_for(chat, typed: str) -> int:
    """An organiser schedules a broadcast to everyone for the time they type."""
    await compose(chat)
    await chat.press(ORGANISER_ID, screens.CONTINUE)
    await chat.press(ORGANISER_ID, screens.EVERYONE)
    await chat.press(ORGANISER_ID, screens.SCHEDULE)
    await chat.send(ORGANISER_ID, typed)
    [row] = chat.storage.db.query("SELECT max(id) AS id FROM broadcasts")
    return row["id"]


def the_job(chat, broadcast_id: int):
    [job] = chat.app.job_queue.get_jobs_by_name(job_name(broadcast_id))
    return job


def run_date(job) -> dt.datetime:
    return job.job.trigger.run_date


# --- jobs rebuilt from SQLite ------------------------------------------------------------------


async def test_a_scheduled_broadcast_keeps_its_job_across_a_restart(settings, api, clock):
    async with running_bot(settings, api) as chat:
        subscribe(chat.storage, 1)
        broadcast_id = await schedule_for(chat, "2026-11-28 18:00")
        assert run_date(the_job(chat, broadcast_id)) == london(28, 18)
    async with running_bot(settings, api) as chat:
        assert run_date(the_job(chat, broadcast_id)) == london(28, 18)
        assert received(chat, 1) == []


async def test_a_broadcast_due_while_the_bot_was_down_goes_out_at_start(settings, api, clock):
    async with running_bot(settings, api) as chat:
        subscribe(chat.storage, 1)
        subscribe(chat.storage, 2, "pt")
        broadcast_id = await schedule_for(chat, "2026-11-28 18:00")
    clock.move_to(london(29, 9))  # the bot was down through the 28th
    async with running_bot(settings, api) as chat:
        job = the_job(chat, broadcast_id)
        # Not dropped as a misfire: it runs straight after the start-up catch-up.
        assert run_date(job) == london(29, 9).astimezone(UTC) + AT_START_DELAY
        await job.run(chat.app)
        assert [call.text for call in received(chat, 1)] == ["Day 5: write to your MP"]
        assert [call.text for call in received(chat, 2)] == ["Day 5: write to your MP"]
        assert chat.storage.broadcast_status(broadcast_id) == "done"
        assert f"Broadcast #{broadcast_id} finished" in chat.last_text(ORGANISER_ID)
    async with running_bot(settings, api) as chat:
        assert not chat.app.job_queue.get_jobs_by_name(job_name(broadcast_id))


async def test_a_broadcast_left_running_resumes_at_start_with_progress_and_report(
    settings, api, clock
):
    """D11: after a shutdown (or a crash) mid-broadcast, the next start carries on, and the
    organiser sees it: a progress message, then the final report."""
    clock.move_to(london(24, 12))  # before the campaign: no daily prompt joins in
    async with running_bot(settings, api) as chat:
        for user_id in (1, 2, 3):
            subscribe(chat.storage, user_id)
        broadcast_id = create_broadcast(
            chat.storage, texts={"en": "Carry on"}, created_by=ORGANISER_ID
        )
        # As a stopped process leaves it: running.
        await enqueue(chat.storage, broadcast_id, chat.app.bot_data.rules)
        chat.storage.record_deliveries(broadcast_id, [(1, "sent", 77, None)])
    async with running_bot(settings, api) as chat:
        await run_job(chat.app, CATCH_UP_JOB)
        assert chat.storage.broadcast_status(broadcast_id) == "done"
    assert [call.text for call in received(chat, 2)] == ["Carry on"]
    assert [call.text for call in received(chat, 3)] == ["Carry on"]
    assert received(chat, 1) == []
    to_organiser = [call.text for call in api.sent(ORGANISER_ID)]
    assert f"Sending broadcast #{broadcast_id}</b> to 3 supporters" in to_organiser[0]
    assert f"Broadcast #{broadcast_id} finished" in to_organiser[-1]


async def test_a_broadcast_cancelled_before_its_time_is_not_sent(chat, clock):
    subscribe(chat.storage, 1)
    broadcast_id = await schedule_for(chat, "18:00")
    job = the_job(chat, broadcast_id)
    chat.storage.cancel_broadcast(broadcast_id)  # e.g. by a process that has no such job
    await job.run(chat.app)
    assert received(chat, 1) == []
    assert chat.storage.broadcast_status(broadcast_id) == "cancelled"


async def test_one_broadcast_never_runs_twice_at_once_in_a_process(chat):
    subscribe(chat.storage, 1)
    broadcast_id = create_broadcast(chat.storage, texts={"en": "Once"}, created_by=ORGANISER_ID)
    first = broadcasts.start(chat.app, broadcast_id)
    assert broadcasts.start(chat.app, broadcast_id) is first
    await finish(chat)
    assert [call.text for call in received(chat, 1)] == ["Once"]


# --- progress and report -----------------------------------------------------------------------


async def test_the_organiser_sees_progress_edited_in_place_then_a_report(
    tmp_path, api, monkeypatch
):
    monkeypatch.setattr(broadcasts, "PROGRESS_EVERY", 0)  # every batch, not every 3 seconds
    settings = make_settings(tmp_path, broadcast_rate=10)  # batches of 10
    async with running_bot(settings, api) as chat:
        for user_id in range(1, 26):
            subscribe(chat.storage, user_id)
        api.fail(Fault(403, "Forbidden: bot was blocked by the user"), lambda c: c.chat_id == 3)
        api.fail(Fault(400, "Bad Request: chat not found"), lambda c: c.chat_id == 4)
        api.fail(Fault("timeout"), lambda c: c.chat_id == 5)
        broadcast_id = create_broadcast(
            chat.storage, texts={"en": "Hello"}, audience=Audience(), created_by=ORGANISER_ID
        )
        await broadcasts.start(chat.app, broadcast_id)

    to_organiser = api.sent(ORGANISER_ID)
    opened = to_organiser[0]
    assert opened.method == "sendMessage"
    assert f"Preparing broadcast #{broadcast_id}</b>" in opened.text  # before the recipients
    progress_id = 1000  # the offline API's first message id
    ready, *edits = [
        call
        for call in to_organiser
        if call.method == "editMessageText" and int(call.params["message_id"]) == progress_id
    ]
    assert f"Sending broadcast #{broadcast_id}</b> to 25 supporters" in ready.text
    assert [call.text.split("\n")[1].split(" · ")[0] for call in edits[:-1]] == [
        "Done: 10 of 25",
        "Done: 20 of 25",
        "Done: 25 of 25",
    ]
    assert all(
        f"{screens.STOP_PREFIX}{broadcast_id}" in str(call.params["reply_markup"])
        for call in edits[:-1]
    )
    assert "per second" in edits[0].text
    final = edits[-1]
    assert "reply_markup" not in final.params  # no Cancel once it is over
    report = to_organiser[-1]
    assert report.method == "sendMessage"
    assert f"Broadcast #{broadcast_id} finished" in report.text
    for line in (
        "Delivered: <b>22</b> of 25",
        "Blocked the bot: 1",
        "Failed: 1",
        "Unknown (timed out; may have arrived, not retried): 1",
        "Skipped (unsubscribed before their turn): 0",
    ):
        assert line in report.text and line in final.text


async def test_delivery_goes_on_when_the_organiser_cannot_be_reached(chat):
    subscribe(chat.storage, 1)
    chat.api.fail(
        Fault(403, "Forbidden: bot was blocked by the user"),
        times=3,
        when=lambda call: call.chat_id == ORGANISER_ID,
    )
    broadcast_id = create_broadcast(
        chat.storage, texts={"en": "Still sent"}, created_by=ORGANISER_ID
    )
    report = await broadcasts.start(chat.app, broadcast_id)
    assert report.sent == 1
    assert [call.text for call in received(chat, 1)] == ["Still sent"]


def snapshot(**values) -> ProgressSnapshot:
    figures = {"broadcast_id": 7, "sent": 1200, "failed": 3, "blocked": 2, "unknown": 1}
    return ProgressSnapshot(**{**figures, "skipped": 0, "total": 5000, **values})


def test_progress_reads_naturally_in_each_language():
    english = progress_text("en", snapshot(rate=24.75, seconds_left=153.0))
    assert "Done: 1,206 of 5,000 · per second: 24.8 · about 2 min 33 s left" in english
    portuguese = progress_text("pt", snapshot(rate=24.75, seconds_left=3720.0))
    assert "Feito: 1.206 de 5.000 · por segundo: 24,8 · faltam cerca de 1 h 2 min" in portuguese
    spanish = progress_text("es", snapshot(rate=0.0, seconds_left=None))
    assert "calculando el tiempo restante" in spanish


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (59.4, "59 s"), (60, "1 min 0 s"), (3599, "59 min 59 s"), (7260, "2 h 1 min")],
)
def test_durations_are_rounded_to_what_matters(seconds, shown):
    assert duration("en", seconds) == shown


def run_report(**values) -> DeliveryReport:
    figures = {"broadcast_id": 7, "status": "done", "sent": 90, "failed": 1, "blocked": 2}
    return DeliveryReport(
        **{
            **figures,
            "unknown": 3,
            "skipped": 4,
            "capped": 0,
            "not_sent": 0,
            "total": 110,
            "seconds": 65,
            **values,
        }
    )


@pytest.mark.parametrize(
    ("status", "title"),
    [
        ("done", "finished</b> in 1 min 5 s"),
        ("cancelled", "cancelled</b> after 1 min 5 s"),
        ("running", "carries on when the bot starts again"),
    ],
)
def test_the_report_says_how_the_run_ended(status, title):
    report = run_report(status=status, not_sent=0 if status == "done" else 10)
    text = report_text("en", report, daily_cap=1)
    assert title in text
    assert "Delivered: <b>90</b> of 110" in text
    assert f"Not sent: {report.not_sent}" in text


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        (
            "en",
            [
                "Skipped (unsubscribed before their turn): 3",
                "1 supporter was not sent it: they had blocked the bot before their turn.",
                "2 supporters were not sent it: they had cancelled their yes to the lobby day",
            ],
        ),
        (
            "pt",
            [
                "Puladas (a pessoa cancelou a inscrição antes da vez dela): 3",
                "1 pessoa não recebeu: tinha bloqueado o bot",
                "2 pessoas não receberam: tinham cancelado a presença no dia de lobby",
            ],
        ),
        (
            "es",
            [
                "Omitidos (se dieron de baja antes de su turno): 3",
                "1 persona no lo recibió: había bloqueado el bot",
                "2 personas no lo recibieron: habían cancelado su asistencia al día de lobby",
            ],
        ),
    ],
)
def test_the_report_gives_each_reason_for_skipping_its_own_words(language, lines):
    report = run_report(
        skipped=7, capped=1, skipped_for={"unsubscribed": 3, "blocked": 1, "not_going": 2}
    )
    text = report_text(language, report, daily_cap=1)
    for line in lines:
        assert line in text
    assert "/stop" not in text  # a reason that skipped nobody is not said
