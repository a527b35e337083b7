"""Response bodies of the account summary and the list of receipts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from portal.billing.schemas import ServiceCharge
from portal.models import PaymentChannel, PaymentPurpose


class AmountDueBreakdown(BaseModel):
    """How the amount due follows from the last receipt and the payments received after it."""

    period: dt.date | None = Field(description="The last receipt's month (first day); null: no receipt.")
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
    period: dt.date | None = Field(description="The last receipt's month (first day).")
    receipt_total_kopecks: int = Field(
        description="«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ»: the block of the last receipt."
    )
    amount_due_kopecks: int = Field(description="Left to pay now: the block amount minus payments since.")
    debt_kopecks: int = Field(description="Signed current balance with the fund.")


class ReadingWindowInfo(BaseModel):
    """When meter readings are accepted."""

    open: bool
    period: dt.date = Field(description="The billing month (first day) readings submitted now are for.")
    always_open: bool = Field(description="Readings are accepted on any day.")
    start_day: int | None = Field(description="First day of the month of the window.")
    end_day: int | None = Field(description="Last day of the month of the window (inclusive).")
    closes_on: dt.date | None = Field(description="Last day readings are accepted (open window).")
    opens_on: dt.date | None = Field(description="Day the window opens next (closed window).")
    message: str


class MeterWarning(BaseModel):
    """A meter whose verification has expired or is due within 60 days."""

    code: Literal["verification_expired", "verification_due"]
    meter_id: int
    service_name: str
    serial_number: str
    date: dt.date = Field(description="The verification date.")
    message: str


class LastPayment(BaseModel):
    """The latest payment received (either purpose)."""

    paid_on: dt.date
    amount_kopecks: int
    channel: PaymentChannel
    purpose: PaymentPurpose


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
    reading_window: ReadingWindowInfo
    warnings: list[MeterWarning]
    last_payment: LastPayment | None


class ReceiptMonth(BaseModel):
    """A month that has a receipt."""

    period: dt.date = Field(description="First day of the receipt's month.")
    total_kopecks: int = Field(
        description="«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ …» (without capital repair)."
    )
    capital_repair_kopecks: int = Field(description="«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ».")


class ReceiptList(BaseModel):
    """Receipts available to the resident, newest first."""

    receipts: list[ReceiptMonth]
