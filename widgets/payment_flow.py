"""The way a payment goes, shared by «Оплата» and «Оплата взноса ФКР»: amount and service, then the page.

Two views in one widget:

- the **form**: «Сумма» (prefilled with the amount due, editable), «Платёжный сервис» (А3 or PayMO:
  arrows choose) and «Перейти к оплате» (Enter in the amount or on the service, F2 on the screens). The
  amount is checked here (:func:`tui.payments.parse_payment_amount`); a refused one is said naming the
  field and the typed text stays. A valid one posts :class:`PaymentFlow.Submitted` and the screen starts
  the payment on the portal;
- the **payment**: the payment page's URL as a QR code (for a phone) and as text (for a browser), the
  status in words as the screen learns it, the result, and — when the portal runs the demo sandbox —
  what the sandbox keys do, since inside the demo they stand in for the browser.

The widget does no network work: the screen (:class:`screens.payment.PaymentFlowScreen`) does it in
workers and calls :meth:`PaymentFlow.show_order`, :meth:`PaymentFlow.show_problem` and the progress
methods.
"""

from __future__ import annotations

from typing import Final

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, ContentSwitcher, Input, Label, RadioSet, Static

from tui.formatting import InputError, Money
from tui.i18n import Translator
from tui.models import PaymentOrder, PaymentProvider, PaymentStatus
from tui.payments import amount_problem, amount_text, parse_payment_amount
from widgets.qr import QrCode
from widgets.status import LoadingStatus
from widgets.toggles import RadioButton

FORM: Final = "pay-form"
"""The id of the form view."""
ORDER: Final = "pay-order"
"""The id of the payment view."""

#: A sign before each status, so the state reads without colour too.
STATUS_SIGNS: Final = {
    PaymentStatus.INITIATED: "…",
    PaymentStatus.PROCESSING: "…",
    PaymentStatus.SUCCESS: "✓",
    PaymentStatus.FAILED: "✗",
    PaymentStatus.CANCELLED: "✗",
    PaymentStatus.REFUNDED: "↩",
}


def status_text(t: Translator, status: PaymentStatus) -> str:
    """«Платёж обрабатывается»: a status in the resident's words."""
    return t(f"payment.status_{status.value}")


def provider_name(t: Translator, provider: PaymentProvider) -> str:
    """«А3» or «PayMO»."""
    return t(f"payment.service_{provider.value}")


class ProviderChoice(RadioSet):
    """А3 or PayMO. The arrows choose at once (as radio buttons do); Enter goes on to pay."""

    BINDINGS = [Binding("enter", "go", show=False)]

    class Go(Message):
        """Enter on the choice: go to the payment with the chosen service."""

    def action_next_button(self) -> None:
        super().action_next_button()
        self.action_toggle_button()

    def action_previous_button(self) -> None:
        super().action_previous_button()
        self.action_toggle_button()

    def action_go(self) -> None:
        self.action_toggle_button()
        self.post_message(self.Go())

    @property
    def provider(self) -> PaymentProvider:
        """The chosen service (А3 until another is chosen)."""
        pressed = self.pressed_button
        if pressed is not None and pressed.id == "provider-paymo":
            return PaymentProvider.PAYMO
        return PaymentProvider.A3


