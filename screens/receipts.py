"""Печать квитанций: the months with a receipt; make one and save it, print it (kiosk) or e-mail it.

As the FAQ says: choose the month, «Сформировать квитанцию» (Enter or F2), wait while it is made, and
the receipt is there — here a PDF saved to the downloads folder (the name is said), or, on a kiosk,
sent to the office printer with nothing left on disk. «Отправить на e-mail» (``e``/``у``) has the
portal mail the PDF to the registered address. Over SSH a saved file would land on the server, not on
the resident's computer, so there e-mail is what Enter does and the screen says why. In a browser
(``kabinet serve-web``) Enter downloads the PDF through the browser (Textual's ``deliver_binary``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from screens.base import CallAbandoned, PortalScreen, ScreenSpec
from tui.environment import running_over_ssh
from tui.errors import PortalError, TooManyAttempts
from tui.formatting import format_month
from tui.models import ReceiptMonth
from tui.printing import Printer, PrintFailed, print_pdf
from tui.receipt_files import receipt_filename, save_receipt
from widgets.header import Header
from widgets.status import LoadingStatus


class ReceiptsScreen(PortalScreen):
    """«Печать квитанций»: a table of months, and what to do with the chosen month's receipt."""

    SPEC = ScreenSpec(
        "receipts", "receipts.title", help_topic="receipts", menu_key="f9", more_keys=("k",), order=70
    )
    DEFAULT_CSS = """
    ReceiptsScreen #receipts-hint { padding: 0 1; height: auto; color: $text-muted; }
    ReceiptsScreen #receipts-hint.-ssh { color: $warning; text-style: bold; }
    ReceiptsScreen #receipts-table { height: 1fr; margin: 0 1; }
    ReceiptsScreen #receipts-result { padding: 0 1; height: auto; text-style: bold; }
    ReceiptsScreen #receipts-result.-error { color: $text-error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "generate", "footer.generate", id="generate"),
        Binding("e,у", "email", "footer.email", id="email"),
        Binding("f5,ctrl+r", "refresh", "footer.refresh", id="refresh"),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    def __init__(self, *, over_ssh: bool | None = None) -> None:
        super().__init__()
        self.over_ssh = running_over_ssh() if over_ssh is None else over_ssh
        """Over SSH a saved file stays on the server: e-mail is the main action."""
        self.months: tuple[ReceiptMonth, ...] = ()
        """The months with a receipt, as the table shows them."""
        self.busy = False
        """A receipt is being made or sent: another press waits for it."""
        self.last_saved: Path | None = None
        """Where the last receipt was saved (None: not saved in this visit)."""

    @property
    def kiosk(self) -> bool:
        return self.kabinet.config.kiosk

    @property
    def in_browser(self) -> bool:
        """The app runs in a browser tab (``kabinet serve-web``): files go to the browser as downloads."""
        return self.app.is_web

    def downloads_folder(self) -> Path:
        return self.kabinet.config.resolved_downloads_dir()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            self.hint_text(), id="receipts-hint", classes="-ssh" if self.over_ssh else "", markup=False
        )
        table: DataTable[object] = DataTable(id="receipts-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield LoadingStatus(translator=self.t, id="receipts-status")
        yield Static("", id="receipts-result", markup=False)  # paths and lp's words are not markup
        yield Footer(compact=True)

    def hint_text(self) -> str:
        t = self.t
        if self.kiosk:
            return t("receipts.hint_kiosk")
        if self.in_browser:
            return t("receipts.hint_web")
        if self.kabinet.shared_terminal:
            return t("receipts.hint_shared_ssh")
        if self.over_ssh:
            return t("receipts.hint_ssh")
        return t("receipts.hint", folder=str(self.downloads_folder()))

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        table = self.query_one("#receipts-table", DataTable)
        self._add_columns(table)
        table.focus()
        self.load_months()

    def _add_columns(self, table: DataTable[object]) -> None:
        t = self.t
        table.add_column(t("receipts.month"), key="month")
        table.add_column(t("receipts.column_total"), key="total")
        table.add_column(t("receipts.column_capital_repair"), key="capital_repair")

    # --- the list ----------------------------------------------------------------------------------

    @work(exclusive=True, group="receipts-list", exit_on_error=False)
    async def load_months(self) -> None:
        status = self.query_one("#receipts-status", LoadingStatus)
        status.show_loading()
        try:
            months = await self.portal(lambda client: client.receipts())
        except CallAbandoned:
            status.clear()
            return
        except PortalError as exc:
            status.show_error(self.error_text(exc))
            return
        status.clear()
        self.show_months(months)

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): the months in the new language, cursor kept."""
        table = self.query_one("#receipts-table", DataTable)
        row = table.cursor_row
        table.clear(columns=True)  # the headers, and the widths of the other language's words
        self._add_columns(table)
        if self.months:
            self.show_months(self.months)
            table.move_cursor(row=row)

    def show_months(self, months: tuple[ReceiptMonth, ...]) -> None:
        self.months = tuple(sorted(months, key=lambda month: month.period, reverse=True))
        table = self.query_one("#receipts-table", DataTable)
        table.clear()
        lang = self.t.lang
        for month in self.months:
            table.add_row(
                format_month(month.period, lang),
                month.total,
                month.capital_repair,
                key=month.period.isoformat(),
            )
        if not self.months:
            self.say(self.t("receipts.empty"))

    def chosen_period(self) -> dt.date | None:
        table = self.query_one("#receipts-table", DataTable)
        if not self.months or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), len(self.months) - 1)
        return self.months[row].period

    # --- the actions ---------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load_months()

    @on(DataTable.RowSelected, "#receipts-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.over_ssh and not self.kiosk and not self.in_browser:
            self.action_email()
        else:
            self.action_generate()

    def action_generate(self) -> None:
        period = self.chosen_period()
        if period is None:
            self.say(self.t("receipts.empty"), error=True)
        elif self.kabinet.shared_terminal and not self.kiosk and not self.in_browser:
            # The billing center's shared SSH account: strangers' receipts must not pile up on its disk.
            self.say(self.t("receipts.save_refused_shared_ssh"), error=True)
        elif not self.busy:
            self.busy = True
            self.make_receipt(period)

    def action_email(self) -> None:
        period = self.chosen_period()
        if period is None:
            self.say(self.t("receipts.empty"), error=True)
        elif not self.busy:
            self.busy = True
            self.send_receipt(period)

    def say(self, text: str, *, error: bool = False) -> None:
        result = self.query_one("#receipts-result", Static)
        result.update(text)
        result.set_class(error, "-error")

    @work(exclusive=True, group="receipt", exit_on_error=False)
    async def make_receipt(self, period: dt.date) -> None:
        """Fetch the PDF, then save it (disk work in a thread) or, on a kiosk, print it."""
        status = self.query_one("#receipts-status", LoadingStatus)
        month = format_month(period, self.t.lang)
        self.say("")
        status.show_loading(self.t("receipts.in_progress"))
        try:
            pdf = await self.portal(lambda client: client.receipt_pdf(period))
            if self.kiosk:
                config = self.kabinet.config
                await print_pdf(Printer(config.printer, config.print_command), pdf)
                self.say(self.t("receipts.printed_month", printer=config.printer or "", month=month))
            elif self.in_browser:
                name = receipt_filename(self.kabinet.account_number or "receipt", period)
                self.app.deliver_binary(io.BytesIO(pdf), save_filename=name, mime_type="application/pdf")
                self.say(self.t("receipts.downloaded", name=name, month=month))
            else:
                number = self.kabinet.account_number or "receipt"
                path = await asyncio.to_thread(save_receipt, self.downloads_folder(), number, period, pdf)
                self.last_saved = path
                saved = self.t("receipts.saved", path=str(path))
                if self.over_ssh:
                    saved += "\n" + self.t("receipts.saved_on_server")
                self.say(saved)
        except CallAbandoned:
            pass
        except PortalError as exc:
            self.say(self.error_text(exc), error=True)
        except PrintFailed as exc:
            self.say(self.t(f"receipts.print_{exc.problem}", detail=exc.detail), error=True)
        except OSError as exc:
            self.say(
                self.t(
                    "receipts.save_failed", folder=str(self.downloads_folder()), reason=exc.strerror or exc
                ),
                error=True,
            )
        finally:
            status.clear()
            self.busy = False

    @work(exclusive=True, group="receipt", exit_on_error=False)
    async def send_receipt(self, period: dt.date) -> None:
        """«Отправить на e-mail»: the portal mails the PDF; say to which (masked) address."""
        status = self.query_one("#receipts-status", LoadingStatus)
        self.say("")
        status.show_loading(self.t("receipts.sending"))
        try:
            mailed = await self.portal(lambda client: client.email_receipt(period))
            month = format_month(period, self.t.lang)
            self.say(self.t("receipts.sent_email_month", email=mailed.email_masked, month=month))
        except CallAbandoned:
            pass
        except TooManyAttempts as exc:
            minutes = max(1, (exc.retry_after + 59) // 60)
            self.say(self.t("receipts.too_many_emails", minutes=minutes), error=True)
        except PortalError as exc:
            self.say(self.error_text(exc), error=True)
        finally:
            status.clear()
            self.busy = False
