"""Charts of payments by month and of consumption by meter, drawn by plotext inside Textual.

Thin wrappers over textual-plotext's ``PlotextPlot``, always through the widget's own ``.plt``. The data
is set with ``set_data(...)``; the figure is rebuilt at each render, so the month labels thin out to fit
the width (``янв 26``, ``мар 26``, … on a narrow screen).

Series are told apart by their marker as well as by colour (``█`` / ``▒`` bars, ``▞`` / ``•`` lines), and
the legend shows the markers. The legend goes on the title line when it fits there (never over the bars);
the unit is said in the title (``График оплат, ₽``), not alone under the chart. The y ticks are placed so
that each lands exactly on a row at its true height (:func:`row_ticks`): 0 / 5 000 / 10 000 three rows
apart, never 8 000 / 4 000 / 2 000 / 0 evenly spaced.

``console_profile=True`` draws with plain ASCII markers (``#``, ``=``, ``*``, ``+``) for the Linux
console and fonts without block or braille characters. With ``NO_COLOR`` (Textual's ``App.no_color``)
the plot uses plotext's colourless ``clear`` theme.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, TypedDict, Unpack

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from tui.formatting import Money, currency_symbol, format_reading, month_name
from tui.i18n import Translator

BAR_MARKERS: Final = ("sd", "▒", "░", "▓")
"""Bar fill per series: full block, then shades (all in the VGA font of the Linux console too)."""

LINE_MARKERS: Final = ("hd", "dot", "x", "o")
"""Line marker per series: half blocks, then dots and letters."""

CONSOLE_BAR_MARKERS: Final = ("#", "=", "+", "%")
"""ASCII bar fill per series for ``console_profile=True``."""

CONSOLE_LINE_MARKERS: Final = ("*", "+", "o", "x")
"""ASCII line marker per series for ``console_profile=True``."""

_LABEL_GAP: Final = 2  # cells between two month labels on the x axis
# plotext draws the legend inside the plot's top-left corner: room above the data keeps it readable.
_LEGEND_HEADROOM: Final = 0.15  # of the value range, per legend line
_Y_AXIS_WIDTH: Final = 10  # what the y tick labels and the frame take, roughly
_NOT_DATA_ROWS: Final = 3  # the frame's top and bottom lines and the month labels (the title: one more)
_LEGEND_GLYPHS: Final = {"sd": "█", "hd": "▞", "dot": "•"}  # plotext marker names → what they draw


def short_month_label(day: dt.date, translator: Translator | None = None) -> str:
    """``янв 26`` / ``Jan 26``: a month on a chart's axis (the day is ignored)."""
    lang = translator.lang if translator is not None else "ru"
    return f"{month_name(day.month, lang)[:3]} {day.year % 100:02d}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``low``…``high`` (steps of 1, 2 or 5 × 10ⁿ)."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [round(first, 10)]
    while ticks[-1] < high:
        ticks.append(round(first + len(ticks) * step, 10))
    return ticks


