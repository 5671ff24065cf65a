"""Charts as PNG bytes, ready to send as a Telegram photo.

Built on `matplotlib.figure.Figure` directly: no pyplot, so no global figure state and no GUI
backend, safe to call from any job. Every text drawn (title, labels, the empty note) comes from
the caller, already in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SIZE_INCHES = (8, 4.5)
DPI = 100
ONE_DAY = dt.timedelta(days=1)
MAX_DATE_TICKS = 10


def volume_chart(
    series: Mapping[str, Mapping[dt.date, int]], title: str, *, empty_note: str
) -> bytes:
    """One line per label across dates (label -> date -> value); `empty_note` when no label has
    any point, so an empty chart still says why it is empty."""
    # matplotlib costs a second of CPU to import: only a bot asked for a chart pays for it.
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    lines = {label: points for label, points in series.items() if points}
    if lines:
        _draw_lines(axes, lines)
    else:
        axes.text(
            0.5, 0.5, empty_note, transform=axes.transAxes, ha="center", va="center", fontsize=16
        )
        axes.set_axis_off()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_lines(axes: Axes, lines: Mapping[str, Mapping[dt.date, int]]) -> None:
    from matplotlib.dates import ConciseDateFormatter, DayLocator
    from matplotlib.ticker import MaxNLocator

    for label, points in sorted(lines.items()):
        dates = sorted(points)
        # Markers, so a single day still shows as a point.
        axes.plot(dates, [points[date] for date in dates], marker="o", label=label)
    every_date = [date for points in lines.values() for date in points]
    first, last = min(every_date) - ONE_DAY, max(every_date) + ONE_DAY
    # A day either side, or matplotlib widens a single day to several years; whole days only.
    axes.set_xlim(first, last)
    locator = DayLocator(interval=math.ceil(((last - first).days + 1) / MAX_DATE_TICKS))
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
