"""История платежей: the payments of a period in a sortable table, the totals, and a chart by month.

The chart (``g``/``п`` hides or shows it) has two bars a month — utilities and the capital repair
contribution, told apart by their fill as well as colour; the totals line says the same in words.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from screens.base import ScreenSpec
from screens.history_base import HistoryScreen
from tui.history_tables import payment_columns, payment_rows, totals_text
from tui.models import PaymentHistory
from widgets.charts import MonthlyBarChart
from widgets.sortable_table import SortableTable

if TYPE_CHECKING:
    from tui.client import PortalClient


class PaymentHistoryScreen(HistoryScreen):
    """«История платежей»: period form, table of payments, totals, chart of payments by month."""

    SPEC = ScreenSpec(
        "payment_history",
        "payment_history.title",
        help_topic="payment_history",
        menu_key="f4",
        in_footer=False,
        order=30,
    )
    EXPORT_NAME = "istoriya-platezhey"

    DEFAULT_CSS = """
    PaymentHistoryScreen #payment-table { height: 1fr; min-height: 5; }
    PaymentHistoryScreen #payment-chart { height: 10; min-height: 10; }
    PaymentHistoryScreen.-chart-hidden #payment-chart { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g,п", "toggle_chart", "chart.toggle", id="toggle-chart"),
    ]

    def __init__(self, *, today: dt.date | None = None) -> None:
        super().__init__(today=today)
        self.history: PaymentHistory | None = None
        """The portal's last answer."""

    def compose_body(self) -> ComposeResult:
        t = self.t
        yield SortableTable(
            payment_columns(t), translator=t, show_reverse_key=False, fixed_columns=1, id="payment-table"
        )
        yield Static("", id="payment-totals", classes="history-summary", markup=False)
        yield MonthlyBarChart(
            title=t("payment_history.chart_title"),
            translator=t,
            console_profile=self.kabinet.config.console_profile,
            id="payment-chart",
        )

    @property
    def table(self) -> SortableTable:
        return self.query_one("#payment-table", SortableTable)

    @property
    def chart(self) -> MonthlyBarChart:
        """The chart of payments by month."""
        return self.query_one("#payment-chart", MonthlyBarChart)

    async def request(self, client: PortalClient, date_from: dt.date, date_to: dt.date) -> Any:
        return await client.payment_history(date_from, date_to)

    def show_answer(self, answer: Any) -> None:
        assert isinstance(answer, PaymentHistory)
        self.show_history(answer)

    def show_history(self, history: PaymentHistory) -> None:
        """Fill the table, the totals and the chart."""
        t = self.t
        self.history = history
        self.table.load(payment_rows(t, history.payments))
        totals = self.query_one("#payment-totals", Static)
        if history.payments:
            count = t("payment_history.count", count=len(history.payments))
            totals.update(f"{count} · {totals_text(t, history.totals)}")
        else:
            totals.update(t("payment_history.empty"))
        self.chart.set_data(
            [month.period for month in history.months],
            {
                t("payment_history.chart_utilities"): [month.utilities for month in history.months],
                t("payment_history.chart_capital_repair"): [month.capital_repair for month in history.months],
            },
        )

    def action_toggle_chart(self) -> None:
        """Hide the chart to give the table the room, or show it again."""
        self.toggle_class("-chart-hidden")


__all__ = ["PaymentHistoryScreen"]
