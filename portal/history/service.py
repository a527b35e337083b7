"""Rules of the histories: consumption between accepted readings, monthly sums, the statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from portal import billing
from portal.auth.service import Principal
from portal.clock import add_months, month_start
from portal.history.repository import HistoryRepository, ReadingRecord
from portal.history.schemas import (
    PaymentHistory,
    PaymentMonth,
    PaymentRow,
    PaymentTotals,
    ReadingHistory,
    ReadingRow,
    Statement,
    StatementLine,
    StatementMonthRow,
)
from portal.models import PaymentChannel, PaymentPurpose, ReadingSource, ReadingStatus
from portal.periods import DateRange


def _in_meter_format(value: Decimal, decimals: int) -> Decimal:
    """The value with exactly the meter's number of decimals (``123.450`` on a 3-decimal meter)."""
    return value.quantize(Decimal(1).scaleb(-decimals))


def consumption(record: ReadingRecord) -> Decimal | None:
    """Consumption since the meter's previous accepted reading; None when there is nothing to compare.

    A rollover reading wrapped past 99…9: the meter counted up to ``10 ** integer_digits`` and on.
    """
    if record.status != ReadingStatus.ACCEPTED or record.previous_value is None:
        return None
    difference = record.value - record.previous_value
    if record.rollover and difference < 0:
        difference += Decimal(10) ** record.integer_digits
    return _in_meter_format(difference, record.decimals)


async def reading_history(
    session: AsyncSession, principal: Principal, period: DateRange, meter_id: int | None
) -> ReadingHistory:
    """The principal's readings whose billing month touches the range (a meter's only, if given).

    A meter of another account gives an empty history, exactly like a meter that does not exist.
    """
    records = await HistoryRepository(session).readings(
        principal.account_id, period.first_month, period.last_month, meter_id
    )
    return ReadingHistory(
        date_from=period.date_from,
        date_to=period.date_to,
        readings=[
            ReadingRow(
                reading_id=record.reading_id,
                meter_id=record.meter_id,
                service_code=record.service_code,
                service_name=record.service_name,
                unit=record.unit,
                serial_number=record.serial_number,
                period=record.period,
                value=_in_meter_format(record.value, record.decimals),
                consumption=consumption(record),
                rollover=record.rollover,
                submitted_at=record.submitted_at,
                source=ReadingSource(record.source),
                status=ReadingStatus(record.status),
            )
            for record in records
        ],
    )


async def payment_history(session: AsyncSession, principal: Principal, period: DateRange) -> PaymentHistory:
    """Payments of the range, newest first, with sums by whole month and by purpose.

    One query over the whole months; the list and its totals then keep to the exact dates.
    """
    last_day = add_months(period.last_month, 1) - dt.timedelta(days=1)
    records = await HistoryRepository(session).payments(principal.account_id, period.first_month, last_day)

    by_month: dict[dt.date, dict[PaymentPurpose, int]] = {
        month: dict.fromkeys(PaymentPurpose, 0) for month in period.months()
    }
    totals = dict.fromkeys(PaymentPurpose, 0)
    rows: list[PaymentRow] = []
    for record in records:
        purpose = PaymentPurpose(record.purpose)
        by_month[month_start(record.paid_on)][purpose] += record.amount_kopecks
        if period.date_from <= record.paid_on <= period.date_to:
            totals[purpose] += record.amount_kopecks
            rows.append(
                PaymentRow(
                    paid_on=record.paid_on,
                    amount_kopecks=record.amount_kopecks,
                    channel=PaymentChannel(record.channel),
                    purpose=purpose,
                )
            )
    return PaymentHistory(
        date_from=period.date_from,
        date_to=period.date_to,
        payments=rows,
        months=[
            PaymentMonth(
                period=month,
                utilities_kopecks=sums[PaymentPurpose.UTILITIES],
                capital_repair_kopecks=sums[PaymentPurpose.CAPITAL_REPAIR],
            )
            for month, sums in by_month.items()
        ],
        totals=PaymentTotals(
            utilities_kopecks=totals[PaymentPurpose.UTILITIES],
            capital_repair_kopecks=totals[PaymentPurpose.CAPITAL_REPAIR],
            total_kopecks=sum(totals.values()),
        ),
    )


async def statement(
    session: AsyncSession, principal: Principal, period: DateRange, purpose: PaymentPurpose
) -> Statement:
    """Charges and payments of one payee for every month touching the range, with service lines."""
    months = await billing.monthly_statement(
        session, principal.account_id, period.date_from, period.date_to, purpose
    )
    lines = await HistoryRepository(session).charge_lines(
        principal.account_id, billing.payee_for(purpose), period.first_month, period.last_month
    )
    return Statement(
        date_from=period.date_from,
        date_to=period.date_to,
        purpose=purpose,
        months=[
            StatementMonthRow(
                period=month.period,
                opening_kopecks=month.opening_kopecks,
                charged_kopecks=month.charged_kopecks,
                recalculation_kopecks=month.recalculation_kopecks,
                paid_kopecks=month.paid_kopecks,
                closing_kopecks=month.closing_kopecks,
                lines=[
                    StatementLine(
                        service_code=line.service_code,
                        service_name=line.service_name,
                        unit=line.unit,
                        volume=line.volume,
                        tariff_kopecks=line.tariff_kopecks,
                        charged_kopecks=line.charged_kopecks,
                        recalculation_kopecks=line.recalculation_kopecks,
                    )
                    for line in lines.get(month.period, [])
                ],
            )
            for month in months
        ],
    )
