"""Rules of the histories: consumption between accepted readings, monthly sums, the statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any

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
from portal.kit.answers import PlainAnswer
from portal.kit.clock import add_months, month_start
from portal.models import PaymentChannel, PaymentPurpose, ReadingStatus
from portal.periods import DateRange, month_text


class _MonthTexts(dict[dt.date, str]):
    """``YYYY-MM`` of each month met, written once per month rather than once per row."""

    def __missing__(self, period: dt.date) -> str:
        text = self[period] = month_text(period)
        return text


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
) -> PlainAnswer:
    """The principal's readings whose billing month touches the range (a meter's only, if given), as a
    :class:`~portal.history.schemas.ReadingHistory`.

    Newest month first; within a month the receipt's order of services, the latest submission first.
    A meter of another account gives an empty history, exactly like a meter that does not exist.
    """
    records = await HistoryRepository(session).readings(principal.account_id, period.last_month, meter_id)
    first_month = period.first_month
    months = _MonthTexts()
    shown: list[tuple[int, int, int, dict[str, Any]]] = []
    current_meter: int | None = None
    previous_accepted: Decimal | None = None
    for record in records:  # each meter's readings in the order they were made
        if record.meter_id != current_meter:
            current_meter, previous_accepted = record.meter_id, None
        if record.period >= first_month:
            # ReadingRow's fields in its order, in their wire form (the answer is not validated again).
            row = {
                "reading_id": record.reading_id,
                "meter_id": record.meter_id,
                "service_code": record.service_code,
                "service_name": record.service_name,
                "unit": record.unit,
                "serial_number": record.serial_number,
                "period": months[record.period],
                "value": _in_meter_format(record.value, record.decimals),
                "consumption": consumption(record, previous_accepted),
                "rollover": bool(record.rollover),
                "submitted_at": record.submitted_at,
                "source": record.source,
                "status": record.status,
            }
            shown.append((-record.period.toordinal(), record.sort_order, record.meter_id, row))
        if record.status == _ACCEPTED:
            previous_accepted = record.value
    # Reversed, each meter's month lists its latest submission first; the stable sort keeps that.
    shown.reverse()
    shown.sort(key=itemgetter(0, 1, 2))
    return PlainAnswer(
        ReadingHistory,
        {"date_from": period.date_from, "date_to": period.date_to, "readings": [item[3] for item in shown]},
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
) -> PlainAnswer:
    """Charges and payments of one payee for every month touching the range, with service lines, as a
    :class:`~portal.history.schemas.Statement`."""
    lines = await HistoryRepository(session).charge_lines(
        principal.account_id, billing.payee_for(purpose), period.first_month, period.last_month
    )
    # The months' sums come from SQL, not from these lines: an imported opening balance of a month is
    # not a line, and it restarts the balance.
    months = await billing.monthly_statement(
        session, principal.account_id, period.date_from, period.date_to, purpose
    )
    # Statement's and StatementMonthRow's fields in their order. Every value but the lines is a number,
    # a date or an ASCII word that JSON writes as it is; the lines come as JSON already.
    body = [
        b'{"date_from":"%s","date_to":"%s","purpose":"%s","months":['
        % (period.date_from.isoformat().encode(), period.date_to.isoformat().encode(), purpose.value.encode())
    ]
    for number, month in enumerate(months):
        body.append(
            b'%s{"period":"%s","opening_kopecks":%d,"charged_kopecks":%d,"recalculation_kopecks":%d,'
            b'"penalties_kopecks":%d,"paid_kopecks":%d,"closing_kopecks":%d,"lines":%s}'
            % (
                b"," if number else b"",
                month_text(month.period).encode(),
                month.opening_kopecks,
                month.charged_kopecks,
                month.recalculation_kopecks,
                month.penalties_kopecks,
                month.paid_kopecks,
                month.closing_kopecks,
                lines.get(month.period, b"[]"),
            )
        )
    body.append(b"]}")
    return PlainAnswer(Statement, b"".join(body))
