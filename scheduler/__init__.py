"""JobQueue jobs, rebuilt from SQLite at every start by `schedule_all` (never trusted to survive
a restart in memory). Jobs call `bot/`; they have no sending logic of their own."""

from __future__ import annotations

from telegram.ext import Application

from scheduler import (
    broadcasts,
    daily,
    followups,
    heartbeat,
    housekeeping,
    lobby,
    outages,
    tracking,
    wal,
)


def schedule_all(app: Application) -> None:
    heartbeat.schedule(app)
    housekeeping.schedule(app)
    daily.schedule(app)
    followups.schedule(app)
    broadcasts.schedule(app)
    lobby.schedule(app)
    tracking.schedule(app)
    outages.schedule(app)
    wal.schedule(app)
