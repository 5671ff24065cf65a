"""The "Did your MP reply?" question, asked once, fourteen days after a supporter sent their letter.

A follow-up the supporter's own letter set up: during the campaign it goes to everyone who has not
said /stop since; once the campaign is over, only to those who agreed to hear what comes next
(bot.consent, P7).

A repeating job puts the follow-ups come due in one broadcast of the delivery engine, created
and recorded in one transaction (bot.mps.start_followups): each is asked at most once and, once
in it, delivered like every other message (Promise D): paced behind supporters' replies, a 403
marks the supporter blocked, a timeout is not retried (it may well have arrived), an outage of
Telegram's servers delays it and loses nobody, and a run cut short by a crash resumes at the
next start (scheduler.broadcasts).
"""

from __future__ import annotations

import datetime as dt

from telegram.ext import Application

from bot.app.context import Context
from bot.consent import FOLLOWUP_KIND
from bot.mps import start_followups
from bot.storage import utcnow
from messages import text
from messages.mp import asked_keyboard
from scheduler import broadcasts
from scheduler.lobby import in_every_language

FOLLOWUP_JOB = "mp-followups"
FOLLOW_UP_AFTER = dt.timedelta(days=14)
CHECK_EVERY = dt.timedelta(minutes=30)
MISFIRE_GRACE = 20 * 60
FIRST_CHECK_AFTER = 60  # seconds: let the bot settle after a start


async def ask_due_followups(context: Context) -> None:
    """Ask every supporter whose follow-up has come due, once, through the delivery engine."""
    now = utcnow()
    broadcast_id = start_followups(
        context.bot_data.storage,
        now,
        context.bot_data.rules.subject_for(FOLLOWUP_KIND, now),
        in_every_language(lambda lang: text(lang, "mp.followup_question")),
        lambda broadcast_id: in_every_language(lambda lang: asked_keyboard(lang, broadcast_id)),
    )
    if broadcast_id is not None:
        broadcasts.start(context.application, broadcast_id)


def schedule(app: Application) -> None:
    app.job_queue.run_repeating(
        ask_due_followups,
        interval=CHECK_EVERY,
        first=FIRST_CHECK_AFTER,
        name=FOLLOWUP_JOB,
        job_kwargs={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True},
    )
