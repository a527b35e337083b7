"""Response bodies of the account summary and the list of receipts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from portal.billing.schemas import ServiceCharge
from portal.history.schemas import PaymentRow
from portal.periods import Month
from portal.readings.schemas import ReadingWindow


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
