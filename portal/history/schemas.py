"""Response bodies of the histories: readings, payments, charges and payments by month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from portal.billing.schemas import ServiceCharge
from portal.models import PaymentChannel, PaymentPurpose, ReadingSource, ReadingStatus
from portal.periods import Month


class ReadingRow(BaseModel):
    """One submitted reading; a replaced one stays in the history, flagged."""

    reading_id: int
    meter_id: int
    service_code: str
    service_name: str
    unit: str
    serial_number: str
    period: Month = Field(description="The billing month the reading is for.")
    value: Decimal = Field(description="The reading (exact decimal as a string, the meter's decimals).")
    consumption: Decimal | None = Field(
        description=(
            "Accepted readings: this value minus the meter's previous accepted reading (across a "
            "rollover: plus 10^integer digits); null for the meter's first reading and for replaced ones."
        )
    )
    rollover: bool = Field(description="The meter wrapped past 99…9 with this reading.")
    submitted_at: dt.datetime
    source: ReadingSource
    status: ReadingStatus


class ReadingHistory(BaseModel):
    """Readings whose billing month touches the range, newest month first."""

    date_from: dt.date
    date_to: dt.date
    readings: list[ReadingRow]


class PaymentRow(BaseModel):
    """A payment received."""

    paid_on: dt.date
    amount_kopecks: int
    channel: PaymentChannel
    purpose: PaymentPurpose


class PaymentMonth(BaseModel):
    """Payments of one calendar month, by purpose (a bar of the chart)."""

    period: Month
    utilities_kopecks: int
    capital_repair_kopecks: int


class PaymentTotals(BaseModel):
    """Sums of the listed payments by purpose."""

    utilities_kopecks: int
    capital_repair_kopecks: int
    total_kopecks: int


class PaymentHistory(BaseModel):
    """Payments dated within the range (newest first) and monthly sums for a chart.

    ``months`` covers every month touching the range, whole (zeros included); ``payments`` and
    ``totals`` keep to the exact dates. For a range of whole months the two agree.
    """

    date_from: dt.date
    date_to: dt.date
    payments: list[PaymentRow]
    months: list[PaymentMonth]
    totals: PaymentTotals


class StatementMonthRow(BaseModel):
    """One month: opening + charged + recalculation + penalties − paid = closing (positive = owes)."""

    period: Month
    opening_kopecks: int
    charged_kopecks: int
    recalculation_kopecks: int
    penalties_kopecks: int
    paid_kopecks: int
    closing_kopecks: int
    lines: list[ServiceCharge]


class Statement(BaseModel):
    """Charges and payments by month for every month touching the range, oldest first."""

    date_from: dt.date
    date_to: dt.date
    purpose: PaymentPurpose
    months: list[StatementMonthRow]
