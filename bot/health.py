"""Is the running bot alive? While it runs, a JobQueue job stamps a heartbeat into SQLite every
HEARTBEAT_EVERY; `stepup-bot health` (the container's health check, or a monitoring script) reads
it from another process. A heartbeat older than STALE_AFTER means the bot has stopped, or its
event loop is stuck: both need someone to look.
"""

from __future__ import annotations

import datetime as dt

from bot.storage import Storage, stamp, utcnow

HEARTBEAT = "heartbeat"  # the flag holding the time of the latest beat
HEARTBEAT_EVERY = dt.timedelta(seconds=30)
# Three beats missed: a busy moment (a long broadcast batch, a slow disk) is not an outage.
STALE_AFTER = 3 * HEARTBEAT_EVERY


def beat(storage: Storage, now: dt.datetime | None = None) -> None:
    """Record that the bot is alive at `now` (default: this moment)."""
    storage.set_flag(HEARTBEAT, stamp(now))


def stopped(storage: Storage) -> None:
    """The bot is shutting down cleanly: no heartbeat until it starts again."""
    storage.set_flag(HEARTBEAT, None)


def problem(storage: Storage, now: dt.datetime | None = None) -> str | None:
    """None while the heartbeat is fresh (at most STALE_AFTER old at `now`); otherwise one line
    saying what is wrong, for the operator."""
    last = storage.get_flag(HEARTBEAT)
    if last is None:
        return "Not running: the bot has not started, or it was stopped."
    age = (now or utcnow()) - dt.datetime.fromisoformat(last)
    if age > STALE_AFTER:
        return (
            f"Not responding: the last heartbeat was {int(age.total_seconds())} s ago "
            f"(at {last}); the bot has stopped or is stuck. Check its log."
        )
    return None
