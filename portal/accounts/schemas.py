"""Response bodies of the account summary and the list of receipts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.billing.schemas import ServiceCharge
from portal.history.schemas import PaymentRow
from portal.models import PaymentPurpose
from portal.money import KopecksInput
from portal.payments.providers.base import ProviderName
from portal.payments.schemas import PaymentOrderOut
from portal.periods import Month
from portal.readings.schemas import ReadingWindow
from portal.registration.schemas import account_number_field


class AmountDueBreakdown(BaseModel):
    """How the amount due follows from the last receipt and the payments received after it."""

    period: Month | None = Field(description="The last receipt's month; null: no receipt.")
    opening_balance_kopecks: int = Field(description="Balance at the start of that month (входящее сальдо).")
    charged_kopecks: int
    recalculation_kopecks: int
    paid_in_period_kopecks: int = Field(description="Payments received within the receipt's month.")
    receipt_total_kopecks: int = Field(
        description="«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» of that receipt."
    )
    payments_since_kopecks: int = Field(description="Payments received after the receipt's month.")
    lines: list[ServiceCharge]


class Balance(BaseModel):
    """The utilities balance with the billing center."""

    debt_kopecks: int = Field(description="Signed current balance: positive = owes, negative = prepaid.")
    amount_due_kopecks: int = Field(description="Left to pay now: receipt total minus payments since, ≥ 0.")
    breakdown: AmountDueBreakdown


class CapitalRepair(BaseModel):
    """The capital repair contribution: a separate payee with its own account number."""

    account_number: str = Field(description="The apartment's account number at the fund (not the login).")
    fund_name: str
    period: Month | None = Field(description="The last receipt's month; null: no receipt.")
    receipt_total_kopecks: int = Field(
        description="«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ»: the block of the last receipt."
    )
    amount_due_kopecks: int = Field(description="Left to pay now: the block amount minus payments since.")
    debt_kopecks: int = Field(description="Signed current balance with the fund.")


class MeterWarning(BaseModel):
    """A meter whose verification has expired or is due within 60 days."""

    code: Literal["verification_expired", "verification_due"]
    meter_id: int
    service_name: str
    serial_number: str
    date: dt.date = Field(description="The verification date.")
    message: str


class AccountSummary(BaseModel):
    """Everything the resident's start screen shows."""

    account_number: str
    address: str
    owner_name: str
    area_m2: Decimal = Field(description="Total area, m² (exact decimal as a string).")
    residents: int
    balance: Balance
    capital_repair: CapitalRepair | None = Field(
        description="Null when the apartment has no account at the capital repair fund."
    )
    reading_window: ReadingWindow
    warnings: list[MeterWarning]
    last_payment: PaymentRow | None = Field(description="The latest payment received (either purpose).")


class ReceiptMonth(BaseModel):
    """A month that has a receipt."""

    period: Month = Field(description="The receipt's month.")
    total_kopecks: int = Field(
        description="«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ …» (without capital repair)."
    )
    capital_repair_kopecks: int = Field(description="«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ».")


class ReceiptList(BaseModel):
    """Receipts available to the resident, newest first."""

    receipts: list[ReceiptMonth]


# --- several accounts under one login ------------------------------------------------------------------


class AttachRequest(BaseModel):
    """Attach another account to the login: the same proof as registration step 2."""

    model_config = ConfigDict(extra="forbid")

    account_number: str = account_number_field()
    receipt_total_kopecks: KopecksInput = Field(
        description=(
            "«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» of the account's last "
            "receipt (without the capital repair contribution), in kopecks: 1 023,12 ₽ — `102312`."
        ),
        examples=[102312],
        json_schema_extra={"minimum": 0},
    )


class ChooseAccountRequest(BaseModel):
    """The account of the login every other endpoint of this session works on from now."""

    model_config = ConfigDict(extra="forbid")

    account_number: str = account_number_field()


class AttachedAccount(BaseModel):
    """One account of the login, with what is due on it today."""

    account_number: str
    address: str
    own: bool = Field(description="The account the login was registered with (it cannot be detached).")
    current: bool = Field(description="The account this session works on.")
    period: Month | None = Field(description="The last receipt's month; null: no receipt yet.")
    amount_due_kopecks: int = Field(description="Utilities left to pay now (as in `GET /account`), ≥ 0.")
    capital_repair_amount_due_kopecks: int | None = Field(
        description="The capital repair contribution left to pay now; null: no account at the fund."
    )


class AttachedAccounts(BaseModel):
    """Every account of the login (its own first, then in the order attached) for the home screen."""

    accounts: list[AttachedAccount]
    total_due_kopecks: int = Field(description="The sum of `amount_due_kopecks` over the accounts.")
    capital_repair_total_due_kopecks: int = Field(
        description="The sum of `capital_repair_amount_due_kopecks` over the accounts (null counted as 0)."
    )


class PayAllRequest(BaseModel):
    """Pay what is due on every account of the login: one card payment order per account."""

    model_config = ConfigDict(extra="forbid")

    purpose: PaymentPurpose
    provider: ProviderName


class AccountPayment(BaseModel):
    """The order made for one account (or, for a repeated key, the one made before)."""

    account_number: str
    replayed: bool = Field(description="True: the order made by an earlier request with the same key.")
    order: PaymentOrderOut


class PayAllResult(BaseModel):
    """One order per account that had something to pay, in the order of the account list."""

    payments: list[AccountPayment]
    total_kopecks: int = Field(description="The sum of the orders' amounts.")
