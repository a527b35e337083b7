"""История показаний: the readings of a period in a sortable table, and consumption per meter in a chart.

Every reading of the period is a row — replaced ones too, marked «заменено» in words. The chart below
the table draws one line per meter over the billing periods, from the accepted readings only, for the
meters of one unit at a time (a few meters at a time): ``g``/``п`` goes from the water meters (м³) to
the electricity meter (кВт·ч) and then hides the chart, giving the table the room.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from screens.base import ScreenSpec
from screens.history_base import HistoryScreen
from tui.history_tables import ChartView, chart_views, reading_columns, reading_rows
from tui.models import ReadingHistory
from widgets.charts import ConsumptionChart
from widgets.sortable_table import SortableTable

if TYPE_CHECKING:
    from tui.client import PortalClient


#: The period and the meter name the row; they stay in view when the table scrolls right.
FIXED_COLUMNS = 2


class ReadingHistoryScreen(HistoryScreen):
    """«История показаний»: period form, table of readings, consumption chart."""

    SPEC = ScreenSpec(
        "reading_history",
        "reading_history.title",
        help_topic="reading_history",
        menu_key="f3",
        in_footer=False,
        order=20,
    )
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


__all__ = ["ReadingHistoryScreen"]
