"""What the three history screens share: the period form, the loading line, the table, saving it as CSV.

A history screen (reading history, payment history, the statement) asks the portal for one period in a
worker while :class:`~widgets.status.LoadingStatus` turns, then shows the answer in a
:class:`~widgets.sortable_table.SortableTable` (and a chart or details). Keys: Enter or F2 shows the
period, F5 asks again, Ctrl+S saves the table as CSV in the downloads folder (refused in kiosk mode),
Esc goes back.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer

from screens.base import CallAbandoned, PortalScreen
from tui.errors import PortalError, ValidationFailed
from tui.formatting import billing_today
from widgets.header import Header
from widgets.period_form import PeriodForm
from widgets.status import LoadingStatus

if TYPE_CHECKING:
    from tui.client import PortalClient
    from widgets.sortable_table import SortableTable


class HistoryScreen(PortalScreen):
    """Base of the history screens: a subclass composes its body and says what to ask and how to show it."""

    #: File names of saved tables start with this, in Latin letters as the receipts' ``kvitanciya-…``
    #: (``istoriya-pokazaniy-3500012007-2026-01-01-2026-11-20.csv``).
    EXPORT_NAME: ClassVar[str] = "istoriya"

    DEFAULT_CSS = """
    HistoryScreen PeriodForm { padding: 0 1; }
    HistoryScreen .history-summary { height: auto; padding: 0 1; }
    HistoryScreen .history-empty { height: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "show", "footer.show", id="show"),
        Binding("ctrl+s", "save", "footer.save", id="save"),
        Binding("f5,ctrl+r", "refresh", "footer.refresh", id="refresh", show=False),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    def __init__(self, *, today: dt.date | None = None) -> None:
        super().__init__()
        self.today = today or billing_today()
        """Today, for the default period (tests pass a fixed one)."""
        self.period: tuple[dt.date, dt.date] | None = None
        """The period shown now (or being loaded), or ``None`` before the first request."""
        self.loaded = False
        """Whether the table holds an answer of the portal."""

    # --- layout --------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield PeriodForm(translator=self.t, today=self.today, id="period")
        yield LoadingStatus(translator=self.t, id="history-status")
        yield from self.compose_body()
        # Ctrl+P stays in the help: at 80 columns the footer's room goes to the screen's own keys.
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets under the form (a table, a chart, totals)."""
        raise NotImplementedError
        yield  # pragma: no cover

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        self.query_one(PeriodForm).focus()
        self.action_show()

    @property
    def table(self) -> SortableTable:
        """The table that Ctrl+S saves."""
        raise NotImplementedError

    @property
    def status(self) -> LoadingStatus:
        return self.query_one("#history-status", LoadingStatus)

    # --- keys ----------------------------------------------------------------------------------------

    def action_show(self) -> None:
        """Check the period and ask the portal for it."""
        self.query_one(PeriodForm).submit()

    def action_refresh(self) -> None:
        """Ask again for the period shown (after an error, say)."""
        if self.period is None:
            self.action_show()
        else:
            self.fetch(*self.period)

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(PeriodForm.Submitted)
    def _period_submitted(self, event: PeriodForm.Submitted) -> None:
        event.stop()
        self.fetch(event.date_from, event.date_to)

    @on(LoadingStatus.RetryRequested)
    def _retry(self) -> None:
        self.action_refresh()

    # --- the portal ----------------------------------------------------------------------------------

    async def request(self, client: PortalClient, date_from: dt.date, date_to: dt.date) -> Any:
        """The portal call for the period (in the worker)."""
        raise NotImplementedError

    def show_answer(self, answer: Any) -> None:
        """Fill the table (and the rest) from the portal's answer."""
        raise NotImplementedError

    #: The portal's last answer shown (None before the first).
    _answer: Any = None

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): the answer shown again, in the new language."""
        if self._answer is not None:
            self.show_answer(self._answer)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def fetch(self, date_from: dt.date, date_to: dt.date) -> None:
        """Load the period in the background, with the spinner turning meanwhile."""
        self.period = (date_from, date_to)
        status = self.status
        status.show_loading()
        try:
            answer = await self.portal(lambda client: self.request(client, date_from, date_to))
        except CallAbandoned:
            status.clear()
            return
        except ValidationFailed as exc:
            # The portal's rules for the period (dates out of its range and the like): said under the form.
            status.clear()
            self.query_one(PeriodForm).show_error(self.error_text(exc))
            return
        except PortalError as exc:
            status.show_error(self.error_text(exc))
            return
        status.clear()
        self.show_answer(answer)
        self._answer = answer
        self.loaded = True
        focused = self.focused
        if focused is None or self.query_one(PeriodForm) in focused.ancestors_with_self:
            # The answer is what the resident asked for: arrows and sorting work on it straight away.
            self.table.focus()

    # --- saving --------------------------------------------------------------------------------------

    def export_file_name(self) -> str:
        """``istoriya-pokazaniy-3500012007-2026-01-01-2026-11-20.csv``: named like the receipts'
        ``kvitanciya-3500012007-2026-11.pdf`` (what, whose, when)."""
        parts = [self.EXPORT_NAME]
        if self.kabinet.account_number:
            parts.append(self.kabinet.account_number)
        if self.period is not None:
            date_from, date_to = self.period
            parts += [date_from.isoformat(), date_to.isoformat()]
        return "-".join(parts) + ".csv"

    def action_save(self) -> None:
        """Save the table as CSV for Excel in the downloads folder; not on a shared (kiosk) terminal."""
        t, config = self.t, self.kabinet.config
        if config.kiosk:
            self.notify(t("export.kiosk_refused"), severity="warning")
            return
        if not self.loaded:
            self.notify(t("export.nothing"), severity="warning")
            return
        folder = config.resolved_downloads_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = self.table.export_csv(folder / self.export_file_name())
        except OSError as exc:
            self.notify(t("export.failed", reason=exc.strerror or str(exc)), severity="error")
            return
        self.notify(t("export.saved", path=str(path)))


__all__ = ["HistoryScreen"]
