"""Times organisers type, read in the campaign's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.clock import parse_when

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 27, 19, 30, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-28 18:00", dt.datetime(2026, 11, 28, 18, 0, tzinfo=LONDON)),
        ("2026-11-28T18:00", dt.datetime(2026, 11, 28, 18, 0, tzinfo=LONDON)),
        ("28/11/2026 18:00", dt.datetime(2026, 11, 28, 18, 0, tzinfo=LONDON)),
        ("  2026-11-28   18:00 ", dt.datetime(2026, 11, 28, 18, 0, tzinfo=LONDON)),
        ("20:00", dt.datetime(2026, 11, 27, 20, 0, tzinfo=LONDON)),
        ("18:00", dt.datetime(2026, 11, 28, 18, 0, tzinfo=LONDON)),
        ("19:30", dt.datetime(2026, 11, 28, 19, 30, tzinfo=LONDON)),
        ("tomorrow", None),
        ("", None),
        ("2026-02-30 10:00", None),
    ],
)
def test_times_are_read_in_the_bots_time_zone(typed, expected):
    assert parse_when(typed, NOW) == expected
