"""Billing rules: the statement identity, the receipt totals and what the resident owes now.

Two payees never mix: the billing center's utilities (paid with purpose ``utilities``) and the capital
repair fund's contribution (purpose ``capital_repair``), a separate block of the receipt that the
registration total leaves out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.billing import repository
from portal.billing.repository import ServiceLine
from portal.clock import add_months, month_start
from portal.models import Payee, PaymentPurpose

__all__ = [
    "AmountDue",
    "ServiceLine",
    "StatementMonth",
    "amount_due",
    "capital_repair_due",
    "capital_repair_total",
    "last_receipt_period",
    "monthly_statement",
    "payee_for",
    "receipt_periods",
    "receipt_total",
]

_PAYEE_BY_PURPOSE = {
    PaymentPurpose.UTILITIES: Payee.BILLING_CENTER,
    PaymentPurpose.CAPITAL_REPAIR: Payee.CAPITAL_REPAIR_FUND,
}


def payee_for(purpose: PaymentPurpose) -> Payee:
    """The payee whose charges a payment of ``purpose`` settles."""
    return _PAYEE_BY_PURPOSE[purpose]


@dataclass(frozen=True)
class StatementMonth:
    """One month of the statement: opening + charged + recalculation − paid = closing.

    Positive balances mean the resident owes; negative ones mean a prepayment.
    """

    period: dt.date
    opening_kopecks: int
    charged_kopecks: int
    recalculation_kopecks: int
    paid_kopecks: int
    closing_kopecks: int


@dataclass(frozen=True)
class AmountDue:
    """What the account summary shows for one payee: the last receipt and what is left to pay now."""

    purpose: PaymentPurpose
    #: The last receipt month (first day), or None when the account has no charges yet.
    period: dt.date | None
    #: Balance at the start of the receipt month (входящее сальдо).
    opening_kopecks: int
    charged_kopecks: int
    recalculation_kopecks: int
    #: Payments dated within the receipt month (they are printed on that receipt).
    paid_in_period_kopecks: int
    #: The receipt's total to pay: max(0, closing balance of the receipt month).
    receipt_total_kopecks: int
    #: Payments dated after the receipt month, up to today.
    paid_since_kopecks: int
    #: Left to pay now: max(0, receipt total − payments since).
    amount_due_kopecks: int
    #: Signed current balance: positive = owes, negative = prepaid.
    debt_kopecks: int
    #: The receipt month's charges per service, in the receipt's order.
    lines: tuple[ServiceLine, ...]


async def monthly_statement(
    session: AsyncSession,
    account_id: int,
    date_from: dt.date,
    date_to: dt.date,
    purpose: PaymentPurpose,
) -> list[StatementMonth]:
    """The statement month by month for the months of ``date_from`` … ``date_to`` (both included).

    The first month's opening balance sums the whole earlier history in SQL; each later month opens
    with the previous closing. Three queries whatever the length of the range or the history.
    """
    first, last = month_start(date_from), month_start(date_to)
    if first > last:
        raise ValueError("date_from is after date_to")
    payee = payee_for(purpose)
    opening = await repository.balance_before(session, account_id, payee, purpose, first)
    charges = await repository.charge_sums_by_period(session, account_id, payee, first, last)
    payments = await repository.payment_sums_by_month(
        session, account_id, purpose, first, add_months(last, 1)
    )

    months: list[StatementMonth] = []
    period = first
    while period <= last:
        sums = charges.get(period, repository.ChargeSums())
        paid = payments.get(period, 0)
        closing = opening + sums.charged_kopecks + sums.recalculation_kopecks - paid
        months.append(
            StatementMonth(
                period=period,
                opening_kopecks=opening,
                charged_kopecks=sums.charged_kopecks,
                recalculation_kopecks=sums.recalculation_kopecks,
                paid_kopecks=paid,
                closing_kopecks=closing,
            )
        )
        opening = closing
        period = add_months(period, 1)
    return months


async def _closing_total(
    session: AsyncSession, account_id: int, period: dt.date, purpose: PaymentPurpose
) -> int:
    (month,) = await monthly_statement(session, account_id, period, period, purpose)
    # A prepayment is not a negative amount to pay: the receipt prints 0.
    return max(0, month.closing_kopecks)


async def receipt_total(session: AsyncSession, account_id: int, period: dt.date) -> int:
    """«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» of the receipt for ``period``.

    The one definition of this amount: registration step 2 compares the resident's input with it and
    the receipt PDF prints it. Utilities only — the capital repair contribution is excluded.
    """
    return await _closing_total(session, account_id, period, PaymentPurpose.UTILITIES)


async def capital_repair_total(session: AsyncSession, account_id: int, period: dt.date) -> int:
    """The receipt's separate block «РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ» for ``period``."""
    return await _closing_total(session, account_id, period, PaymentPurpose.CAPITAL_REPAIR)


async def last_receipt_period(session: AsyncSession, account_id: int) -> dt.date | None:
    """The latest month with charges (the last receipt), or None for an account without charges."""
    return await repository.latest_charge_period(session, account_id)


async def receipt_periods(session: AsyncSession, account_id: int) -> list[dt.date]:
    """Months that have a receipt (any charge), newest first."""
    return await repository.charge_periods(session, account_id)


async def _due(session: AsyncSession, account_id: int, today: dt.date, purpose: PaymentPurpose) -> AmountDue:
    period = await last_receipt_period(session, account_id)
    if period is None:
        # No receipt yet: anything already paid is a prepayment.
        paid = await repository.payments_total(session, account_id, purpose, None, today)
        return AmountDue(purpose, None, 0, 0, 0, 0, 0, paid, 0, -paid, ())
    (month,) = await monthly_statement(session, account_id, period, period, purpose)
    month_end = add_months(period, 1) - dt.timedelta(days=1)
    paid_since = await repository.payments_total(session, account_id, purpose, month_end, today)
    lines = await repository.charge_lines(session, account_id, period, payee_for(purpose))
    total = max(0, month.closing_kopecks)
    return AmountDue(
        purpose=purpose,
        period=period,
        opening_kopecks=month.opening_kopecks,
        charged_kopecks=month.charged_kopecks,
        recalculation_kopecks=month.recalculation_kopecks,
        paid_in_period_kopecks=month.paid_kopecks,
        receipt_total_kopecks=total,
        paid_since_kopecks=paid_since,
        amount_due_kopecks=max(0, total - paid_since),
        debt_kopecks=month.closing_kopecks - paid_since,
        lines=tuple(lines),
    )


async def amount_due(session: AsyncSession, account_id: int, today: dt.date) -> AmountDue:
    """Utilities: the last receipt, its total, payments received after it and what is left to pay."""
    return await _due(session, account_id, today, PaymentPurpose.UTILITIES)


async def capital_repair_due(session: AsyncSession, account_id: int, today: dt.date) -> AmountDue:
    """The same as :func:`amount_due` for the capital repair contribution."""
    return await _due(session, account_id, today, PaymentPurpose.CAPITAL_REPAIR)
