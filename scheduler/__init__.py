"""JobQueue jobs, rebuilt from SQLite at every start by `schedule_all` (never trusted to survive
a restart in memory). Jobs call `bot/`; they have no sending logic of their own."""

from __future__ import annotations

from telegram.ext import Application

from bot import delivery
from scheduler import (
    broadcasts,
    daily,
    followups,
    heartbeat,
    housekeeping,
    outages,
    tracking,
)


def schedule_all(app: Application) -> None:
    """Every job, at start. Runs in post_init, before any update is handled: nothing of this
    process is in flight yet, so a delivery still 'sending' was a dead process's, and goes
    back in the queue to be resumed, each kind by its own job."""
    storage = app.bot_data.storage
    unfinished = delivery.requeue_unfinished(storage)
    organisers = [
        id_ for id_ in unfinished if storage.get_broadcast(id_)["kind"] == broadcasts.KIND
    ]
    heartbeat.schedule(app)
    housekeeping.schedule(app)
    daily.schedule(app, [id_ for id_ in unfinished if id_ not in organisers])
    followups.schedule(app)
    broadcasts.schedule(app, organisers)
    tracking.schedule(app)
    outages.schedule(app)