def row_ticks(low: float, high: float, rows: int) -> tuple[list[float], float]:
    """Round ticks from ``low`` up to past ``high`` that each fall exactly on one of ``rows`` rows.

    Returns the ticks and the top of the axis. plotext puts a value ``v`` on row
    ``round((v - bottom) / (top - bottom) * (rows - 1))``; with the top chosen so that a tick step is a
    whole number of rows, every tick's label sits at its true height (a tick rounded onto a row of its
    own would make a false scale). Of the round steps (1, 2, 2,5, 3, 4, 5 × 10ⁿ) the one leaving the
    least empty room above ``high`` wins — with at least two steps, and not a label on every row of a
    tall chart, when the rows allow; of equals, the one with more rows between ticks.
    """
    intervals = rows - 1
    if intervals < 1 or not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low], high if high > low else low + 1
    magnitude = 10 ** math.floor(math.log10(high - low))
    best: tuple[bool, bool, float, int, float, float] | None = None
    for scale in (magnitude / 10, magnitude, magnitude * 10):
        for factor in (1, 2, 2.5, 3, 4, 5):
            step = factor * scale
            bottom = math.floor(low / step) * step
            steps = max(1, math.ceil(round((high - bottom) / step, 9)))
            if steps > intervals:
                continue
            rows_per_step = intervals // steps
            top = bottom + step * intervals / rows_per_step
            crowded = rows_per_step < 2 <= intervals // 4  # a label on every row of a tall chart
            candidate = (steps < 2 <= intervals // 2, crowded, top - bottom, -rows_per_step, step, bottom)
            if best is None or candidate[:4] < best[:4]:
                best = candidate
    if best is None:
        return [low], high
    _, _, span, fewer_rows, step, bottom = best
    rows_per_step = -fewer_rows
    ticks = [round(bottom + k * step, 10) for k in range(intervals // rows_per_step + 1)]
    return ticks, bottom + span


def _tick_label(value: float) -> str:
    """``12 500`` or ``2,5``: a tick with Russian separators and no needless decimals."""
    number = Decimal(str(value)).normalize()
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return format_reading(number)


def _thinned(labels: Sequence[str], width: int) -> list[int]:
    """Indexes of the labels to show so they do not overlap in ``width`` cells."""
    if not labels:
        return []
    label_width = max(len(label) for label in labels) + _LABEL_GAP
    room = max(width - _Y_AXIS_WIDTH, label_width)
    every = max(1, math.ceil(len(labels) * label_width / room))
    return list(range(0, len(labels), every))


class ChartOptions(TypedDict, total=False):
    """What a chart is made with (all optional): its title, translator and marker profile, and the widget's
    ``name``, ``id``, ``classes`` and ``disabled``."""

    title: str | None
    translator: Translator | None
    console_profile: bool
    name: str | None
    id: str | None
    classes: str | None
    disabled: bool


class _Chart(PlotextPlot):
    """What both charts share: the title, the marker profile, NO_COLOR and the empty state."""

    def __init__(
        self,
        *,
        title: str | None = None,
        translator: Translator | None = None,
        console_profile: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """An empty chart; ``title`` is shown above it, ``console_profile`` selects ASCII markers."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.title = title
        """The chart's title (already translated), or ``None``."""
        self.translator = translator or Translator()
        """Gives the month labels and the empty-chart message."""
        self.console_profile = console_profile
        """Draw with ASCII markers only (the Linux console, fonts lacking block characters)."""

    def on_mount(self) -> None:
        if self.app.no_color:
            self.theme = "clear"

    def _markers(self, fancy: tuple[str, ...], plain: tuple[str, ...], count: int) -> list[str]:
        source = plain if self.console_profile else fancy
        return [source[index % len(source)] for index in range(count)]

    def _start_figure(self) -> None:
        plt = self.plt
        plt.clear_figure()
        if self.title:
            plt.title(self.title)

    def _title_with_legend(self, title: str, names: Sequence[str], markers: Sequence[str]) -> bool:
        """Put the legend on the title line if it fits the width; returns whether it did.

        If it does not fit, the title alone is shown and plotext draws the legend inside the plot.
        """
        legend = "  ".join(
            f"{_LEGEND_GLYPHS.get(marker, marker) * 2} {name}"
            for marker, name in zip(markers, names, strict=True)
        )
        text = f"{title}:  {legend}" if title else legend
        fits = len(text) <= self.size.width - 2
        self.plt.title(text if fits else title)
        return fits

    def _data_rows(self) -> int:
        """The rows the plot area gets at the widget's height (the title line counted out)."""
        return self.size.height - _NOT_DATA_ROWS - 1

    def _draw(self) -> None:
        """Rebuild the figure on ``self.plt`` for the current size."""
        raise NotImplementedError

    def render(self) -> RenderResult:
        """Rebuild the figure for the current width, then let textual-plotext draw it."""
        self._draw()
        return super().render()

    def _draw_empty(self) -> None:
        plt = self.plt
        plt.title(self.translator("chart.no_data"))
        plt.xticks([], [])
        plt.yticks([], [])


class MonthlyBarChart(_Chart):
    """Bars of money by month, one bar per series in each month (e.g. «ЖКУ» and «Капремонт»).

    ``chart.set_data([date(2026, 1, 1), ...], {"ЖКУ": [Money(...), ...]})``; the y axis is in rubles.
    """

    DEFAULT_CSS = """
    MonthlyBarChart {
        height: 1fr;
        min-height: 10;
    }
    """

    def __init__(self, **options: Unpack[ChartOptions]) -> None:
        """An empty chart; ``title`` is shown above the bars, ``console_profile`` selects ASCII markers."""
        super().__init__(**options)
        self.months: tuple[dt.date, ...] = ()
        """The months on the x axis (any day of each month), oldest first."""
        self.series: dict[str, tuple[Money | None, ...]] = {}
        """Amounts per series name, one per month (``None``: nothing that month)."""

    def set_data(self, months: Sequence[dt.date], series: Mapping[str, Sequence[Money | None]]) -> None:
        """Show ``series`` (name → one amount per month of ``months``) and redraw."""
        for name, amounts in series.items():
            if len(amounts) != len(months):
                raise ValueError(f"series {name!r} has {len(amounts)} amounts for {len(months)} months")
        self.months = tuple(months)
        self.series = {name: tuple(amounts) for name, amounts in series.items()}
        self.refresh()

    def _draw(self) -> None:
        self._start_figure()
        plt = self.plt
        if not self.months or not self.series:
            self._draw_empty()
            return
        labels = [short_month_label(month, self.translator) for month in self.months]
        values = [
            [(amount.kopecks / 100 if amount is not None else 0.0) for amount in amounts]
            for amounts in self.series.values()
        ]
        markers = self._markers(BAR_MARKERS, CONSOLE_BAR_MARKERS, len(values))
        positions = list(range(1, len(labels) + 1))
        names = list(self.series)
        title = f"{self.title}, {currency_symbol()}" if self.title else currency_symbol()
        inside = not self._title_with_legend(title, names, markers)
        if len(values) == 1:
            plt.bar(positions, values[0], marker=markers[0], label=names[0] if inside else None)
        else:
            # textual-plotext's stub says ``label: str``; plotext itself takes ``labels`` and a marker list.
            multiple_bar: Any = plt.multiple_bar
            multiple_bar(positions, values, marker=markers, labels=names if inside else None)
        shown = _thinned(labels, self.size.width)
        plt.xticks([positions[i] for i in shown], [labels[i] for i in shown])
        top = max((max(row) for row in values), default=0.0)
        top = top if top > 0 else 1.0
        if inside:  # the legend is drawn in the top-left corner: room above the bars keeps it clear
            top *= 1 + _LEGEND_HEADROOM * len(values)
        ticks, axis_top = row_ticks(0.0, top, self._data_rows())
        plt.ylim(ticks[0], axis_top)
        plt.yticks(ticks, [_tick_label(tick) for tick in ticks])


class ConsumptionChart(_Chart):
    """A line per meter over billing periods (e.g. «ХВС», «ГВС», «Электроэнергия, день»).

    ``chart.set_data([date(2026, 1, 1), ...], {"ХВС": [Decimal("5.1"), None, ...]}, unit="м³")``;
    a ``None`` (no reading that month) leaves the point out.
    """

    DEFAULT_CSS = """
    ConsumptionChart {
        height: 1fr;
        min-height: 10;
    }
    """

    def __init__(self, **options: Unpack[ChartOptions]) -> None:
        """An empty chart; ``title`` is shown above the lines, ``console_profile`` selects ASCII markers."""
        super().__init__(**options)
        self.periods: tuple[dt.date, ...] = ()
        """The billing periods on the x axis (any day of each month), oldest first."""
        self.meters: dict[str, tuple[Decimal | None, ...]] = {}
        """Consumption per meter name, one value per period (``None``: no reading)."""
        self.unit: str = ""
        """The unit of the y axis (``м³``, ``кВт·ч``), or empty."""

    def set_data(
        self,
        periods: Sequence[dt.date],
        meters: Mapping[str, Sequence[Decimal | None]],
        *,
        unit: str = "",
    ) -> None:
        """Show ``meters`` (name → one value per period of ``periods``) in ``unit`` and redraw."""
        for name, values in meters.items():
            if len(values) != len(periods):
                raise ValueError(f"meter {name!r} has {len(values)} values for {len(periods)} periods")
        self.periods = tuple(periods)
        self.meters = {name: tuple(values) for name, values in meters.items()}
        self.unit = unit
        self.refresh()

    def _draw(self) -> None:
        self._start_figure()
        plt = self.plt
        points = {
            name: [(index + 1, float(value)) for index, value in enumerate(values) if value is not None]
            for name, values in self.meters.items()
        }
        points = {name: series for name, series in points.items() if series}
        if not self.periods or not points:
            self._draw_empty()
            return
        markers = self._markers(LINE_MARKERS, CONSOLE_LINE_MARKERS, len(points))
        title = self.title or ""
        if self.unit and self.unit not in title:
            title = f"{title}, {self.unit}" if title else self.unit
        inside = not self._title_with_legend(title, list(points), markers)
        low, high = math.inf, -math.inf
        for marker, (name, series) in zip(markers, points.items(), strict=True):
            xs, ys = [x for x, _ in series], [y for _, y in series]
            low, high = min(low, *ys), max(high, *ys)
            label = name if inside else None
            if len(series) == 1:
                plt.scatter(xs, ys, marker=marker, label=label)
            else:
                plt.plot(xs, ys, marker=marker, label=label)
        labels = [short_month_label(period, self.translator) for period in self.periods]
        shown = _thinned(labels, self.size.width)
        plt.xticks([i + 1 for i in shown], [labels[i] for i in shown])
        plt.xlim(0.5, len(labels) + 0.5)
        low = min(low, 0.0)
        high = high if high > low else low + 1
        if inside:  # the legend is drawn in the top-left corner: room above the lines keeps it clear
            high += (high - low) * _LEGEND_HEADROOM * len(points)
        ticks, axis_top = row_ticks(low, high, self._data_rows())
        plt.ylim(ticks[0], axis_top)
        plt.yticks(ticks, [_tick_label(tick) for tick in ticks])


__all__ = [
    "BAR_MARKERS",
    "CONSOLE_BAR_MARKERS",
    "CONSOLE_LINE_MARKERS",
    "LINE_MARKERS",
    "ChartOptions",
    "ConsumptionChart",
    "MonthlyBarChart",
    "nice_ticks",
    "row_ticks",
    "short_month_label",
]
