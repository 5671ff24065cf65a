"""Charts organisers can read: labelled axes, days in their language, every series visible, the
legend clear of the lines, and a PNG a Telegram photo can carry, whatever the data."""

from __future__ import annotations

import datetime as dt
import itertools
import struct

import pytest

from bot.charts import ChartWords, volume_chart, volume_figure
from messages.core import chart_words

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = dt.date(2026, 11, 25)
CAMPAIGN = (START, dt.date(2026, 12, 10))
WORDS = ChartWords(
    title="Posts per day",
    x_label="Day (UTC)",
    y_label="Posts",
    empty_note="No data yet",
    day=lambda day: f"{day.day}/{day.month}",
)


def on(*counts: int) -> dict[dt.date, int]:
    """Counts for consecutive days from the campaign's start."""
    return {START + dt.timedelta(days=n): count for n, count in enumerate(counts)}


def png_size(image: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    return struct.unpack(">II", image[16:24])


def day_labels(figure) -> list[str]:
    figure.draw_without_rendering()
    return [label.get_text() for label in figure.axes[0].get_xticklabels()]


def test_chart_is_a_png_sized_for_a_phone_screen():
    series = {"#16Days on X": on(*range(16)), "#16Days on Bluesky": on(1, 2, 3)}
    image = volume_chart(series, CAMPAIGN, WORDS)
    assert image.startswith(PNG_SIGNATURE)
    assert png_size(image) == (800, 450)


def test_axes_are_labelled_with_the_callers_words():
    axes = volume_figure({"#16Days on X": on(3, 4)}, CAMPAIGN, WORDS).axes[0]
    assert axes.get_title() == "Posts per day"
    assert axes.get_xlabel() == "Day (UTC)"
    assert axes.get_ylabel() == "Posts"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["25 Nov", "27 Nov", "29 Nov", "1 Dec", "3 Dec", "5 Dec", "7 Dec", "9 Dec"]),
        ("pt", ["25 nov.", "27 nov.", "29 nov.", "1 dez.", "3 dez.", "5 dez.", "7 dez.", "9 dez."]),
        ("es", ["25 nov", "27 nov", "29 nov", "1 dic", "3 dic", "5 dic", "7 dic", "9 dic"]),
    ],
)
def test_november_and_december_days_are_named_in_the_readers_language(language, expected):
    figure = volume_figure({"x": on(*range(16))}, CAMPAIGN, chart_words(language, "stats"))
    assert day_labels(figure) == expected
    assert figure.axes[0].xaxis.get_offset_text().get_text() == ""  # no "2026-Dec" beside them


@pytest.mark.parametrize(
    ("language", "x_label", "y_label", "title"),
    [
        ("en", "Day (UTC)", "Actions", "Actions per day (UTC)"),
        ("pt", "Dia (UTC)", "Ações", "Ações por dia (UTC)"),
        ("es", "Día (UTC)", "Acciones", "Acciones por día (UTC)"),
    ],
)
def test_stats_chart_words_are_in_the_readers_language(language, x_label, y_label, title):
    axes = volume_figure({"x": on(1)}, CAMPAIGN, chart_words(language, "stats")).axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_title()) == (x_label, y_label, title)


def test_every_day_of_the_period_is_on_the_axis_and_a_day_without_posts_is_zero():
    five_days = (START, START + dt.timedelta(days=4))
    figure = volume_figure({"x": {START + dt.timedelta(days=2): 5}}, five_days, WORDS)
    (line,) = figure.axes[0].get_lines()
    assert list(line.get_ydata()) == [0, 0, 5, 0, 0]
    assert day_labels(figure)[0] == "25/11"


def test_equal_series_are_all_visible():
    same = on(3, 5, 2, 0, 4)
    figure = volume_figure({name: same for name in "abcdef"}, CAMPAIGN, WORDS)
    lines = sorted(figure.axes[0].get_lines(), key=lambda line: line.get_zorder())
    assert len(lines) == len({line.get_zorder() for line in lines}) == 6
    assert len({line.get_marker() for line in lines}) == 6
    # Each is drawn on top of the one before, and thinner and smaller, so that one shows round it.
    for below, above in itertools.pairwise(lines):
        assert above.get_markersize() < below.get_markersize()
        assert above.get_linewidth() < below.get_linewidth()


def test_the_legend_is_clear_of_the_lines():
    busy = on(9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)  # points in every corner
    series = {"#16Days on X": busy, "#16Days on Bluesky": on(0, 1), "#StepUp on X": on(1)}
    figure = volume_figure(series, CAMPAIGN, WORDS)
    figure.draw_without_rendering()
    (legend,) = figure.legends
    legend_box = legend.get_window_extent()
    plot_box = figure.axes[0].get_window_extent()
    assert not legend_box.overlaps(plot_box)
    assert [text.get_text() for text in legend.get_texts()] == sorted(series)


def test_a_single_day_of_data_still_makes_a_chart():
    image = volume_chart({"#16Days on X": on(3)}, (START, START), WORDS)
    assert image.startswith(PNG_SIGNATURE)


def test_no_data_yet_draws_the_note_instead_of_an_empty_frame():
    figure = volume_figure({}, CAMPAIGN, WORDS)
    assert [text.get_text() for text in figure.axes[0].texts] == ["No data yet"]
    assert not figure.axes[0].get_lines()


def test_series_without_posts_count_as_no_data():
    figure = volume_figure({"#16Days on X": {}, "#StepUp on X": on(0, 0)}, CAMPAIGN, WORDS)
    assert [text.get_text() for text in figure.axes[0].texts] == ["No data yet"]
