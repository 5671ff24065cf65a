"""Organiser broadcasts in the background: one JobQueue job per scheduled broadcast (named
`broadcast-<id>`, rebuilt from SQLite at every start), and each run with its progress message to
the organiser, edited in place, then the final report.

Delivery itself is `bot.delivery.run_broadcast`: resumable, paced by the bot's rate limiter,
subscription re-checked at send time. A run is a task, so the bot keeps answering (D7). A run
the process stopped (a shutdown) or a dead process left behind is resumed after the next start
by the daily catch-up job, through `start`: with a new progress message and the final report.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application

from bot.app.context import BotData, Context
from bot.delivery import (
    DeliveryReport,
    ProgressSnapshot,
    enqueue,
    known_total,
    run_broadcast,
)
from bot.storage import Storage, utcnow
from messages import Html, text
from messages.broadcast import figures, progress_text, report_text, stop_keyboard

logger = logging.getLogger(__name__)

KIND = "broadcast"
JOB_PREFIX = "broadcast-"
# The organiser's progress message is edited at most this often (Telegram frowns on more).
PROGRESS_EVERY = 3.0
# A broadcast that fell due while the bot was down goes out once the bot has finished starting,
# after the daily catch-up job (scheduler.daily, two seconds after the start).
AT_START_DELAY = dt.timedelta(seconds=5)


def job_name(broadcast_id: int) -> str:
    return f"{JOB_PREFIX}{broadcast_id}"


# --- jobs ----------------------------------------------------------------------------------------


def schedule(app: Application) -> None:
    """At start: a job for every scheduled broadcast; one whose time passed while the bot was
    down (a misfire) goes out straight after the start."""
    earliest = utcnow() + AT_START_DELAY
    for broadcast_id, scheduled_for in app.bot_data.storage.scheduled_broadcasts():
        add(app, broadcast_id, max(dt.datetime.fromisoformat(scheduled_for), earliest))


def add(app: Application, broadcast_id: int, when: dt.datetime) -> None:
    """(Re)place the job that sends a scheduled broadcast at `when`."""
    _remove_job(app, broadcast_id)
    app.job_queue.run_once(
        send_scheduled,
        when=when,
        data=broadcast_id,
        name=job_name(broadcast_id),
        # However late the scheduler gets to it, an organiser's broadcast still goes out.
        job_kwargs={"misfire_grace_time": None},
    )


def cancel(app: Application, broadcast_id: int) -> bool:
    """Cancel a scheduled or running broadcast (a running one stops after its current batch).
    False if it had already ended."""
    _remove_job(app, broadcast_id)
    return app.bot_data.storage.cancel_broadcast(broadcast_id)


def _remove_job(app: Application, broadcast_id: int) -> None:
    for job in app.job_queue.get_jobs_by_name(job_name(broadcast_id)):
        job.schedule_removal()


async def send_scheduled(context: Context) -> None:
    """A scheduled broadcast's time has come: send it, unless it was cancelled meanwhile."""
    broadcast_id = context.job.data
    if context.bot_data.storage.broadcast_status(broadcast_id) != "scheduled":
        return
    # Wait for the run without re-raising its error: the Application has already reported it.
    await asyncio.wait({start(context.application, broadcast_id)})


# --- runs ----------------------------------------------------------------------------------------


def running(app: Application) -> list[asyncio.Task[DeliveryReport]]:
    """The runs this process has under way."""
    return list(app.bot_data.broadcast_runs.values())


def start(app: Application, broadcast_id: int) -> asyncio.Task[DeliveryReport]:
    """Send a broadcast in the background, reporting to the organiser who made it; the run
    already under way if there is one (never two runs of one broadcast in a process)."""
    runs = app.bot_data.broadcast_runs
    if broadcast_id not in runs:
        task = app.create_task(deliver(app, broadcast_id), name=job_name(broadcast_id))
        runs[broadcast_id] = task
        task.add_done_callback(lambda _: runs.pop(broadcast_id, None))
    return runs[broadcast_id]


