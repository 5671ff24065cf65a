"""Charts as PNG bytes, ready to send as a Telegram photo.

Built on `matplotlib.figure.Figure` directly: no pyplot, so no global figure state and no GUI
backend, safe to call from any job or worker thread. matplotlib costs a second of CPU to import:
only a bot asked for a chart pays for it. Every word drawn (title, axis labels, the series'
names, the days under the axis, the empty note) comes from the caller, already in the reader's
language.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import cycle
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SIZE_INCHES = (8, 4.5)
DPI = 100
ONE_DAY = dt.timedelta(days=1)
MAX_DATE_TICKS = 8
LEGEND_COLUMNS = 3
# Series are told apart by shape and line as well as colour, and each is drawn smaller than the
# one before it, on top of it: where two series are equal, the first shows round the second.
MARKERS = ("o", "s", "^", "D", "v", "P")
LINE_STYLES = ("-", "--", "-.", ":")
LARGEST_MARKER, MARKER_STEP, SMALLEST_MARKER = 14.0, 2.5, 3.0
WIDEST_LINE, LINE_STEP, NARROWEST_LINE = 4.5, 0.8, 0.5


@dataclass(frozen=True)
class ChartWords:
    """Everything a chart says, in the reader's language."""

    title: str
    x_label: str  # under the days
    y_label: str  # beside the counts
    empty_note: str  # drawn instead of lines when there is nothing to show
    day: Callable[[dt.date], str]  # a day as written under the axis, e.g. '25 nov.'


def volume_chart(
    series: Mapping[str, Mapping[dt.date, int]], days: tuple[dt.date, dt.date], words: ChartWords
) -> bytes:
    """A PNG of `volume_figure`."""
    buffer = io.BytesIO()
    volume_figure(series, days, words).savefig(buffer, format="png")
    return buffer.getvalue()


def volume_figure(
    series: Mapping[str, Mapping[dt.date, int]], days: tuple[dt.date, dt.date], words: ChartWords
) -> Figure:
    """One line per series (name -> day -> count) over every day from `days[0]` to `days[1]`
    (a day a series has no count for is 0), with the legend under the axes, clear of the lines.
    A series that is 0 on every day is left out; with none left, `words.empty_note` is drawn
    instead, so an empty chart still says why it is empty."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(words.title)
    first, last = days
    every_day = [first + ONE_DAY * n for n in range((last - first).days + 1)]
    lines = {
        name: [counts.get(day, 0) for day in every_day]
        for name, counts in sorted(series.items())
        if any(counts.get(day) for day in every_day)
    }
    if not lines:
        axes.text(
            0.5,
            0.5,
            words.empty_note,
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=16,
        )
        axes.set_axis_off()
        return figure
    _draw_lines(axes, every_day, lines)
    _label_axes(axes, every_day, words)
    figure.legend(
        loc="outside lower center", ncols=min(len(lines), LEGEND_COLUMNS), fontsize="small"
    )
    return figure


def _draw_lines(axes: Axes, every_day: list[dt.date], lines: Mapping[str, list[int]]) -> None:
    x = range(len(every_day))
    styles = zip(cycle(MARKERS), cycle(LINE_STYLES), strict=False)
    for rank, (name, counts) in enumerate(lines.items()):
        marker, line_style = next(styles)
        axes.plot(
            x,
            counts,
            label=name,
            marker=marker,
            markersize=max(LARGEST_MARKER - MARKER_STEP * rank, SMALLEST_MARKER),
            linestyle=line_style,
            linewidth=max(WIDEST_LINE - LINE_STEP * rank, NARROWEST_LINE),
            zorder=2 + rank,
            clip_on=False,  # a marker on 0 is drawn whole, over the frame
        )


def _label_axes(axes: Axes, every_day: list[dt.date], words: ChartWords) -> None:
    """Whole days along the bottom, at most MAX_DATE_TICKS of them named; whole counts up the
    side, from 0."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

    step = math.ceil(len(every_day) / MAX_DATE_TICKS)
    axes.xaxis.set_major_locator(FixedLocator(range(0, len(every_day), step)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: words.day(every_day[int(x)])))
    # Half a day either side, so the first and last points are not on the frame.
    axes.set_xlim(-0.5, len(every_day) - 0.5)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
    axes.set_xlabel(words.x_label)
    axes.set_ylabel(words.y_label)
    axes.grid(alpha=0.3)
