"""Rules of the histories: consumption between accepted readings, monthly sums, the statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.service import Principal
from portal.billing import service as billing
from portal.history.repository import HistoryRepository, ReadingRecord
from portal.history.schemas import (
    PaymentHistory,
    PaymentMonth,
    PaymentRow,
    PaymentTotals,
    ReadingHistory,
    Statement,
)
from portal.kit.clock import add_months, month_start
from portal.models import PaymentChannel, PaymentPurpose, ReadingStatus
from portal.periods import DateRange


class _ShownReading(NamedTuple):
    """A row of :class:`ReadingRow`, validated all at once with the answer (as a dict)."""

    reading_id: int
    meter_id: int
    service_code: str
    service_name: str
    unit: str
    serial_number: str
    period: dt.date
    value: Decimal
    consumption: Decimal | None
    rollover: bool
    submitted_at: dt.datetime
    source: str
    status: str


#: The stored status of an accepted reading (a plain string: an enum member's lookup costs more per row).
_ACCEPTED = ReadingStatus.ACCEPTED.value


@cache
def _quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def _in_meter_format(value: Decimal, decimals: int) -> Decimal:
    """The value with exactly the meter's number of decimals (``123.450`` on a 3-decimal meter)."""
    return value.quantize(_quantum(decimals))


def consumption(record: ReadingRecord, previous_accepted: Decimal | None) -> Decimal | None:
    """Consumption since the meter's previous accepted reading; None when there is nothing to compare.

    Only an accepted reading has one (a replaced one does not count). A rollover reading wrapped past
    99…9: the meter counted up to ``10 ** integer_digits`` and on.
    """
    if record.status != _ACCEPTED or previous_accepted is None:
        return None
    difference = record.value - previous_accepted
    if record.rollover and difference < 0:
        difference += Decimal(10) ** record.integer_digits
    return _in_meter_format(difference, record.decimals)


async def reading_history(
    session: AsyncSession, principal: Principal, period: DateRange, meter_id: int | None
) -> ReadingHistory:
    """The principal's readings whose billing month touches the range (a meter's only, if given).

    Newest month first; within a month the receipt's order of services, the latest submission first.
    A meter of another account gives an empty history, exactly like a meter that does not exist.
    """
    records = await HistoryRepository(session).readings(principal.account_id, period.last_month, meter_id)
    first_month = period.first_month
    shown: list[tuple[int, _ShownReading]] = []
    current_meter: int | None = None
    previous_accepted: Decimal | None = None
    for record in records:  # each meter's readings in the order they were made
        if record.meter_id != current_meter:
            current_meter, previous_accepted = record.meter_id, None
        if record.period >= first_month:
            row = _ShownReading(
                record.reading_id,
                record.meter_id,
                record.service_code,
                record.service_name,
                record.unit,
                record.serial_number,
                record.period,
                _in_meter_format(record.value, record.decimals),
                consumption(record, previous_accepted),
                bool(record.rollover),
                record.submitted_at,
                record.source,
                record.status,
            )
            shown.append((record.sort_order, row))
        if record.status == _ACCEPTED:
            previous_accepted = record.value
    # Reversed, each meter's month lists its latest submission first; the stable sort keeps that.
    shown.reverse()
    shown.sort(key=lambda item: (-item[1].period.toordinal(), item[0], item[1].meter_id))
    # One validation of the whole answer: per-row model construction costs twice as much, and
    # validating from attributes a third more than from dicts.
    return ReadingHistory.model_validate(
        {
            "date_from": period.date_from,
            "date_to": period.date_to,
            "readings": [row._asdict() for _, row in shown],
        }
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
    lines = await HistoryRepository(session).charge_lines(
        principal.account_id, billing.payee_for(purpose), period.first_month, period.last_month
    )
    # The months' sums come from SQL, not from these lines: an imported opening balance of a month is
    # not a line, and it restarts the balance.
    months = await billing.monthly_statement(
        session, principal.account_id, period.date_from, period.date_to, purpose
    )
    # One validation of the whole answer, from dicts (as the reading history).
    return Statement.model_validate(
        {
            "date_from": period.date_from,
            "date_to": period.date_to,
            "purpose": purpose,
            "months": [
                {
                    "period": month.period,
                    "opening_kopecks": month.opening_kopecks,
                    "charged_kopecks": month.charged_kopecks,
                    "recalculation_kopecks": month.recalculation_kopecks,
                    "penalties_kopecks": month.penalties_kopecks,
                    "paid_kopecks": month.paid_kopecks,
                    "closing_kopecks": month.closing_kopecks,
                    "lines": lines.get(month.period, []),
                }
                for month in months
            ],
        }
    )
