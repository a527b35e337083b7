"""Оплата: the amount due through A3 or PayMO, with the payment page as a QR code and the live status.

What is shared with «Оплата взноса ФКР» is :class:`~screens.payment_base.PaymentFlowScreen`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from screens.base import ScreenSpec
from screens.payment_base import PaymentFlowScreen
from tui.formatting import Money, format_month
from tui.models import AccountSummary, PaymentOrder, PaymentProvider, PaymentPurpose

if TYPE_CHECKING:
    from tui.client import PortalClient
    from tui.i18n import Translator


class PaymentScreen(PaymentFlowScreen):
    """«Оплата»: the utilities' amount due, prefilled from the account summary."""

    SPEC = ScreenSpec("payment", "payment.title", help_topic="payment", menu_key="f7", order=50)

    def on_mount(self) -> None:
        # Textual runs every class's own on_mount: the base class has none, so no double start.
        self.title = self.t(self.SPEC.title_key)
        self.flow.focus_form()
        self.load_summary()

    async def create(
        self, client: PortalClient, amount: Money, provider: PaymentProvider, idempotency_key: str
    ) -> PaymentOrder:
        return await client.create_payment(PaymentPurpose.UTILITIES, amount, provider, idempotency_key)

    def summary_details(self, summary: AccountSummary) -> tuple[str, Money | None]:
        return utilities_details(self.t, summary), summary.amount_due


def utilities_details(t: Translator, summary: AccountSummary) -> str:
    """«Оплата счета», the account, the amount due and what it is for."""
    period = summary.amount_due_breakdown.period
    due = (
        t("payment.amount_due_for", month=format_month(period, t.lang), amount=summary.amount_due)
        if period is not None
        else t("payment.amount_due", amount=summary.amount_due)
    )
    return "\n".join(
        [t("payment.utilities") + " · " + t("payment.account", account=summary.account_number), due]
    )


__all__ = ["PaymentScreen", "utilities_details"]