async def deliver(app: Application, broadcast_id: int) -> DeliveryReport:
    """Run the broadcast to the end (or its cancellation) with a progress message and report.
    The message comes at once: while the recipients are being written (a slice of supporters
    at a time, letting supporters in between) it says so, then how many they are."""
    data: BotData = app.bot_data
    storage = data.storage
    progress = Progress(
        app.bot,
        storage,
        broadcast_id,
        storage.get_broadcast(broadcast_id)["created_by"],
        data.rules.daily_cap,
    )
    await progress.open()
    if await enqueue(storage, broadcast_id, data.rules, data.sending) is not None:
        await progress.ready()
    report = await run_broadcast(
        app.bot,
        storage,
        broadcast_id,
        rules=data.rules,
        sending=data.sending,
        on_progress=progress.update,
        progress_every=PROGRESS_EVERY,
    )
    await progress.close(report)
    return report


class Progress:
    """The organiser's view of one run: a message edited as the figures come in (with a Cancel
    button), then the final report. Failing to reach the organiser never stops the delivery."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        broadcast_id: int,
        organiser_id: int | None,
        daily_cap: int,
    ) -> None:
        self.bot = bot
        self.storage = storage
        self.broadcast_id = broadcast_id
        self.chat_id = organiser_id
        self.daily_cap = daily_cap  # broadcasts a person may get a day, said in the report
        self.language = storage.language_of(organiser_id)
        self.message_id: int | None = None

    async def open(self) -> None:
        """The progress message: how many it goes to, or, while that is not known yet (its
        recipients are being written), that it is being prepared."""
        if self.chat_id is None:
            return
        try:
            message = await self.bot.send_message(
                self.chat_id, self._opening(), reply_markup=self._cancel()
            )
        except TelegramError as error:
            logger.warning("Could not show broadcast %s's progress: %s", self.broadcast_id, error)
            return
        self.message_id = message.message_id
        self.storage.record_chat_messages([(self.chat_id, message.message_id)])

    async def ready(self) -> None:
        """Its recipients are all written: say how many, in place."""
        await self._edit(self._opening(), self._cancel())

    def _opening(self) -> Html:
        total = known_total(self.storage.get_broadcast(self.broadcast_id))
        if total is None:
            return text(self.language, "broadcast.progress_preparing", id=self.broadcast_id)
        return text(self.language, "broadcast.progress_starting", id=self.broadcast_id, count=total)

    def _cancel(self) -> InlineKeyboardMarkup:
        return stop_keyboard(self.language, self.broadcast_id)

    async def update(self, snapshot: ProgressSnapshot) -> None:
        await self._edit(progress_text(self.language, snapshot), self._cancel())

    async def close(self, report: DeliveryReport) -> None:
        """Final figures in the progress message (its Cancel button gone), and the report as a
        new message, so the organiser is notified."""
        await self._edit(figures(self.language, report, self.daily_cap), None)
        if self.chat_id is None:
            return
        try:
            body = report_text(self.language, report, self.daily_cap)
            message = await self.bot.send_message(self.chat_id, body)
        except TelegramError as error:
            logger.warning("Could not report on broadcast %s: %s", self.broadcast_id, error)
            return
        self.storage.record_chat_messages([(self.chat_id, message.message_id)])

    async def _edit(self, body: Html, markup: InlineKeyboardMarkup | None) -> None:
        if self.chat_id is None or self.message_id is None:
            return
        try:
            await self.bot.edit_message_text(
                body, chat_id=self.chat_id, message_id=self.message_id, reply_markup=markup
            )
        except BadRequest:
            pass  # unchanged figures, or the organiser deleted the message
        except TelegramError as error:
            logger.warning("Could not update broadcast %s's progress: %s", self.broadcast_id, error)