class PaymentFlow(Vertical):
    """The payment form and the payment page's QR code with the live status; see the module docstring."""

    DEFAULT_CSS = """
    PaymentFlow { height: 1fr; }
    PaymentFlow > ContentSwitcher { height: 1fr; }
    PaymentFlow #pay-form { height: 1fr; padding: 0 1; }
    PaymentFlow .pay-details { height: auto; margin-bottom: 1; }
    PaymentFlow #pay-amount { width: 30; }
    PaymentFlow #pay-provider { width: 30; height: auto; }
    PaymentFlow #pay-start { margin-top: 1; min-width: 24; }
    PaymentFlow #pay-message { height: auto; color: $text-error; text-style: bold; }
    PaymentFlow #pay-order { height: 1fr; }
    PaymentFlow #pay-qr { margin-right: 1; }
    PaymentFlow #pay-order-info { width: 1fr; height: 1fr; padding-right: 1; }
    PaymentFlow #pay-order-info > Static { height: auto; }
    PaymentFlow #pay-status { text-style: bold; margin-bottom: 1; }
    PaymentFlow #pay-url { margin: 1 0; }
    PaymentFlow #pay-status.-success { color: $text-success; }
    PaymentFlow #pay-status.-failure { color: $text-error; }
    PaymentFlow #pay-sandbox { border: round $warning; padding: 0 1; margin-top: 1; }
    """

    BINDINGS = [Binding("down", "to_provider", show=False)]

    class Submitted(Message):
        """«Перейти к оплате» with a valid amount: the screen starts the payment."""

        def __init__(self, flow: PaymentFlow, amount: Money, provider: PaymentProvider) -> None:
            super().__init__()
            self.flow = flow
            """The form that was submitted."""
            self.amount = amount
            self.provider = provider

        @property
        def control(self) -> PaymentFlow:
            return self.flow

    def __init__(
        self,
        translator: Translator,
        *,
        public: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.t = translator
        """Words of the labels and messages."""
        self.public = public
        """Paying without login: there is no payment history or home screen to point to."""
        self.order: PaymentOrder | None = None
        """The payment shown in the payment view (None: the form is shown and nothing was started)."""
        self._amount_prefilled = False

    def compose(self) -> ComposeResult:
        t = self.t
        with ContentSwitcher(initial=FORM):
            with Vertical(id=FORM):
                yield Static("", id="pay-details", classes="pay-details", markup=False)
                yield Label(t("payment.amount"))
                yield Input(placeholder=t("payment.amount_hint"), max_length=24, id="pay-amount")
                yield Label(t("payment.service"))
                with ProviderChoice(id="pay-provider"):
                    yield RadioButton(t("payment.service_a3"), value=True, id="provider-a3")
                    yield RadioButton(t("payment.service_paymo"), id="provider-paymo")
                yield Button(t("payment.start"), id="pay-start", variant="primary")
                yield Static("", id="pay-message", markup=False)
            with Horizontal(id=ORDER):
                yield QrCode(id="pay-qr")
                with VerticalScroll(id="pay-order-info"):
                    yield Static("", id="pay-status", markup=False)
                    yield Static("", id="pay-order-details", markup=False)
                    yield Static("", id="pay-url", markup=False)
                    yield Static("", id="pay-result", markup=False)
                    yield Static("", id="pay-sandbox", markup=False)
        yield LoadingStatus(translator=t, id="pay-progress")

    # --- the form --------------------------------------------------------------------------------------

    @property
    def amount_input(self) -> Input:
        return self.query_one("#pay-amount", Input)

    @property
    def provider_choice(self) -> ProviderChoice:
        return self.query_one("#pay-provider", ProviderChoice)

    @property
    def showing_order(self) -> bool:
        """The payment view is shown (not the form)."""
        return self.query_one(ContentSwitcher).current == ORDER

    def action_to_provider(self) -> None:
        """Down in «Сумма» goes on to «Платёжный сервис», as Tab does."""
        if self.screen.focused is self.amount_input:
            self.provider_choice.focus()

    def set_details(self, text: str) -> None:
        """The lines above the form: what is paid, for which account, the amount due."""
        self.query_one("#pay-details", Static).update(text)

    def prefill(self, amount: Money) -> None:
        """Put the amount due in «Сумма» unless the resident typed something already."""
        field = self.amount_input
        if self._amount_prefilled or field.value.strip():
            return
        self._amount_prefilled = True
        field.value = amount_text(amount) if amount.kopecks > 0 else ""
        field.cursor_position = len(field.value)

    def forget_prefill(self) -> None:
        """Let the next :meth:`prefill` fill «Сумма» again (another account was chosen)."""
        self._amount_prefilled = False

    def focus_form(self) -> None:
        """Put the cursor in «Сумма»."""
        self.amount_input.focus()

    def submit(self) -> None:
        """«Перейти к оплате»: check the amount; post :class:`Submitted` or say what is wrong."""
        if self.showing_order:
            return
        field = self.amount_input
        try:
            amount = parse_payment_amount(field.value)
        except InputError as error:
            self.show_problem(amount_problem(self.t, error))
            field.focus()
            return
        self.show_problem("")
        self.post_message(self.Submitted(self, amount, self.provider_choice.provider))

    def show_problem(self, text: str) -> None:
        """A message under the form (empty: none)."""
        self.query_one("#pay-message", Static).update(text)

    @on(Input.Submitted, "#pay-amount")
    @on(Button.Pressed, "#pay-start")
    @on(ProviderChoice.Go)
    def _go(self, event: Message) -> None:
        event.stop()
        self.submit()

    # --- progress --------------------------------------------------------------------------------------

    @property
    def progress(self) -> LoadingStatus:
        return self.query_one("#pay-progress", LoadingStatus)

    def show_progress(self, text: str) -> None:
        """A turning spinner with ``text`` under the view (the start button waits meanwhile)."""
        self.progress.show_loading(text)
        self.query_one("#pay-start", Button).disabled = True

    def clear_progress(self) -> None:
        self.progress.clear()
        self.query_one("#pay-start", Button).disabled = False

    # --- the payment -----------------------------------------------------------------------------------

    def show_form(self) -> None:
        """Back to the form (a new payment): what was typed stays."""
        self.order = None
        self.query_one(ContentSwitcher).current = FORM
        self.clear_progress()
        self.focus_form()

    def show_order(self, order: PaymentOrder) -> None:
        """Show the payment page (QR code and URL), the status in words and, once final, the result."""
        t = self.t
        first = self.order is None or self.order.order_id != order.order_id
        self.order = order
        switcher = self.query_one(ContentSwitcher)
        if first or switcher.current != ORDER:
            self.query_one("#pay-qr", QrCode).set_text(order.payment_url)
            switcher.current = ORDER
            # Letter keys (the sandbox's) reach the screen only with no input focused.
            self.screen.set_focus(None)
        status = self.query_one("#pay-status", Static)
        status.update(
            f"{STATUS_SIGNS[order.status]} {t('payment.status', status=status_text(t, order.status))}"
        )
        status.set_class(order.status is PaymentStatus.SUCCESS, "-success")
        status.set_class(order.status in {PaymentStatus.FAILED, PaymentStatus.CANCELLED}, "-failure")
        self.query_one("#pay-order-details", Static).update(
            "\n".join(
                [
                    t("payment.order_amount", amount=order.amount, service=provider_name(t, order.provider)),
                    t(f"payment.purpose_{order.purpose.value}"),
                ]
            )
        )
        self.query_one("#pay-url", Static).update(self._page_text(order))
        self.query_one("#pay-result", Static).update(self._result(order))
        sandbox = self.query_one("#pay-sandbox", Static)
        sandbox.display = order.sandbox and not order.is_final
        sandbox.border_title = t("payment.sandbox_title")
        sandbox.update(t("payment.sandbox_hint"))

    def _page_text(self, order: PaymentOrder) -> str:
        """The link, and — when the window is too low for the whole QR code — how large it must be."""
        t = self.t
        text = t("payment.page_qr") + "\n" + order.payment_url
        needed = self.query_one("#pay-qr", QrCode).image_size.height + 4  # header, status line, footer
        if self.app.size.height < needed:
            text += "\n" + t("payment.page_qr_too_small", height=needed, now_height=self.app.size.height)
        return text

    def on_resize(self) -> None:
        if self.order is not None:
            self.query_one("#pay-url", Static).update(self._page_text(self.order))

    def _result(self, order: PaymentOrder) -> str:
        t = self.t
        if order.status is PaymentStatus.SUCCESS:
            if not order.credited:
                return t("payment.result_success_crediting")
            return t("payment.result_success_public" if self.public else "payment.result_success")
        if order.is_final:
            return t(f"payment.result_{order.status.value}")
        return t("payment.waiting") + "\n" + t("payment.credit_note")


__all__ = ["FORM", "ORDER", "PaymentFlow", "ProviderChoice", "provider_name", "status_text"]
