"""The base of «Оплата» and «Оплата взноса ФКР» (not a screen of its own).

:class:`PaymentFlowScreen` is what the two share: the
:class:`~widgets.payment_flow.PaymentFlow` form, starting the payment in a worker (one
``Idempotency-Key`` per payment, kept while the same payment is repeated after a lost answer), asking for
its status — first after :attr:`~PaymentFlowScreen.POLL_SECONDS`, then less and less often — until it
is final, and — on the demo portal —
the sandbox keys that press the payment page's buttons in place of a browser. A subclass says what is
paid (:meth:`~PaymentFlowScreen.create`, :meth:`~PaymentFlowScreen.fetch`).

Logged in, F3 (or ``q``/``й`` where no field takes letters) switches to the ГОСТ payment QR code of
the latest receipt, which any banking app reads, and back to the form.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import ContentSwitcher, Footer

from screens.base import CallAbandoned, PortalScreen
from tui import payments
from tui.errors import Conflict, PortalError, PortalUnavailable
from tui.formatting import Money
from tui.models import (
    AccountSummary,
    PaymentCode,
    PaymentCodes,
    PaymentOrder,
    PaymentProvider,
    PaymentStatus,
    SandboxAction,
)
from tui.payments import MAX_PAYMENT
from widgets.header import Header
from widgets.payment_flow import PaymentFlow
from widgets.receipt_code import ReceiptCodeView

if TYPE_CHECKING:
    import datetime as dt

    from textual.notifications import SeverityLevel

    from tui.client import PortalClient

FLOW = "payment-flow"
RECEIPT_CODE = "receipt-code"

#: After the payment is final but not yet credited, look this many more times before leaving it be.
CREDIT_POLLS = 15
#: The pace of status questions (:func:`tui.payments.next_poll_delay`), shared with «Оплатить все».
SLOWER_POLLS = payments.SLOWER_POLLS
WATCH_LIMIT_SECONDS = payments.WATCH_LIMIT_SECONDS


class PaymentFlowScreen(PortalScreen):
    """What both payment screens share; a subclass says what is paid and how its status is asked."""

    #: Seconds before the first question about a payment's status; each next wait is
    #: :attr:`POLL_GROWTH` times longer, up to :attr:`POLL_MAX_SECONDS` (then :data:`SLOWER_POLLS`).
    POLL_SECONDS: ClassVar[float] = payments.POLL_SECONDS
    POLL_GROWTH: ClassVar[float] = payments.POLL_GROWTH
    POLL_MAX_SECONDS: ClassVar[float] = payments.POLL_MAX_SECONDS
    #: Whether F3 shows the ГОСТ code of the latest receipt (logged in only).
    OFFERS_RECEIPT_CODE: ClassVar[bool] = True

    DEFAULT_CSS = """
    PaymentFlowScreen #payment-views { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "start", "payment.start", id="start-payment"),
        Binding("p,з", "sandbox('pay')", "payment.sandbox_pay", id="sandbox-pay"),
        Binding("d,в", "sandbox('decline')", "payment.sandbox_decline", id="sandbox-decline"),
        Binding("c,с", "sandbox('cancel')", "payment.sandbox_cancel", id="sandbox-cancel"),
        Binding("n,т", "new_payment", "payment.new", id="new-payment"),
        Binding("f3,q,й", "toggle_receipt_code", "payment.receipt_qr_key", id="receipt-code"),
        Binding("f5,ctrl+r", "refresh_status", "footer.refresh", id="refresh", show=False),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The payment being made (None before «Перейти к оплате» succeeds).
        self.order: PaymentOrder | None = None
        self._attempt: tuple[Money, PaymentProvider] | None = None
        self._idempotency_key: str | None = None
        self._receipt_code_loaded = False
        #: A payment that went through but is not credited yet: the amounts due do not show it.
        self._uncredited: PaymentOrder | None = None

    # --- what a subclass says ----------------------------------------------------------------------------

    async def create(
        self, client: PortalClient, amount: Money, provider: PaymentProvider, idempotency_key: str
    ) -> PaymentOrder:
        """Start the payment on the portal."""
        raise NotImplementedError

    async def fetch(self, client: PortalClient, order_id: str) -> PaymentOrder:
        """The payment as it is now."""
        return await client.payment(order_id)

    def receipt_code(self, codes: PaymentCodes) -> PaymentCode | None:
        """Which of the receipt's codes this screen shows."""
        return codes.utilities

    def receipt_due(self, summary: AccountSummary) -> tuple[dt.date | None, Money]:
        """The month of the receipt the amount due is counted from, and what is left to pay of it."""
        return summary.amount_due_breakdown.period, summary.amount_due

    def refresh_amount_due(self) -> None:
        """A payment went through: ask the portal again for what is due (it prefills «Сумма» anew)."""
        self.load_summary()

    @property
    def offers_receipt_code(self) -> bool:
        return self.OFFERS_RECEIPT_CODE and self.kabinet.account_number is not None

    # --- layout ------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_views()
        yield Footer(compact=True, show_command_palette=False)

    def compose_views(self) -> ComposeResult:
        with ContentSwitcher(initial=FLOW, id="payment-views"):
            yield PaymentFlow(self.t, id=FLOW)
            yield ReceiptCodeView(self.t, id=RECEIPT_CODE)

    @property
    def flow(self) -> PaymentFlow:
        return self.query_one(PaymentFlow)

    @property
    def views(self) -> ContentSwitcher:
        return self.query_one("#payment-views", ContentSwitcher)

    # --- keys --------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        showing_flow = self.views.current == FLOW
        order = self.order if self.is_mounted and showing_flow and self.flow.showing_order else None
        if action == "start":
            return showing_flow and self.flow_form_shown()
        if action == "sandbox":
            return order is not None and order.sandbox and not order.is_final
        if action == "new_payment":
            return order is not None and order.is_final
        if action == "refresh_status":
            return order is not None
        if action == "toggle_receipt_code":
            return self.offers_receipt_code
        return True

    def flow_form_shown(self) -> bool:
        """The payment form (not the payment page, not another step) is what the resident sees."""
        return not self.flow.showing_order

    def action_start(self) -> None:
        self.flow.submit()

    def action_back(self) -> None:
        if self.views.current != FLOW:
            self.action_toggle_receipt_code()
            return
        self.app.pop_screen()

    def action_new_payment(self) -> None:
        paid = self.order is not None and self.order.status is PaymentStatus.SUCCESS
        self.order = None
        self.flow.show_form()
        if paid:
            # Never the old amount due again: the field waits for what the portal says is due now.
            self.flow.forget_prefill()
            self.flow.amount_input.value = ""
            self.refresh_amount_due()
        self.refresh_bindings()

    def action_refresh_status(self) -> None:
        if self.order is not None:
            self.watch_order(self.order, 0.0)

    def action_sandbox(self, action: str) -> None:
        if self.order is not None and self.order.sandbox and not self.order.is_final:
            self.press_sandbox(self.order, SandboxAction(action))

    def action_toggle_receipt_code(self) -> None:
        if not self.offers_receipt_code:
            return
        views = self.views
        if views.current == FLOW:
            views.current = RECEIPT_CODE
            self.query_one(ReceiptCodeView).focus()
            if not self._receipt_code_loaded:
                self.load_receipt_code()
        else:
            views.current = FLOW
            if self.flow.showing_order:
                self.set_focus(None)
            else:
                self.flow.focus_form()
        self.refresh_bindings()

    # --- starting and watching the payment ---------------------------------------------------------------

    @on(PaymentFlow.Submitted)
    def _submitted(self, event: PaymentFlow.Submitted) -> None:
        event.stop()
        self.start_payment(event.amount, event.provider)

    @work(exclusive=True, group="payment-create", exit_on_error=False)
    async def start_payment(self, amount: Money, provider: PaymentProvider) -> None:
        """Create the payment (the same key while the same amount and service are tried again)."""
        from tui.client import new_idempotency_key

        t, flow = self.t, self.flow
        attempt = (amount, provider)
        if self._attempt != attempt or self._idempotency_key is None:
            self._attempt, self._idempotency_key = attempt, new_idempotency_key()
        key = self._idempotency_key
        flow.show_problem("")
        flow.show_progress(t("payment.creating"))

        async def create(client: PortalClient) -> PaymentOrder:
            try:
                return await self.create(client, amount, provider, key)
            except PortalUnavailable as exc:
                if exc.status == 503:
                    # The portal is up but the payment service is not (``provider_unavailable``): the
                    # resident may choose the other service rather than wait for the portal.
                    raise PortalError(503, "provider_unavailable", exc.message, "provider") from exc
                raise

        try:
            order = await self.portal(create)
        except CallAbandoned:
            flow.clear_progress()
            flow.show_problem(t("payment.not_started"))
            return
        except PortalError as exc:
            flow.clear_progress()
            flow.show_problem(self.payment_problem(exc))
            if exc.field == "amount":
                flow.focus_form()
            return
        # This payment exists now: another press of «Перейти к оплате» is another payment.
        self._attempt = self._idempotency_key = None
        flow.clear_progress()
        self.show_order(order)
        self.watch_order(order, self.POLL_SECONDS)

    def summary_details(self, summary: AccountSummary) -> tuple[str, Money | None]:
        """What the account summary says above the form, and the amount to prefill (None: none)."""
        raise NotImplementedError

    @work(exclusive=True, group="summary", exit_on_error=False)
    async def load_summary(self) -> None:
        """The account summary: what is due, to prefill «Сумма»."""
        flow = self.flow
        flow.set_details(self.t("app.loading"))
        try:
            summary = await self.portal(lambda client: client.account_summary())
        except CallAbandoned:
            flow.set_details("")
            return
        except PortalError as exc:
            flow.set_details(self.error_text(exc))
            return
        details, amount = self.summary_details(summary)
        uncredited = self._uncredited
        if uncredited is not None:
            # The portal's amount due does not count this payment yet: prefilling it would pay twice.
            details += "\n⚠ " + self.t("payment.paid_not_credited", amount=uncredited.amount)
            amount = None
        flow.set_details(details)
        if amount is not None:
            flow.prefill(amount)

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): the summary's words again; the amount stays."""
        client = self.kabinet.client
        if client is not None and client.is_logged_in:  # the public capital repair payment has none
            self._relabel_details()

    @work(exclusive=True, group="summary-words", exit_on_error=False)
    async def _relabel_details(self) -> None:
        try:
            summary = await self.portal(lambda client: client.account_summary())
        except (CallAbandoned, PortalError):
            return
        self.flow.set_details(self.summary_details(summary)[0])

    def payment_problem(self, error: PortalError) -> str:
        """A refused payment in words; the portal's amount rules name the field."""
        if error.field == "amount":
            # The portal's own words name the field too, but the catalogue's ``invalid_amount`` is
            # registration's «Итого к оплате…»: say the payment's rule here.
            return self.t(
                "input.field_problem",
                field=self.t("payment.amount"),
                problem=self.t("input.payment_amount_rules", maximum=MAX_PAYMENT),
            )
        return self.error_text(error)

    def show_order(self, order: PaymentOrder) -> None:
        self.order = order
        self.flow.show_order(order)
        self.refresh_bindings()

    @work(exclusive=True, group="payment-watch", exit_on_error=False)
    async def watch_order(self, order: PaymentOrder, delay: float) -> None:
        """Ask for the status until it is final (and a success credited), showing each in words."""
        t, progress = self.t, self.flow.progress
        polls_after_final = 0
        waited = 0.0
        while not (order.is_final and (order.credited or order.status is not PaymentStatus.SUCCESS)):
            if order.is_final:
                polls_after_final += 1
                if polls_after_final > CREDIT_POLLS:
                    break
            if waited >= WATCH_LIMIT_SECONDS:
                progress.show_error(t("payment.status_not_updated"))
                return
            progress.show_loading(t("payment.checking"))
            if delay:
                await asyncio.sleep(delay)
                waited += delay
            delay = payments.next_poll_delay(
                delay,
                waited,
                first=self.POLL_SECONDS,
                growth=self.POLL_GROWTH,
                longest=self.POLL_MAX_SECONDS,
                slower=SLOWER_POLLS,
            )
            try:
                order = await self.portal(functools.partial(self.fetch, order_id=order.order_id))
            except CallAbandoned:
                progress.show_error(t("payment.status_not_updated"))
                return
            except PortalError as exc:
                progress.show_error(self.error_text(exc))
                return
            self.show_order(order)
        progress.clear()
        self.payment_finished(order)

    def payment_finished(self, order: PaymentOrder) -> None:
        """The status is final: say it once more where it cannot be missed.

        After a payment that went through, every amount due on the screen is asked for again: the form's
        details and its «Сумма», and the receipt's QR code (which then says the receipt is paid).
        """
        success = order.status is PaymentStatus.SUCCESS
        severity: SeverityLevel = "information" if success else "warning"
        self.notify(
            f"{self.t(f'payment.status_{order.status.value}')}: {order.amount}", severity=severity, timeout=6
        )
        if not success:
            return
        self._uncredited = None if order.credited else order
        self.flow.forget_prefill()
        self.flow.amount_input.value = ""
        self.refresh_amount_due()
        self._receipt_code_loaded = False
        if self.views.current == RECEIPT_CODE:
            self.load_receipt_code()

    @work(exclusive=True, group="payment-sandbox", exit_on_error=False)
    async def press_sandbox(self, order: PaymentOrder, action: SandboxAction) -> None:
        """What the sandbox page's button would do in a browser; then look at the status at once."""
        progress = self.flow.progress
        progress.show_loading(self.t(f"payment.sandbox_sending_{action.value}"))
        try:
            await self.portal(lambda client: client.sandbox_action(order, action))
        except CallAbandoned:
            progress.clear()
            return
        except Conflict:
            pass  # the page no longer waits (paid, declined or cancelled meanwhile): the status says how
        except PortalError as exc:
            progress.show_error(self.error_text(exc))
            return
        self.watch_order(order, 0.0)

    # --- the receipt's ГОСТ code -------------------------------------------------------------------------

    @work(exclusive=True, group="receipt-code", exit_on_error=False)
    async def load_receipt_code(self) -> None:
        """The latest receipt's payment codes (``GET /receipts`` then its ``payment-codes``)."""
        view = self.query_one(ReceiptCodeView)
        view.show_message(self.t("app.loading"))
        try:
            receipts = await self.portal(lambda client: client.receipts())
            if not receipts:
                view.show_message(self.t("payment.receipt_qr_none"))
                self._receipt_code_loaded = True
                return
            latest = max(receipt.period for receipt in receipts)
            codes = await self.portal(lambda client: client.payment_codes(latest))
            summary = await self.portal(lambda client: client.account_summary())
        except CallAbandoned:
            view.show_message(self.t("payment.status_not_updated"))
            return
        except PortalError as exc:
            view.show_message(self.error_text(exc))
            return
        code = self.receipt_code(codes)
        if code is None:
            view.show_message(self.t("payment.receipt_qr_none"))
        else:
            period, due = self.receipt_due(summary)
            view.show_code(codes.period, code, due if period == codes.period else None)
        self._receipt_code_loaded = True
