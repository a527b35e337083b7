"""The receipt's ГОСТ payment QR code (Р 56042) with its hint and the requisites as text (F3 on «Оплата»)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.formatting import Money, format_month
from tui.payments import REQUISITE_KEYS, gost_fields
from widgets.qr import QrCode

if TYPE_CHECKING:
    import datetime as dt

    from tui.i18n import Translator
    from tui.models import PaymentCode


class ReceiptCodeView(VerticalScroll):
    """The receipt's ГОСТ payment QR code with its hint, and the same requisites as text."""

    DEFAULT_CSS = """
    ReceiptCodeView { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    ReceiptCodeView > Static { height: auto; }
    ReceiptCodeView #receipt-code-title { text-style: bold; }
    ReceiptCodeView #receipt-code-paid { color: $text-warning; text-style: bold; }
    ReceiptCodeView #receipt-code-fit { color: $text-warning; }
    ReceiptCodeView #receipt-code-qr { margin: 1 0; }
    """

    def __init__(self, translator: Translator, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.t = translator
        """Words of the hint and the requisites."""
        self.code: PaymentCode | None = None
        """The payment code shown (None: not loaded, or no receipt)."""

    def compose(self) -> ComposeResult:
        yield Static(self.t("app.loading"), id="receipt-code-title", markup=False)
        yield Static("", id="receipt-code-paid", markup=False)
        yield Static(self.t("payment.qr_hint"), id="receipt-code-hint", markup=False)
        yield Static("", id="receipt-code-fit", markup=False)
        yield QrCode(id="receipt-code-qr")
        yield Static("", id="receipt-code-requisites", markup=False)

    @property
    def qr(self) -> QrCode:
        return self.query_one("#receipt-code-qr", QrCode)

    def show_message(self, text: str) -> None:
        """Loading, an error, or «no receipt yet» in place of the code."""
        self.code = None
        self.query_one("#receipt-code-title", Static).update(text)
        self.query_one("#receipt-code-paid", Static).update("")
        self.qr.set_text("")
        self.query_one("#receipt-code-fit", Static).update("")
        self.query_one("#receipt-code-requisites", Static).update("")

    def show_code(self, period: dt.date, code: PaymentCode, due: Money | None = None) -> None:
        """The month's code, what fits where, and the requisites in words.

        ``due`` is what is left to pay for this receipt now (None: not known): a receipt paid already,
        wholly or in part, says so above its code, which still asks for the receipt's full sum.
        """
        t = self.t
        self.code = code
        month = format_month(period, t.lang)
        self.query_one("#receipt-code-title", Static).update(
            t("payment.receipt_qr_title", month=month, amount=code.amount)
        )
        paid = ""
        if due is not None and due.kopecks <= 0:
            paid = "✓ " + t("payment.receipt_qr_paid", month=month, amount=code.amount)
        elif due is not None and due < code.amount:
            paid = "⚠ " + t("payment.receipt_qr_part_paid", month=month, amount=code.amount, due=due)
        self.query_one("#receipt-code-paid", Static).update(paid)
        self.qr.set_text(code.payload)
        fields = gost_fields(code.payload)
        lines = [
            f"{t(f'payment.requisite_{key}')}: {fields[key]}" for key in REQUISITE_KEYS if fields.get(key)
        ]
        lines.append(f"{t('payment.requisite_Sum')}: {code.amount}")
        self.query_one("#receipt-code-requisites", Static).update("\n".join(lines))
        self.check_fit()

    def needed_size(self) -> tuple[int, int]:
        """Terminal columns × rows in which the whole code shows at once (with header, hint and footer)."""
        size = self.qr.image_size
        return size.width + 3, size.height + 5

    def check_fit(self) -> None:
        """Say how large the window must be when the code cannot show whole in it."""
        fit = self.query_one("#receipt-code-fit", Static)
        if self.code is None:
            fit.update("")
            return
        width, height = self.needed_size()
        screen = self.app.size
        if screen.width < width or screen.height < height:
            fit.update(
                self.t(
                    "payment.receipt_qr_too_small",
                    width=width,
                    height=height,
                    now_width=screen.width,
                    now_height=screen.height,
                )
            )
        else:
            fit.update("")

    def on_resize(self) -> None:
        self.check_fit()
