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


def status(storage: Storage, now: dt.datetime | None = None) -> tuple[bool, str]:
    """(healthy, one line for the operator): healthy while the heartbeat is at most
    STALE_AFTER old at `now` (default: this moment)."""
    last = storage.get_flag(HEARTBEAT)
    if last is None:
        return False, "Not running: the bot has not started, or it was stopped."
    seconds = int(((now or utcnow()) - dt.datetime.fromisoformat(last)).total_seconds())
    if seconds > STALE_AFTER.total_seconds():
        return False, (
            f"Not responding: the last heartbeat was {seconds} s ago (at {last}); the bot has "
            "stopped or is stuck. Check its log."
        )
    return True, f"Running: the last heartbeat was {seconds} s ago."
