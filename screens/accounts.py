"""Лицевые счета: every account of the login with its amounts due; choose, attach, detach, pay all.

The table lists the login's accounts (its own first), the one this session works on marked ▶. Enter
chooses the selected account: the portal moves the session onto it, and the app goes back to home,
which shows that account (every other screen works on the session's account). F2 opens the form that
attaches another account by the same proof as registration step 2 — the account number and the last
receipt's total without the capital repair contribution — checked here as registration checks them;
a refusal is said beside the field and everything typed stays. F8 detaches the selected account after
a confirmation that defaults to «Нет» (the login's own account cannot be detached). F7 «Оплатить все»:
the chosen payment service makes one card order per account with something due; the orders are listed
with their amounts and payment links (opened in a browser, as the payment screen's link is), each with
its status — waiting, paid, failed — asked in a worker at the payment screen's pace
(:func:`tui.payments.next_poll_delay`) until every order is final; F5 asks again at once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from screens.base import CallAbandoned, PortalScreen, ScreenSpec
from screens.dialogs import ConfirmDialog
from screens.form_base import FormScreen
from tui import payments
from tui.errors import Conflict, PortalError
from tui.formatting import InputError, Money
from tui.i18n import Translator
from tui.models import (
    LoginAccount,
    LoginAccounts,
    PayAllResult,
    PaymentOrder,
    PaymentProvider,
    PaymentPurpose,
    PaymentStatus,
)
from tui.validation import DONE_MARK, ERROR_MARK, account_number_problem, field_problem
from widgets.filtered_input import account_number_input
from widgets.header import Header
from widgets.payment_flow import ProviderChoice, provider_name
from widgets.qr import QrCode
from widgets.status import LoadingStatus
from widgets.toggles import RadioButton

if TYPE_CHECKING:
    from tui.client import PortalClient

#: The table's columns: catalogue key → column key.
COLUMNS = (
    ("accounts.number", "number"),
    ("accounts.address", "address"),
    ("accounts.amount_due", "due"),
    ("accounts.capital_repair_due", "capital"),
)


class AccountsScreen(FormScreen):
    """«Лицевые счета»: the login's accounts, the way to work on another, attach, detach, pay all."""

    SPEC = ScreenSpec(
        "accounts", "accounts.title", help_topic="accounts", menu_key="a", in_footer=False, order=85
    )
    #: The pace of the pay-all orders' status questions (as the payment screen's).
    POLL_SECONDS: ClassVar[float] = payments.POLL_SECONDS
    POLL_MAX_SECONDS: ClassVar[float] = payments.POLL_MAX_SECONDS
    FORM = "accounts"
    FIELD_WIDGETS: ClassVar[dict[str, str]] = {
        "account_number": "attach-number",
        "receipt_total": "attach-total",
    }
    DEFAULT_CSS = """
    AccountsScreen #accounts-body { height: 1fr; }
    AccountsScreen #accounts-body > Static, AccountsScreen #accounts-body > Vertical { padding: 0 1; }
    AccountsScreen .hint { color: $text-muted; }
    AccountsScreen .title { text-style: bold; margin-top: 1; }
    AccountsScreen #accounts-table { height: auto; max-height: 9; }
    AccountsScreen #accounts-totals { text-style: bold; }
    AccountsScreen .error { color: $error; text-style: bold; display: none; }
    AccountsScreen #attach-form, AccountsScreen #pay-all { height: auto; display: none; }
    AccountsScreen #attach-number, AccountsScreen #attach-total { width: 30; }
    AccountsScreen #pay-all-provider { width: 30; height: auto; }
    AccountsScreen #accounts-message { height: auto; }
    AccountsScreen #accounts-message.-error { color: $error; text-style: bold; }
    AccountsScreen #pay-all-orders { height: auto; }
    """
    BINDINGS = [
        Binding("f2", "attach", "accounts.key_attach", id="attach-account"),
        Binding("f8", "detach", "accounts.key_detach", id="detach-account"),
        Binding("f7", "pay_all", "accounts.key_pay_all", id="pay-all"),
        Binding("f3", "order_codes", "accounts.key_qr", id="pay-all-codes"),
        Binding("f5,ctrl+r", "refresh", "footer.refresh", id="refresh", show=False),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.step = "list"
        #: The portal's last list (None before it answered).
        self.accounts: LoginAccounts | None = None
        #: «Оплатить все»'s key, kept while the same service is tried again after a lost answer.
        self._pay_attempt: tuple[PaymentProvider, str] | None = None
        #: The orders «Оплатить все» made last (listed until the screen closes).
        self.pay_result: PayAllResult | None = None
        #: Each of those orders as the portal last told it (by order id): its status.
        self.order_states: dict[str, PaymentOrder] = {}
        #: Why the statuses are not being asked any more (None: they are, or all are final).
        self._watch_problem: str | None = None

    # --- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with VerticalScroll(id="accounts-body"):
            yield Static(t("accounts.intro"), id="accounts-intro", classes="hint")
            yield DataTable(id="accounts-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="accounts-totals", markup=False)
            yield Static(t("accounts.current_hint"), id="accounts-current-hint", classes="hint")
            with Vertical(id="attach-form"):
                yield Static(t("accounts.attach_title"), id="attach-title", classes="title")
                yield Static(t("accounts.attach_hint"), id="attach-hint", classes="hint")
                yield Label(t("registration.account_number"), id="attach-number-label")
                yield account_number_input(t, field=t("registration.account_number"), id="attach-number")
                yield Static("", id="attach-number-error", classes="error")
                yield Label(t("registration.receipt_total"), id="attach-total-label")
                yield Input(placeholder="1023,12", max_length=24, id="attach-total")
                yield Static(t("registration.receipt_total_hint"), id="attach-total-hint", classes="hint")
                yield Static("", id="attach-total-error", classes="error")
            with Vertical(id="pay-all"):
                yield Static(t("accounts.pay_all_title"), id="pay-all-title", classes="title")
                yield Static(t("accounts.pay_all_hint"), id="pay-all-hint", classes="hint")
                with ProviderChoice(id="pay-all-provider"):
                    yield RadioButton(t("payment.service_a3"), value=True, id="provider-a3")
                    yield RadioButton(t("payment.service_paymo"), id="provider-paymo")
            yield Static("", id="accounts-message", markup=False)
            yield Static("", id="pay-all-orders", markup=False)
        yield LoadingStatus(translator=t, id="accounts-status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        self.query_one("#accounts-body", VerticalScroll).can_focus = False
        table = self.table
        self._add_columns(table)
        table.focus()
        self.load_accounts()

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#accounts-table", DataTable)

    def _add_columns(self, table: DataTable[str], rows: Sequence[tuple[str, ...]] = ()) -> None:
        """The columns; the address takes what the others leave of the width, and wraps beyond it."""
        t = self.t
        labels = [t(key) for key, _ in COLUMNS]
        widths = [max([len(label), *(len(row[index]) for row in rows)]) for index, label in enumerate(labels)]
        address = COLUMNS.index(("accounts.address", "address"))
        others = sum(width + 2 for index, width in enumerate(widths) if index != address)
        room = max(self.app.size.width, 80) - 2 - others  # the address column's own padding
        for (_, column), label, width in zip(COLUMNS, labels, widths, strict=True):
            table.add_column(label, key=column, width=max(16, room) if column == "address" else width)

    # --- keys ---------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"detach", "pay_all"}:
            return self.step == "list"
        if action == "order_codes":
            return self.pay_result is not None and bool(self.pay_result.payments)
        return True

    def action_order_codes(self) -> None:
        if self.pay_result is not None and self.pay_result.payments:
            self.app.push_screen(OrderCodesDialog(self.t, self.pay_result))

    def action_attach(self) -> None:
        if self.step == "attach":
            self._submit_attach()
            return
        self._show_step("attach")
        self.query_one("#attach-number", Input).focus()

    def action_pay_all(self) -> None:
        self._show_step("pay")
        self.query_one("#pay-all-provider", ProviderChoice).focus()

    def action_back(self) -> None:
        if self.step != "list":
            self._show_step("list")
            self.table.focus()
            return
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load_accounts()
        if self.pay_result is not None and not self._orders_final():
            self.watch_orders(0.0)

    def action_detach(self) -> None:
        account = self.selected
        if account is None or self._busy:
            return
        if account.own:
            self._message(ERROR_MARK + self.t.error("own_account_not_detachable"), error=True)
            return
        self._detach_account(account)

    def _show_step(self, step: str) -> None:
        self.step = step
        self._clear_errors()
        self._message("")
        self.query_one("#attach-form", Vertical).display = step == "attach"
        self.query_one("#pay-all", Vertical).display = step == "pay"
        for selector in ("#accounts-intro", "#accounts-current-hint"):
            self.query_one(selector, Static).display = step == "list"  # the forms need the room
        # The attach form needs the whole height at 80×24 (its hints and a refusal of four lines).
        self.table.display = step != "attach"
        self.query_one("#accounts-totals", Static).display = step != "attach"
        self.refresh_bindings()

    def _set_busy(self, text: str) -> None:
        """A portal call is under way: the spinner with what is being done (keys wait meanwhile)."""
        self._busy = True
        self.query_one("#accounts-status", LoadingStatus).show_loading(text)

    def _set_idle(self) -> None:
        self._busy = False
        self.query_one("#accounts-status", LoadingStatus).clear()

    # --- the list -----------------------------------------------------------------------------------

    @property
    def selected(self) -> LoginAccount | None:
        if self.accounts is None or not self.accounts.accounts:
            return None
        row = self.table.cursor_row
        if 0 <= row < len(self.accounts.accounts):
            return self.accounts.accounts[row]
        return None

    @work(exclusive=True, group="accounts", exit_on_error=False)
    async def load_accounts(self) -> None:
        status = self.query_one("#accounts-status", LoadingStatus)
        status.show_loading()
        try:
            accounts = await self.portal(lambda client: client.accounts())
        except CallAbandoned:
            status.clear()
            return
        except PortalError as exc:
            status.show_error(self.error_text(exc))
            return
        status.clear()
        self.show_accounts(accounts)

    def show_accounts(self, accounts: LoginAccounts, *, select: str | None = None) -> None:
        t = self.t
        first = self.accounts is None
        self.accounts = accounts
        table = self.table
        row = table.cursor_row
        rows = [
            (
                (t("accounts.current_mark") if account.current else " ") + " " + account.account_number,
                account.address,
                str(account.amount_due),
                t("accounts.no_fund")
                if account.capital_repair_amount_due is None
                else str(account.capital_repair_amount_due),
            )
            for account in accounts.accounts
        ]
        table.clear(columns=True)
        self._add_columns(table, rows)
        for account, cells in zip(accounts.accounts, rows, strict=True):
            table.add_row(*cells, key=account.account_number, height=None)
        numbers = [account.account_number for account in accounts.accounts]
        if select in numbers:
            row = numbers.index(select)
        elif first and accounts.current is not None:  # opened: the cursor on the current account
            row = numbers.index(accounts.current.account_number)
        if numbers:
            table.move_cursor(row=min(max(row, 0), len(numbers) - 1))
        self.query_one("#accounts-totals", Static).update(
            t("accounts.totals", amount=accounts.total_due, capital=accounts.capital_repair_total_due)
        )

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): the headers and the totals anew."""
        table = self.table
        row = table.cursor_row
        table.clear(columns=True)
        self._add_columns(table)
        if self.accounts is not None:
            self.show_accounts(self.accounts)
            table.move_cursor(row=row)
        if self.pay_result is not None:
            self.show_orders(self.pay_result)

    # --- choosing -----------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#accounts-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        account = self.selected
        if account is None or self._busy:
            return
        if account.current:
            self._go_home()
            return
        self._choose(account.account_number)

    @work(exclusive=True, group="accounts-change", exit_on_error=False)
    async def _choose(self, number: str) -> None:
        self._set_busy(self.t("accounts.choosing"))
        try:
            chosen = await self.work_on_account(number)
        except CallAbandoned:
            self._message("")
            return
        except PortalError as exc:
            self._message(ERROR_MARK + self.error_text(exc), error=True)
            self.load_accounts()
            return
        finally:
            self._set_idle()
        self._message("")
        self.show_accounts(chosen)
        self._go_home()

    def _go_home(self) -> None:
        """Back to home (which reloads its summary on resume), closing the screens above it."""
        stack = self.app.screen_stack
        homes = [
            index
            for index, screen in enumerate(stack)
            if isinstance(screen, PortalScreen) and screen.SPEC.name == "home"
        ]
        above = len(stack) - 1 - homes[-1] if homes else 1
        for _ in range(above):
            self.app.pop_screen()

    # --- attaching ----------------------------------------------------------------------------------

    @on(Input.Submitted, "#attach-number")
    def _to_total(self) -> None:
        self.query_one("#attach-total", Input).focus()

    @on(Input.Submitted, "#attach-total")
    def _submit_attach(self) -> None:
        if self._busy or self.step != "attach":
            return
        t = self.t
        self._clear_errors()
        self._message("")
        problems: dict[str, str] = {}
        number = self.query_one("#attach-number", Input).value.replace(" ", "")
        problem = account_number_problem(t, number)
        if problem is not None:
            problems["account_number"] = problem
        total: Money | None = None
        try:
            total = Money.parse(self.query_one("#attach-total", Input).value)
        except InputError as exc:
            problems["receipt_total"] = field_problem(t, "field.receipt_total", exc.key, **exc.params)
        if problems or total is None:
            self._show_problems(problems)
            return
        self._attach_account(number, total)

    @work(exclusive=True, group="accounts-change", exit_on_error=False)
    async def _attach_account(self, number: str, total: Money) -> None:
        self._set_busy(self.t("accounts.attaching"))
        try:
            accounts = await self.portal(lambda client: client.attach_account(number, total))
        except CallAbandoned:
            self._message("")
            return
        except PortalError as exc:
            self._attach_refused(exc)
            return
        finally:
            self._set_idle()
        self.query_one("#attach-number", Input).value = ""
        self.query_one("#attach-total", Input).value = ""
        self._show_step("list")
        self._message(DONE_MARK + self.t("accounts.attached", account=number))
        self.show_accounts(accounts, select=number)
        self.table.focus()

    def _attach_refused(self, exc: PortalError) -> None:
        """Beside the field the refusal is about; what was typed stays."""
        self._set_idle()  # the spinner's line goes first, so that the message is revealed whole
        if isinstance(exc, Conflict):
            # The uniform refusal: the number or the total did not match; the total is what is mistyped.
            self._message("")
            self._field_error("receipt_total", self.error_text(exc))
            self._focus_field("receipt_total")
        else:
            self._show_portal_error(exc)
        # Once more when the spinner's line has gone and the message is laid out (a refresh later
        # is not always enough: the form's own reveal may run before the message has its height).
        field = "receipt_total" if isinstance(exc, Conflict) else exc.field
        if field in self.FIELD_WIDGETS:
            widget = self.query_one(f"#{self.FIELD_WIDGETS[field]}-error", Static)
        else:
            widget = self.query_one("#accounts-message", Static)
        self.set_timer(0.05, lambda: self._reveal(widget))

    # --- detaching ----------------------------------------------------------------------------------

    @work(exclusive=True, group="accounts-change", exit_on_error=False)
    async def _detach_account(self, account: LoginAccount) -> None:
        t = self.t
        question = t("accounts.detach_confirm", account=account.account_number, address=account.address)
        confirmed = await self.app.push_screen_wait(
            ConfirmDialog(question, yes=t("accounts.detach_yes"), safe_default=True)
        )
        if not confirmed:
            return
        number = account.account_number
        self._set_busy(t("accounts.detaching"))
        try:
            remaining = await self.portal(lambda client: client.detach_account(number))
        except CallAbandoned:
            self._message("")
            return
        except PortalError as exc:
            self._message(ERROR_MARK + self.error_text(exc), error=True)
            self.load_accounts()
            return
        finally:
            self._set_idle()
        self._message(DONE_MARK + t("accounts.detached", account=number))
        self.follow_account(remaining)
        self.show_accounts(remaining)
        self.table.focus()

    # --- paying all ---------------------------------------------------------------------------------

    @on(ProviderChoice.Go)
    def _pay_all_chosen(self, event: ProviderChoice.Go) -> None:
        event.stop()
        if self._busy:
            return
        provider = self.query_one("#pay-all-provider", ProviderChoice).provider
        self._pay_all(provider)

    @work(exclusive=True, group="accounts-change", exit_on_error=False)
    async def _pay_all(self, provider: PaymentProvider) -> None:
        from tui.client import new_idempotency_key

        t = self.t
        if self._pay_attempt is None or self._pay_attempt[0] is not provider:
            self._pay_attempt = (provider, new_idempotency_key())
        key = self._pay_attempt[1]
        self.query_one("#pay-all-orders", Static).update("")
        self._set_busy(t("accounts.paying_all"))
        try:
            result = await self.portal(lambda client: client.pay_all(PaymentPurpose.UTILITIES, provider, key))
        except CallAbandoned:
            self._message(t("payment.not_started"))
            return
        except PortalError as exc:
            self._message(ERROR_MARK + self.error_text(exc), error=True)
            return
        finally:
            self._set_idle()
        self._pay_attempt = None  # these orders exist: another «Оплатить все» is another payment
        self._message("")
        self.order_states = {payment.order.order_id: payment.order for payment in result.payments}
        self.show_orders(result)
        if not self._orders_final():
            self.watch_orders(self.POLL_SECONDS)

    def show_orders(self, result: PayAllResult) -> None:
        """Each order: its account, amount and service, and its payment page's link."""
        t = self.t
        self.pay_result = result
        orders = self.query_one("#pay-all-orders", Static)
        if not result.payments:
            orders.update(t("accounts.pay_all_nothing"))
            return
        lines = [t("accounts.pay_all_done", count=len(result.payments), amount=result.total)]
        for payment in result.payments:
            order = self.order_states.get(payment.order.order_id, payment.order)
            replayed = t("accounts.pay_all_replayed") if payment.replayed else ""
            lines.append(
                t(
                    "accounts.pay_all_order",
                    account=payment.account_number,
                    amount=order.amount,
                    service=provider_name(t, order.provider),
                    replayed=replayed,
                    status=order_status_text(t, order),
                )
            )
            lines.append("  " + order.payment_url)
        if self._watch_problem is not None:
            lines.append(ERROR_MARK + self._watch_problem)
        elif not self._orders_final():
            lines.append(t("accounts.pay_all_after"))
        lines.append(t("accounts.pay_all_qr"))
        orders.update("\n".join(lines))
        self._reveal(orders)
        self.refresh_bindings()

    def _orders_final(self) -> bool:
        """Every pay-all order's status is final: nothing more to ask."""
        return all(order.is_final for order in self.order_states.values())

    @work(exclusive=True, group="pay-all-watch", exit_on_error=False)
    async def watch_orders(self, delay: float) -> None:
        """Ask for each order's status that is not final yet, as the payment screen asks for its own,
        until all are final; the list says each one's anew. A payment that went through changes the
        amounts due: the list of accounts is asked for again at the end."""
        result = self.pay_result
        if result is None:
            return
        self._watch_problem = None
        waited = 0.0
        while not self._orders_final():
            if waited >= payments.WATCH_LIMIT_SECONDS:
                self._watch_problem = self.t("payment.status_not_updated")
                self.show_orders(result)
                return
            if delay:
                await asyncio.sleep(delay)
                waited += delay
            delay = payments.next_poll_delay(
                delay, waited, first=self.POLL_SECONDS, longest=self.POLL_MAX_SECONDS
            )
            for order_id in [key for key, order in self.order_states.items() if not order.is_final]:
                try:
                    order = await self.portal(functools.partial(_ask_order, order_id=order_id))
                except CallAbandoned:
                    self._watch_problem = self.t("payment.status_not_updated")
                    self.show_orders(result)
                    return
                except PortalError as exc:
                    self._watch_problem = self.error_text(exc)
                    self.show_orders(result)
                    return
                self.order_states[order_id] = order
            self.show_orders(result)
        if any(order.status is PaymentStatus.SUCCESS for order in self.order_states.values()):
            self.load_accounts()


async def _ask_order(client: PortalClient, order_id: str) -> PaymentOrder:
    return await client.account_payment(order_id)


def order_status_text(t: Translator, order: PaymentOrder) -> str:
    """A pay-all order's status in a word or two, marked (✓ paid, ✗ failed) so colour is not needed."""
    if order.status in (PaymentStatus.INITIATED, PaymentStatus.PROCESSING):
        return t("accounts.order_pending")
    return t(f"accounts.order_{order.status.value}")


class OrderCodesDialog(ModalScreen[None]):
    """The pay-all orders one at a time: the payment page's QR code (for a phone) and its link."""

    DEFAULT_CSS = """
    OrderCodesDialog { align: center middle; }
    OrderCodesDialog > Horizontal {
        width: auto;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        background: $surface;
        border: thick $accent;
    }
    OrderCodesDialog #order-qr { margin-right: 1; }
    OrderCodesDialog #order-info { width: 36; height: auto; }
    OrderCodesDialog #order-title { text-style: bold; margin-bottom: 1; }
    OrderCodesDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("right,down,n,т", "step(1)", show=False),
        Binding("left,up,p,з", "step(-1)", show=False),
        Binding("escape,enter,f3", "dismiss", show=False),
    ]

    def __init__(self, t: Translator, result: PayAllResult) -> None:
        super().__init__()
        self.t = t
        self.result = result
        #: The order shown.
        self.index = 0

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield QrCode(id="order-qr")
            with Vertical(id="order-info"):
                yield Static("", id="order-title", markup=False)
                yield Static("", id="order-details", markup=False)
                yield Static(self.t("accounts.qr_hint"), classes="hint")

    def on_mount(self) -> None:
        self.show_order()

    def action_step(self, step: int) -> None:
        self.index = (self.index + step) % len(self.result.payments)
        self.show_order()

    def show_order(self) -> None:
        t, payment = self.t, self.result.payments[self.index]
        order = payment.order
        self.query_one("#order-qr", QrCode).set_text(order.payment_url)
        self.query_one("#order-title", Static).update(
            t(
                "accounts.qr_title",
                index=self.index + 1,
                count=len(self.result.payments),
                account=payment.account_number,
            )
        )
        self.query_one("#order-details", Static).update(
            "\n".join(
                [
                    t("payment.order_amount", amount=order.amount, service=provider_name(t, order.provider)),
                    t("payment.page_qr"),
                    order.payment_url,
                ]
            )
        )
