"""Начисления и платежи: the statement by month for one payee, and the service lines of the chosen month.

Each month's row reads «входящее сальдо + начислено ± перерасчёт + пени − оплачено = исходящее сальдо»
(the rule is written under the table; the headers that would not fit 80 columns are shortened).
``p``/``з`` switches the payee between the billing center (utilities) and the capital repair fund and
asks again for the same period. The service lines of the month under the cursor show in the small
table below.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from screens.base import ScreenSpec
from screens.history_base import HistoryScreen
from tui.formatting import format_month
from tui.history_tables import line_columns, line_rows, month_columns, month_rows
from tui.models import PaymentPurpose, Statement
from widgets.sortable_table import SortableTable

if TYPE_CHECKING:
    from tui.client import PortalClient


class StatementScreen(HistoryScreen):
    """«Начисления и платежи»: period form, payee switch, months table, service lines of a month."""

    SPEC = ScreenSpec(
        "statement", "statement.title", help_topic="statement", menu_key="f6", in_footer=False, order=40
    )
    EXPORT_NAME = "nachisleniya"

    DEFAULT_CSS = """
    StatementScreen #statement-purpose { height: 1; padding: 0 1; text-style: bold; }
    StatementScreen #statement-table { height: 1fr; min-height: 5; }
    StatementScreen #statement-rule { height: auto; padding: 0 1; color: $text-muted; }
    StatementScreen #statement-details-title { height: 1; padding: 0 1; text-style: bold; }
    StatementScreen #statement-lines { height: 8; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p,з", "switch_purpose", "statement.purpose", id="switch-purpose"),
    ]

    def __init__(
        self, *, purpose: PaymentPurpose = PaymentPurpose.UTILITIES, today: dt.date | None = None
    ) -> None:
        super().__init__(today=today)
        self.purpose = purpose
        """The payee shown: the billing center (utilities) or the capital repair fund."""
        self.statement: Statement | None = None
        """The portal's last answer."""

    def compose_body(self) -> ComposeResult:
        t = self.t
        yield Static(self._purpose_text(), id="statement-purpose", markup=False)
        yield SortableTable(
            month_columns(t), translator=t, show_reverse_key=False, fixed_columns=1, id="statement-table"
        )
        yield Static(t("statement.balance_rule"), id="statement-rule", markup=False)
        yield Static("", id="statement-details-title", markup=False)
        yield SortableTable(
            line_columns(t), translator=t, show_reverse_key=False, fixed_columns=1, id="statement-lines"
        )

    def _purpose_text(self) -> str:
        t = self.t
        return f"{t('statement.purpose')}: {t(f'statement.purpose_{self.purpose.value}')}"

    @property
    def table(self) -> SortableTable:
        return self.query_one("#statement-table", SortableTable)

    @property
    def lines_table(self) -> SortableTable:
        """The service lines of the month under the cursor."""
        return self.query_one("#statement-lines", SortableTable)

    async def request(self, client: PortalClient, date_from: dt.date, date_to: dt.date) -> Any:
        return await client.statement(date_from, date_to, self.purpose)

    def show_answer(self, answer: Any) -> None:
        assert isinstance(answer, Statement)
        self.show_statement(answer)

    def show_statement(self, statement: Statement) -> None:
        """Fill the months table; the details follow the cursor."""
        self.statement = statement
        months = statement.months
        self.table.load(month_rows(months), row_keys=[month.period.isoformat() for month in months])
        if not months:
            self.query_one("#statement-details-title", Static).update(self.t("statement.empty"))
            self.lines_table.clear()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#statement-purpose", Static).update(self._purpose_text())
        if self._shown_month is not None:
            self.show_month(self._shown_month)

    _shown_month: str | None = None

    def show_month(self, period_key: str) -> None:
        """Show the service lines of the month ``period_key`` (ISO date of its first day)."""
        self._shown_month = period_key
        if self.statement is None:
            return
        month = next((m for m in self.statement.months if m.period.isoformat() == period_key), None)
        if month is None:
            return
        t = self.t
        self.query_one("#statement-details-title", Static).update(
            t("statement.details", month=format_month(month.period, t.lang))
        )
        self.lines_table.load(line_rows(t, month.lines))

    @on(SortableTable.RowHighlighted, "#statement-table")
    def _month_highlighted(self, event: SortableTable.RowHighlighted) -> None:
        self.show_month(event.row_key)

    def action_switch_purpose(self) -> None:
        """Switch between the billing center and the capital repair fund, and ask again."""
        self.purpose = (
            PaymentPurpose.CAPITAL_REPAIR
            if self.purpose is PaymentPurpose.UTILITIES
            else PaymentPurpose.UTILITIES
        )
        self.query_one("#statement-purpose", Static).update(self._purpose_text())
        self.action_refresh()

    def export_file_name(self) -> str:
        name = super().export_file_name()
        what = "kapremont" if self.purpose is PaymentPurpose.CAPITAL_REPAIR else "zhku"
        return name.replace(self.EXPORT_NAME, f"{self.EXPORT_NAME}-{what}", 1)


__all__ = ["StatementScreen"]
