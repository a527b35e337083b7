"""История показаний: the readings of a period in a sortable table, and consumption per meter in a chart.

Every reading of the period is a row — replaced ones too, marked «заменено» in words. The chart below
the table draws one line per meter over the billing periods, from the accepted readings only, for the
meters of one unit at a time (a few meters at a time): ``g``/``п`` goes from the water meters (м³) to
the electricity meter (кВт·ч) and then hides the chart, giving the table the room.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from screens.history_base import HistoryScreen
from tui.i18n import Translator
from tui.models import ReadingHistory, ReadingHistoryRow, ReadingSource, ReadingStatus
from widgets.charts import ConsumptionChart
from widgets.sortable_table import ColumnType, SortableTable, TableColumn

if TYPE_CHECKING:
    from tui.client import PortalClient


def service_label(t: Translator, code: str, portal_name: str) -> str:
    """The service's name: the portal's own in Russian, the catalogue's in another language."""
    key = f"service.{code}"
    return t(key) if t.lang != "ru" and t.has(key) else portal_name


#: The period and the meter name the row; they stay in view when the table scrolls right.
FIXED_COLUMNS = 2


def reading_columns(t: Translator) -> list[TableColumn]:
    """The table's columns in the resident's language.

    What tells a reading apart and whether it counts — period, meter, value, consumption, the day it
    was sent, its source and its status — fits 80 columns; the service's name comes last.
    """
    return [
        TableColumn("period", t("reading_history.column_period"), ColumnType.MONTH, numeric_month=True),
        TableColumn("serial", t("reading_history.column_serial")),
        # The portal sends each value with its meter's decimals, so no fixed number of places here.
        TableColumn("value", t("reading_history.column_value"), ColumnType.NUMBER),
        TableColumn("consumption", t("reading_history.column_consumption"), ColumnType.NUMBER),
        TableColumn("submitted_at", t("reading_history.column_date"), ColumnType.DATE),
        TableColumn("source", t("reading_history.column_source")),
        TableColumn("status", t("reading_history.column_status")),
        TableColumn("service", t("reading_history.column_service")),
    ]


def reading_rows(t: Translator, readings: Iterable[ReadingHistoryRow]) -> list[tuple[object, ...]]:
    """One table row per reading, in :func:`reading_columns` order."""
    sources: dict[ReadingSource, str] = {}
    rows: list[tuple[object, ...]] = []
    accepted, replaced, rollover = (
        t("reading_history.accepted"),
        t("reading_history.replaced"),
        t("reading_history.rollover"),
    )
    services: dict[tuple[str, str], str] = {}
    for reading in readings:
        source = sources.get(reading.source)
        if source is None:
            source = sources[reading.source] = t(f"reading_history.source_{reading.source.value}")
        service_key = (reading.service_code, reading.service_name)
        service = services.get(service_key)
        if service is None:
            service = services[service_key] = service_label(t, *service_key)
        status = accepted if reading.status is ReadingStatus.ACCEPTED else replaced
        if reading.rollover:
            status = f"{status}, {rollover}"
        rows.append(
            (
                reading.period,
                reading.serial_number,
                reading.value,
                reading.consumption,
                # The day it was sent, on the resident's clock (the portal answers in UTC).
                reading.submitted_at.astimezone().date(),
                source,
                status,
                service,
            )
        )
    return rows


def meter_units(readings: Iterable[ReadingHistoryRow]) -> list[str]:
    """The units of the meters with accepted readings, in the order they first appear (``м³``, ``кВт·ч``)."""
    units: dict[str, None] = {}
    for reading in readings:
        if reading.status is ReadingStatus.ACCEPTED and reading.consumption is not None:
            units.setdefault(reading.unit)
    return list(units)


def consumption_series(
    t: Translator, readings: Iterable[ReadingHistoryRow], unit: str
) -> tuple[list[dt.date], dict[str, list[Decimal | None]]]:
    """Periods and consumption per meter of one ``unit``, from accepted readings only.

    Meters of one unit share a chart, so cubic metres of water are not flattened by kilowatt-hours.
    A meter is named «service №serial».
    """
    accepted = [
        r
        for r in readings
        if r.status is ReadingStatus.ACCEPTED and r.consumption is not None and r.unit == unit
    ]
    periods = sorted({reading.period for reading in accepted})
    position = {period: index for index, period in enumerate(periods)}
    meters: dict[str, list[Decimal | None]] = {}
    for reading in sorted(accepted, key=lambda r: (r.service_code, r.serial_number, r.period)):
        name = f"{service_label(t, reading.service_code, reading.service_name)} №{reading.serial_number}"
        values = meters.setdefault(name, [None] * len(periods))
        values[position[reading.period]] = reading.consumption
    return periods, meters


CHART_METERS_MAX = 4
"""Meters drawn in one chart: more lines would not be told apart at 80×10 (``g`` shows the next ones)."""


