"""Оплата взноса ФКР: the capital repair contribution, paid to the fund separately from the utilities.

Logged in, the amount comes from the summary's capital repair block and the payment is credited to the
apartment's account at the fund. Without login (F6 on the login screen), as the FAQ says: «номер
лицевого счета указанного в квитанции в блоке РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ» first; the portal
answers with the masked address and the amount due, which prefills «Сумма»; «Далее оплата
осуществляется стандартным способом» — the same form, QR code and live status as «Оплата»
(:class:`~screens.payment_base.PaymentFlowScreen`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ContentSwitcher, Input, Label, Static

from screens.base import CallAbandoned, ScreenSpec
from screens.payment_base import FLOW, RECEIPT_CODE, PaymentFlowScreen
from tui.errors import PortalError
from tui.formatting import Money, format_month
from tui.models import (
    AccountSummary,
    CapitalRepairLookup,
    PaymentCode,
    PaymentCodes,
    PaymentOrder,
    PaymentProvider,
    PaymentPurpose,
)
from widgets.filtered_input import account_number_input
from widgets.payment_flow import PaymentFlow
from widgets.receipt_code import ReceiptCodeView

if TYPE_CHECKING:
    import datetime as dt

    from tui.client import PortalClient
    from tui.i18n import Translator

LOOKUP: Final = "capital-repair-lookup"
"""The id of the step «номер лицевого счета» (without login)."""

_ACCOUNT: Final = re.compile(r"\d{6,20}")


class CapitalRepairPaymentScreen(PaymentFlowScreen):
    """«Оплата взноса ФКР», with or without login."""

    SPEC = ScreenSpec(
        "capital_repair_payment",
        "payment.capital_repair",
        help_topic="capital_repair_payment",
        offered_to="everyone",
        menu_key="f8",
        order=60,
    )
    DEFAULT_CSS = """
    CapitalRepairPaymentScreen #capital-repair-lookup { height: 1fr; padding: 0 1; }
    CapitalRepairPaymentScreen #capital-repair-lookup > .intro { height: auto; margin-bottom: 1; }
    CapitalRepairPaymentScreen #capital-repair-account { width: 30; }
    CapitalRepairPaymentScreen #capital-repair-row { height: auto; }
    CapitalRepairPaymentScreen #capital-repair-find { margin-left: 1; min-width: 12; }
    CapitalRepairPaymentScreen #capital-repair-message { height: auto; color: $text-error; text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__()
        #: Paying without login: the fund account is typed, not taken from the session.
        self.public = self.kabinet.account_number is None
        #: The fund account found by the lookup (without login).
        self.lookup: CapitalRepairLookup | None = None

    # --- layout ------------------------------------------------------------------------------------------

    def compose_views(self) -> ComposeResult:
        t = self.t
        with ContentSwitcher(initial=LOOKUP if self.public else FLOW, id="payment-views"):
            with Vertical(id=LOOKUP):
                yield Static(t("payment.capital_repair_intro"), classes="intro", markup=False)
                yield Label(t("payment.capital_repair_account"))
                with Horizontal(id="capital-repair-row"):
                    yield account_number_input(
                        t,
                        field=t("field.capital_repair_account"),
                        id="capital-repair-account",
                        placeholder=False,
                    )
                    yield Button(t("payment.find"), id="capital-repair-find", variant="primary")
                yield Static("", id="capital-repair-message", markup=False)
            yield PaymentFlow(t, id=FLOW, public=self.public)
            yield ReceiptCodeView(t, id=RECEIPT_CODE)

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        if self.public:
            self.query_one("#capital-repair-account", Input).focus()
        else:
            self.flow.focus_form()
            self.load_summary()

    def flow_form_shown(self) -> bool:
        return self.views.current == FLOW and not self.flow.showing_order

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start" and self.public and self.views.current == LOOKUP:
            return True  # F2 on the first step: «Найти»
        return super().check_action(action, parameters)

    def action_start(self) -> None:
        if self.views.current == LOOKUP:
            self._find()
        else:
            super().action_start()

    def action_back(self) -> None:
        if self.views.current == LOOKUP:
            self.app.pop_screen()  # the first step: back to where the visitor came from
            return
        # Without login, Esc on the form goes back to the account number (nothing was paid yet).
        if self.public and self.views.current == FLOW and not self.flow.showing_order:
            self.views.current = LOOKUP
            self.query_one("#capital-repair-account", Input).focus()
            self.refresh_bindings()
            return
        super().action_back()

    # --- what is paid ------------------------------------------------------------------------------------

    async def create(
        self, client: PortalClient, amount: Money, provider: PaymentProvider, idempotency_key: str
    ) -> PaymentOrder:
        if self.public:
            assert self.lookup is not None
            return await client.create_public_capital_repair_payment(
                self.lookup.capital_repair_account, amount, provider, idempotency_key
            )
        return await client.create_payment(PaymentPurpose.CAPITAL_REPAIR, amount, provider, idempotency_key)

    async def fetch(self, client: PortalClient, order_id: str) -> PaymentOrder:
        if self.public:
            return await client.public_payment(order_id)
        return await client.payment(order_id)

    def receipt_code(self, codes: PaymentCodes) -> PaymentCode | None:
        return codes.capital_repair

    def receipt_due(self, summary: AccountSummary) -> tuple[dt.date | None, Money]:
        capital = summary.capital_repair
        if capital is None:
            return None, Money(0)
        return capital.period, capital.amount_due

    def refresh_amount_due(self) -> None:
        if self.public:
            if self.lookup is not None:
                self.find_account(self.lookup.capital_repair_account, move_on=False)
        else:
            self.load_summary()

    # --- logged in ---------------------------------------------------------------------------------------

    def summary_details(self, summary: AccountSummary) -> tuple[str, Money | None]:
        capital = summary.capital_repair
        return capital_repair_details(self.t, summary), None if capital is None else capital.amount_due

    # --- without login: the fund account -----------------------------------------------------------------

    @on(Input.Submitted, "#capital-repair-account")
    @on(Button.Pressed, "#capital-repair-find")
    def _find(self) -> None:
        t = self.t
        number = self.query_one("#capital-repair-account", Input).value.replace(" ", "")
        message = self.query_one("#capital-repair-message", Static)
        field = t("field.capital_repair_account")
        if not number:
            message.update(t("input.required", field=field))
            return
        if not _ACCOUNT.fullmatch(number):
            message.update(
                t("input.field_problem", field=field, problem=t("input.capital_repair_account_invalid"))
            )
            return
        self.find_account(number)

    @work(exclusive=True, group="capital-repair-lookup", exit_on_error=False)
    async def find_account(self, number: str, *, move_on: bool = True) -> None:
        """``GET /public/capital-repair/{number}``: the masked address and the amount due.

        ``move_on``: go on to the payment form (False: only bring the amount due up to date, after a
        payment).
        """
        message = self.query_one("#capital-repair-message", Static)
        button = self.query_one("#capital-repair-find", Button)
        message.update(self.t("payment.finding"))
        button.disabled = True
        try:
            lookup = await self.portal(lambda client: client.public_capital_repair_lookup(number))
        except CallAbandoned:
            message.update("")
            return
        except PortalError as exc:
            message.update(self.error_text(exc))
            return
        finally:
            button.disabled = False
        message.update("")
        if self.lookup is not None and self.lookup.capital_repair_account != lookup.capital_repair_account:
            self.flow.amount_input.value = ""  # another account: its own amount due
            self.flow.forget_prefill()
        self.lookup = lookup
        self.flow.set_details(
            "\n".join(
                [
                    self.t("payment.capital_repair_account_short", account=lookup.capital_repair_account),
                    self.t("payment.address", address=lookup.address_masked),
                    self.t("payment.amount_due", amount=lookup.amount_due),
                ]
            )
        )
        self.flow.prefill(lookup.amount_due)
        if not move_on:
            return
        self.views.current = FLOW
        self.flow.focus_form()
        self.refresh_bindings()


def capital_repair_details(t: Translator, summary: AccountSummary) -> str:
    """The fund, the fund account and the contribution due — or why there is nothing to pay here."""
    capital = summary.capital_repair
    if capital is None:
        return t("payment.no_capital_repair")
    due = (
        t("payment.amount_due_for", month=format_month(capital.period, t.lang), amount=capital.amount_due)
        if capital.period is not None
        else t("payment.amount_due", amount=capital.amount_due)
    )
    return "\n".join(
        [
            f"{t('payment.capital_repair')} · {capital.fund_name}",
            t("payment.capital_repair_account_short", account=capital.account_number),
            due,
        ]
    )


__all__ = ["CapitalRepairPaymentScreen", "capital_repair_details"]
