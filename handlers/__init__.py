"""`register_all`: the one ordered list of handlers. Order matters.

Group -5 skips an update handled before (given again after a restart);
group -4 keeps everything to private chats; group -3 drops floods before any work is done;
group -2 does bookkeeping for every update;
group 0 holds the journeys, most specific first, with the catch-all for stale buttons last.
The final group writes conversation state through to SQLite after each update, and notes it
handled.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.app.context import DRAFT_STAMP, Context
from bot.storage import stamp
from handlers import (
    broadcast,
    errors,
    gate,
    lobby,
    mp,
    onboarding,
    petition,
    privacy,
    schedule,
    solidarity,
    stats,
    trends,
)

PERSIST_GROUP = 100
# The only updates any handler here reacts to; Telegram is asked for these alone.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]


async def persist_now(update: Update, context: Context) -> None:
    """Write changed conversation state at once, so a restart resumes exactly here (S3), the
    ids of this update's messages for /forget (noted as they were sent:
    `handlers.common.remember`), and the update as handled, so Telegram giving it again after
    a restart changes nothing: all in one transaction (`SQLitePersistence.commit`)."""
    persistence = context.application.persistence
    # Every change this update made is in memory and marked for saving by now, so whichever
    # commit writes this, it writes them too.
    persistence.note_handled(update.update_id)
    user = update.effective_user
    if user is None:
        await persistence.commit()
        return  # a channel post, a reaction count, a boost...: no person, no state
    if any(key in context.user_data for key in context.bot_data.drafts):
        context.user_data[DRAFT_STAMP] = stamp()  # so housekeeping can tell an abandoned one
    else:
        context.user_data.pop(DRAFT_STAMP, None)  # no draft left: nothing to stamp
    # PTB marks this update's user_data for saving only after every group has run, which
    # is after this handler: mark it now, or it is written with the next update (or lost).
    context.application.mark_data_for_update_persistence(user_ids=user.id)
    await context.application.update_persistence()


def register_all(app: Application) -> None:
    gate.register(app)
    # Journeys with conversations come before the general commands, so the exits in their
    # fallbacks (not onboarding's own handlers) see /menu, /start... and end the conversation.
    solidarity.register(app)
    mp.register(app)
    broadcast.register(app)
    lobby.register(app)
    onboarding.register(app)
    privacy.register(app)
    petition.register(app)
    stats.register(app)
    schedule.register(app)
    trends.register(app)
    onboarding.register_fallbacks(app)
    app.add_handler(TypeHandler(Update, persist_now), group=PERSIST_GROUP)
    app.add_error_handler(errors.on_error)
