"""The "Did your MP reply?" question, asked once, fourteen days after a supporter sent their letter.

A follow-up the supporter's own letter set up: during the campaign it goes to everyone who has not
said /stop since; once the campaign is over, only to those who agreed to hear what comes next
(bot.consent, P7).

A repeating job looks for follow-ups that have come due. Each is marked asked before its
question is sent, so it is asked at most once across any number of restarts; a send that fails
is not retried (a timeout may well have reached the supporter).
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from bot.app.context import Context
from bot.consent import FOLLOWUP_KIND
from bot.storage import utcnow
from messages import text
from messages.mp import answer_keyboard

logger = logging.getLogger(__name__)

FOLLOWUP_JOB = "mp-followups"
FOLLOW_UP_AFTER = dt.timedelta(days=14)
CHECK_EVERY = dt.timedelta(minutes=30)
MISFIRE_GRACE = 20 * 60
FIRST_CHECK_AFTER = 60  # seconds: let the bot settle after a start


async def ask_due_followups(context: Context) -> None:
    """Ask every supporter whose follow-up has come due, once."""
    storage = context.bot_data.storage
    now = utcnow()
    consent = context.bot_data.rules.subject_for(FOLLOWUP_KIND, now)
    for followup in storage.due_mp_followups(now, consent):
        if not storage.claim_mp_followup(followup["id"]):
            continue
        user_id, language = followup["user_id"], followup["language"]
        try:
            message = await context.bot.send_message(
                user_id,
                text(language, "mp.followup_question"),
                reply_markup=answer_keyboard(language, followup["id"]),
            )
        except Forbidden:
            storage.mark_blocked(user_id)
            continue
        except TelegramError as error:
            logger.warning("Could not ask MP follow-up %s: %s", followup["id"], error)
            continue
        storage.record_chat_messages([(user_id, message.message_id)])


def schedule(app: Application) -> None:
    app.job_queue.run_repeating(
        ask_due_followups,
        interval=CHECK_EVERY,
        first=FIRST_CHECK_AFTER,
        name=FOLLOWUP_JOB,
        job_kwargs={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True},
    )
