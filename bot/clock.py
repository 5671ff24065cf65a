"""The campaign's clock: now in its time zone, and the times organisers type.

Times are read and shown in the zone of the settings (`TZ`, Europe/London by default), the zone
of the daily prompt and of scheduled broadcasts.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.storage import utcnow

CLOCK_FORMAT = "%H:%M"
# How a moment is written in examples; read back first, so an example always reads.
EXAMPLE_FORMAT = "%Y-%m-%d %H:%M"
TIME_FORMATS = (EXAMPLE_FORMAT, "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M")


def local_now(zone: ZoneInfo) -> dt.datetime:
    """Now, in `zone`."""
    return utcnow().astimezone(zone)


def parse_when(typed: str, now: dt.datetime) -> dt.datetime | None:
    """The moment meant by "2026-11-28 18:00", or by "18:00" (the next 18:00 after `now`), in
    `now`'s time zone; None if it is neither."""
    typed = " ".join(typed.split())
    for pattern in TIME_FORMATS:
        try:
            return dt.datetime.strptime(typed, pattern).replace(tzinfo=now.tzinfo)
        except ValueError:
            continue
    try:
        clock = dt.datetime.strptime(typed, CLOCK_FORMAT).time()
    except ValueError:
        return None
    moment = dt.datetime.combine(now.date(), clock, tzinfo=now.tzinfo)
    if moment <= now:
        moment = dt.datetime.combine(now.date() + dt.timedelta(days=1), clock, tzinfo=now.tzinfo)
    return moment