@dataclass(frozen=True)
class ChartView:
    """What the chart shows at one press of ``g``: up to :data:`CHART_METERS_MAX` meters of one unit."""

    unit: str
    periods: list[dt.date]
    meters: dict[str, list[Decimal | None]]
    part: int
    """1-based number of this group among the unit's groups."""
    parts: int
    """How many groups the unit's meters make."""


def chart_views(t: Translator, readings: Sequence[ReadingHistoryRow]) -> list[ChartView]:
    """The chart's views: by unit, each unit's meters in groups of at most :data:`CHART_METERS_MAX`."""
    views: list[ChartView] = []
    for unit in meter_units(readings):
        periods, meters = consumption_series(t, readings, unit)
        names = list(meters)
        groups = [names[i : i + CHART_METERS_MAX] for i in range(0, len(names), CHART_METERS_MAX)]
        for part, group in enumerate(groups, start=1):
            views.append(ChartView(unit, periods, {name: meters[name] for name in group}, part, len(groups)))
    return views


class ReadingHistoryScreen(HistoryScreen):
    """«История показаний»: period form, table of readings, consumption chart."""

    HELP_TOPIC = "reading_history"
    TITLE_KEY = "reading_history.title"
    EXPORT_NAME = "istoriya-pokazaniy"

    DEFAULT_CSS = """
    ReadingHistoryScreen #reading-table { height: 1fr; min-height: 5; }
    ReadingHistoryScreen #reading-chart { height: 10; min-height: 10; }
    ReadingHistoryScreen.-chart-hidden #reading-chart { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g,п", "toggle_chart", "chart.toggle", id="toggle-chart"),
    ]

    def __init__(self, *, today: dt.date | None = None) -> None:
        super().__init__(today=today)
        self.history: ReadingHistory | None = None
        """The portal's last answer."""
        self.chart_views: list[ChartView] = []
        """What ``g`` steps through: the meters of one unit at a time, a few at a time."""
        self.chart_view = 0
        """Which of :attr:`chart_views` the chart shows; past the end: the chart is hidden."""

    def compose_body(self) -> ComposeResult:
        t = self.t
        yield SortableTable(
            reading_columns(t),
            translator=t,
            show_reverse_key=False,
            fixed_columns=FIXED_COLUMNS,
            id="reading-table",
        )
        yield Static("", id="reading-summary", classes="history-summary", markup=False)
        yield ConsumptionChart(
            title=t("reading_history.chart_title"),
            translator=t,
            console_profile=self.kabinet.config.console_profile,
            id="reading-chart",
        )

    @property
    def table(self) -> SortableTable:
        return self.query_one("#reading-table", SortableTable)

    @property
    def chart(self) -> ConsumptionChart:
        """The consumption chart."""
        return self.query_one("#reading-chart", ConsumptionChart)

    async def request(self, client: PortalClient, date_from: dt.date, date_to: dt.date) -> Any:
        return await client.reading_history(date_from, date_to)

    def show_answer(self, answer: Any) -> None:
        assert isinstance(answer, ReadingHistory)
        self.show_history(answer)

    def show_history(self, history: ReadingHistory) -> None:
        """Fill the table, the count line and the chart."""
        t = self.t
        self.history = history
        self.table.load(reading_rows(t, history.readings))
        summary = (
            t("reading_history.count", count=len(history.readings))
            if history.readings
            else t("reading_history.empty")
        )
        sort = self.table.sort_description()
        self.query_one("#reading-summary", Static).update(f"{summary}   {sort}".rstrip())
        self.chart_views = chart_views(t, history.readings)
        self.chart_view = min(self.chart_view, len(self.chart_views))
        self._draw_chart()

    def _draw_chart(self) -> None:
        title = self.t("reading_history.chart_title")
        if not self.chart_views:  # nothing to draw: the chart says so
            self.remove_class("-chart-hidden")
            self.chart.title = title
            self.chart.set_data([], {})
            return
        hidden = self.chart_view >= len(self.chart_views)
        self.set_class(hidden, "-chart-hidden")
        if hidden:
            return
        view = self.chart_views[self.chart_view]
        part = f" ({view.part}/{view.parts})" if view.parts > 1 else ""
        self.chart.title = f"{title}, {self.t.unit(view.unit)}{part}"
        self.chart.set_data(view.periods, view.meters, unit=self.t.unit(view.unit))

    def on_sortable_table_sorted(self, event: SortableTable.Sorted) -> None:
        if self.history is not None:
            summary = self.t("reading_history.count", count=len(self.history.readings))
            self.query_one("#reading-summary", Static).update(f"{summary}   {event.table.sort_description()}")

    def action_toggle_chart(self) -> None:
        """Show the next meters (м³, then кВт·ч…), then hide the chart, then start again."""
        if not self.chart_views:
            self.toggle_class("-chart-hidden")
            return
        self.chart_view = (self.chart_view + 1) % (len(self.chart_views) + 1)
        self._draw_chart()


__all__ = [
    "CHART_METERS_MAX",
    "ChartView",
    "ReadingHistoryScreen",
    "chart_views",
    "consumption_series",
    "meter_units",
    "reading_columns",
    "reading_rows",
    "service_label",
]
