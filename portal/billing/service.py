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
from portal.billing.repository import BillingRepository, ServiceLine
from portal.kit.clock import add_months, month_start
from portal.models import Payee, PaymentPurpose

__all__ = [
    "AmountDue",
    "ServiceLine",
    "StatementMonth",
    "amount_due",
    "amounts_due",
    "amounts_due_for_receipt",
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
    """One month of the statement: opening + charged + recalculation + penalties − paid = closing.

    Positive balances mean the resident owes; negative ones mean a prepayment. The opening balance is
    the billing center's imported one when it sent one for the month.
    """

    period: dt.date
    opening_kopecks: int
    charged_kopecks: int
    recalculation_kopecks: int
    paid_kopecks: int
    closing_kopecks: int
    penalties_kopecks: int = 0


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
    #: Penalties (пени) charged in the receipt month, a line of their own.
    penalties_kopecks: int = 0


_NO_CHARGES = repository.ChargeSums()


def _statement_month(
    period: dt.date, opening: int, charged: int, recalculation: int, paid: int, penalties: int = 0
) -> StatementMonth:
    """The month's row: its closing balance follows from the other numbers."""
    return StatementMonth(
        period=period,
        opening_kopecks=opening,
        charged_kopecks=charged,
        recalculation_kopecks=recalculation,
        paid_kopecks=paid,
        closing_kopecks=opening + charged + recalculation + penalties - paid,
        penalties_kopecks=penalties,
    )


async def monthly_statement(
    session: AsyncSession,
    account_id: int,
    date_from: dt.date,
    date_to: dt.date,
    purpose: PaymentPurpose,
) -> list[StatementMonth]:
    """The statement month by month for the months of ``date_from`` … ``date_to`` (both included).

    The first month's opening balance is computed in SQL (from the latest imported opening balance, or
    the whole earlier history); each later month opens with the previous closing, or with the billing
    center's opening balance for it when there is one. One query whatever the length of the range.
    """
    first, last = month_start(date_from), month_start(date_to)
    if first > last:
        raise ValueError("date_from is after date_to")
    sums = await BillingRepository(session).statement_sums(
        account_id, payee_for(purpose), purpose, first, last
    )
    opening = sums.balance_before_kopecks
    months: list[StatementMonth] = []
    period = first
    while period <= last:
        charges = sums.charges.get(period, _NO_CHARGES)
        if charges.opening_kopecks is not None:
            opening = charges.opening_kopecks
        month = _statement_month(
            period,
            opening,
            charges.charged_kopecks,
            charges.recalculation_kopecks,
            sums.paid.get(period, 0),
            charges.penalties_kopecks,
        )
        months.append(month)
        opening = month.closing_kopecks
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
    return await BillingRepository(session).latest_charge_period(account_id)


async def receipt_periods(session: AsyncSession, account_id: int) -> list[dt.date]:
    """Months that have a receipt (any charge), newest first."""
    return await BillingRepository(session).charge_periods(account_id)


def _amount_due(
    purpose: PaymentPurpose, period: dt.date | None, sums: repository.DueSums, lines: list[ServiceLine]
) -> AmountDue:
    if period is None:
        # No receipt yet: anything already paid is a prepayment.
        paid = sums.paid_until_today_kopecks
        return AmountDue(purpose, None, 0, 0, 0, 0, 0, paid, 0, -paid, (), 0)
    # The receipt month's row of :func:`monthly_statement`, from the same sums.
    month = _statement_month(
        period,
        sums.charged_before_kopecks - sums.paid_before_kopecks,
        sum(line.charged_kopecks for line in lines),
        sum(line.recalculation_kopecks for line in lines),
        sums.paid_in_period_kopecks,
        sum(line.penalties_kopecks for line in lines),
    )
    paid_since = sums.paid_since_kopecks
    # A prepayment is not a negative amount to pay: the receipt prints 0.
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
        penalties_kopecks=month.penalties_kopecks,
    )


async def amounts_due_for_receipt(
    session: AsyncSession, account_id: int, period: dt.date | None, today: dt.date
) -> dict[PaymentPurpose, AmountDue]:
    """Both payees' :class:`AmountDue` when the last receipt's month is known already (two queries).

    ``period`` must be :func:`last_receipt_period` of the account (callers that read it together with
    other things use :func:`portal.billing.repository.latest_charge_period_of`).
    """
    next_period = add_months(period, 1) if period is not None else None
    repo = BillingRepository(session)
    sums = await repo.due_sums(account_id, period, next_period, today)
    lines = await repo.receipt_lines(account_id, period) if period is not None else {}
    return {
        purpose: _amount_due(purpose, period, sums[purpose], lines.get(payee_for(purpose), []))
        for purpose in PaymentPurpose
    }


async def amounts_due(
    session: AsyncSession, account_id: int, today: dt.date
) -> dict[PaymentPurpose, AmountDue]:
    """Both payees: the last receipt, its total, payments received after it and what is left to pay."""
    period = await last_receipt_period(session, account_id)
    return await amounts_due_for_receipt(session, account_id, period, today)


async def amount_due(session: AsyncSession, account_id: int, today: dt.date) -> AmountDue:
    """Utilities: the last receipt, its total, payments received after it and what is left to pay."""
    return (await amounts_due(session, account_id, today))[PaymentPurpose.UTILITIES]


async def capital_repair_due(session: AsyncSession, account_id: int, today: dt.date) -> AmountDue:
    """The same as :func:`amount_due` for the capital repair contribution."""
    return (await amounts_due(session, account_id, today))[PaymentPurpose.CAPITAL_REPAIR]
