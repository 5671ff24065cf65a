"""Charts come back as PNG images a Telegram photo can carry, whatever the data."""

from __future__ import annotations

import datetime as dt
import struct

from bot.charts import volume_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DAY = dt.date(2026, 11, 25)


def png_size(image: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    return struct.unpack(">II", image[16:24])


def test_chart_is_a_png_sized_for_a_phone_screen():
    series = {
        "#16Days on X": {DAY + dt.timedelta(days=n): n * 10 for n in range(16)},
        "#16Days on Bluesky": {DAY + dt.timedelta(days=n): n for n in range(5)},
    }

    image = volume_chart(series, "Posts per day", empty_note="No data yet")

    assert image.startswith(PNG_SIGNATURE)
    assert png_size(image) == (800, 450)


def test_a_single_day_of_data_still_makes_a_chart():
    image = volume_chart({"#16Days on X": {DAY: 3}}, "Posts per day", empty_note="No data yet")

    assert image.startswith(PNG_SIGNATURE)


def test_no_data_yet_draws_the_note_instead_of_an_empty_frame():
    with_note = volume_chart({}, "Posts per day", empty_note="No data yet")
    without_note = volume_chart({}, "Posts per day", empty_note="")

    assert with_note.startswith(PNG_SIGNATURE)
    assert with_note != without_note  # the note is really drawn


def test_labels_without_points_count_as_no_data():
    empty = volume_chart({"#16Days on X": {}}, "Posts per day", empty_note="No data yet")

    assert empty == volume_chart({}, "Posts per day", empty_note="No data yet")
