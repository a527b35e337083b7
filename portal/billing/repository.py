"""All SQL of billing. Every query is filtered by ``account_id``: no function here reads another account.

Sums are computed by the database (``SUM … GROUP BY``), so the cost of a statement does not grow with
the account's history.

Opening balances and penalties (from the billing center's import): a payee's balance before a month is
the latest opening balance of a month up to it (``opening_balances``) plus what was charged — with
recalculations and penalties — minus what was paid from that month on; the history before an opening
balance does not count (the billing center sent what it comes to). Without any opening balance the
whole history counts, as before.

The statements of the account summary are built once, on the tables themselves (no ORM entities):
a request then pays neither statement construction nor ORM row loading.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    ScalarSelect,
    String,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal_column,
    null,
    select,
    union_all,
)

from portal.kit.clock import add_months
from portal.kit.db import read_rows
from portal.kit.repository import Repository
from portal.models import Charge, OpeningBalance, Payee, Payment, PaymentPurpose, Service

_charges = Charge.__table__
_services = Service.__table__
_payments = Payment.__table__
_openings = OpeningBalance.__table__


def latest_charge_period_of(account_id: ColumnElement[int]) -> ScalarSelect[dt.date]:
    """The latest period with any charge of ``account_id`` (the last receipt's month) as a subquery.

    The one definition of "the last receipt", for statements that read it along with other things.
    """
    latest = _charges.alias("latest_charge")
    return select(func.max(latest.c.period)).where(latest.c.account_id == account_id).scalar_subquery()


@dataclass(frozen=True)
class ChargeSums:
    """Charged and recalculated kopecks of one payee over some periods."""

    charged_kopecks: int = 0
    recalculation_kopecks: int = 0
    penalties_kopecks: int = 0
    #: The billing center's opening balance of the period (imported), if it sent one.
    opening_kopecks: int | None = None


@dataclass(frozen=True)
class ServiceLine:
    """One service's charge of one month, with the service's printable names."""

    service_code: str
    service_name: str
    unit: str
    volume: Decimal
    tariff_kopecks: int
    charged_kopecks: int
    recalculation_kopecks: int
    penalties_kopecks: int = 0

    @property
    def total_kopecks(self) -> int:
        """Charged plus recalculation plus penalties: the line's «Итого»."""
        return self.charged_kopecks + self.recalculation_kopecks + self.penalties_kopecks


_account = bindparam("account_id", type_=Integer)
_purpose: BindParameter[str] = bindparam("purpose", type_=String)
_first = bindparam("first", type_=Date)
_last = bindparam("last", type_=Date)

_LATEST_CHARGE_PERIOD = select(latest_charge_period_of(bindparam("account_id")))


# --- the amount due of both payees at once ----------------------------------------------------------


@dataclass(frozen=True)
class DueSums:
    """The sums of one payee around a receipt month ``period`` (see :func:`due_sums`)."""

    #: The latest opening balance of a month up to ``period`` (0 without one), plus charges with
    #: recalculations and penalties of the payee's services from that month (or ever) until ``period``.
    charged_before_kopecks: int = 0
    #: Payments of the payee's purpose dated before ``period`` (from the opening balance's month on).
    paid_before_kopecks: int = 0
    #: … dated within the month of ``period``.
    paid_in_period_kopecks: int = 0
    #: … dated after the month of ``period``, up to ``today``.
    paid_since_kopecks: int = 0
    #: … dated up to ``today``, whatever the month (what counts while there is no receipt yet).
    paid_until_today_kopecks: int = 0


def _sum_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, _payments.c.amount_kopecks), else_=literal_column("0")))


_period = bindparam("period", type_=Date)
_next_period = bindparam("next_period", type_=Date)
_today = bindparam("today", type_=Date)
_ZERO: ColumnElement[int] = literal_column("0")

#: Row kinds of :data:`_DUE_SUMS`: charges by payee, payments by purpose, opening balances by payee.
_CHARGES, _PAYMENTS, _OPENINGS = 0, 1, 2

#: Per payee, the month of the latest opening balance up to the receipt month: the history starts there.
_ANCHORS = (
    select(_openings.c.payee, func.max(_openings.c.period).label("anchor"))
    .where(_openings.c.account_id == bindparam("account_id"), _openings.c.period <= _period)
    .group_by(_openings.c.payee)
    .subquery("anchors")
)
_PAYEE_OF_PURPOSE = case(
    (
        _payments.c.purpose == PaymentPurpose.UTILITIES.value,
        literal_column(f"'{Payee.BILLING_CENTER.value}'"),
    ),
    else_=literal_column(f"'{Payee.CAPITAL_REPAIR_FUND.value}'"),
)
_CHARGE_TOTAL = _charges.c.charged_kopecks + _charges.c.recalculation_kopecks + _charges.c.penalties_kopecks

#: One round trip for both payees: charges before the receipt month by payee, and payments by purpose
#: split at the receipt month's bounds and at today (conditional sums).
_DUE_SUMS = union_all(
    select(
        literal_column(str(_CHARGES)),
        _services.c.payee,
        func.sum(_CHARGE_TOTAL),
        _ZERO,
        _ZERO,
        _ZERO,
        _ZERO,
    )
    .select_from(
        _charges.join(_services, _services.c.id == _charges.c.service_id).outerjoin(
            _ANCHORS, _ANCHORS.c.payee == _services.c.payee
        )
    )
    .where(
        _charges.c.account_id == bindparam("account_id"),
        _charges.c.period < _period,
        _ANCHORS.c.anchor.is_(None) | (_charges.c.period >= _ANCHORS.c.anchor),
    )
    .group_by(_services.c.payee),
    select(
        literal_column(str(_OPENINGS)),
        _openings.c.payee,
        func.sum(_openings.c.balance_kopecks),
        _ZERO,
        _ZERO,
        _ZERO,
        _ZERO,
    )
    .select_from(
        _openings.join(
            _ANCHORS, (_ANCHORS.c.payee == _openings.c.payee) & (_ANCHORS.c.anchor == _openings.c.period)
        )
    )
    .where(_openings.c.account_id == bindparam("account_id"))
    .group_by(_openings.c.payee),
    select(
        literal_column(str(_PAYMENTS)),
        _payments.c.purpose,
        _ZERO,
        _sum_if(
            (_payments.c.paid_on < _period)
            & (_ANCHORS.c.anchor.is_(None) | (_payments.c.paid_on >= _ANCHORS.c.anchor))
        ),
        _sum_if((_payments.c.paid_on >= _period) & (_payments.c.paid_on < _next_period)),
        _sum_if((_payments.c.paid_on >= _next_period) & (_payments.c.paid_on <= _today)),
        _sum_if(_payments.c.paid_on <= _today),
    )
    .select_from(_payments.outerjoin(_ANCHORS, _ANCHORS.c.payee == _PAYEE_OF_PURPOSE))
    .where(_payments.c.account_id == bindparam("account_id"))
    .group_by(_payments.c.purpose),
)


_RECEIPT_LINES = (
    select(
        _services.c.payee,
        _services.c.code,
        _services.c.name,
        _services.c.unit,
        _charges.c.volume,
        _charges.c.tariff_kopecks,
        _charges.c.charged_kopecks,
        _charges.c.recalculation_kopecks,
        _charges.c.penalties_kopecks,
    )
    .select_from(_charges.join(_services, _services.c.id == _charges.c.service_id))
    .where(_charges.c.account_id == bindparam("account_id"), _charges.c.period == bindparam("period"))
    .order_by(_services.c.sort_order, _services.c.id)
)


# --- a statement's sums of one payee, in one round trip -------------------------------------------

#: Row kinds of :data:`_STATEMENT_SUMS`.
_BALANCE_BEFORE, _CHARGES_OF_MONTH, _OPENING_OF_MONTH, _PAID_IN_MONTH = 0, 1, 2, 3

_payee: BindParameter[str] = bindparam("payee", type_=String)
_end = bindparam("end", type_=Date)
_NO_NUMBER: ColumnElement[int] = cast(null(), Integer)


def _year_month(column: ColumnElement[dt.date]) -> tuple[ColumnElement[int], ColumnElement[int]]:
    # Year and month are grouped separately: an expression such as ``year * 12 + month`` would carry a
    # bound parameter, and PostgreSQL does not match ``$1`` in SELECT with ``$2`` in GROUP BY.
    return cast(extract("year", column), Integer), cast(extract("month", column), Integer)


#: The month of the latest opening balance of the payee up to the statement's first month.
_ANCHOR = (
    select(func.max(_openings.c.period))
    .where(_openings.c.account_id == _account, _openings.c.payee == _payee, _openings.c.period <= _first)
    .scalar_subquery()
)
_charge_year, _charge_month = _year_month(_charges.c.period)
_opening_year, _opening_month = _year_month(_openings.c.period)
_paid_year, _paid_month = _year_month(_payments.c.paid_on)
_PAYEES_CHARGES = _charges.join(_services, _services.c.id == _charges.c.service_id)

#: Everything :func:`portal.billing.monthly_statement` needs of the months ``first`` … ``last`` (first
#: days; ``end`` is the month after ``last``): the balance before ``first`` (its opening balance,
#: charges and payments since it), each month's charges, imported opening balances and payments.
_STATEMENT_SUMS = union_all(
    select(
        literal_column(str(_BALANCE_BEFORE)),
        _NO_NUMBER,
        _NO_NUMBER,
        select(func.coalesce(func.sum(_openings.c.balance_kopecks), 0))
        .where(
            _openings.c.account_id == _account,
            _openings.c.payee == _payee,
            _openings.c.period == _ANCHOR,
        )
        .scalar_subquery(),
        select(func.coalesce(func.sum(_CHARGE_TOTAL), 0))
        .select_from(_PAYEES_CHARGES)
        .where(
            _charges.c.account_id == _account,
            _services.c.payee == _payee,
            _charges.c.period < _first,
            _ANCHOR.is_(None) | (_charges.c.period >= _ANCHOR),
        )
        .scalar_subquery(),
        select(func.coalesce(func.sum(_payments.c.amount_kopecks), 0))
        .where(
            _payments.c.account_id == _account,
            _payments.c.purpose == _purpose,
            _payments.c.paid_on < _first,
            _ANCHOR.is_(None) | (_payments.c.paid_on >= _ANCHOR),
        )
        .scalar_subquery(),
    ),
    select(
        literal_column(str(_CHARGES_OF_MONTH)),
        _charge_year,
        _charge_month,
        func.sum(_charges.c.charged_kopecks),
        func.sum(_charges.c.recalculation_kopecks),
        func.sum(_charges.c.penalties_kopecks),
    )
    .select_from(_PAYEES_CHARGES)
    .where(
        _charges.c.account_id == _account,
        _services.c.payee == _payee,
        _charges.c.period >= _first,
        _charges.c.period <= _last,
    )
    .group_by(_charges.c.period),
    select(
        literal_column(str(_OPENING_OF_MONTH)),
        _opening_year,
        _opening_month,
        _openings.c.balance_kopecks,
        _ZERO,
        _ZERO,
    ).where(
        _openings.c.account_id == _account,
        _openings.c.payee == _payee,
        _openings.c.period >= _first,
        _openings.c.period <= _last,
    ),
    select(
        literal_column(str(_PAID_IN_MONTH)),
        _paid_year,
        _paid_month,
        func.sum(_payments.c.amount_kopecks),
        _ZERO,
        _ZERO,
    )
    .where(
        _payments.c.account_id == _account,
        _payments.c.purpose == _purpose,
        _payments.c.paid_on >= _first,
        _payments.c.paid_on < _end,
    )
    .group_by(_paid_year, _paid_month),
)


@dataclass(frozen=True)
class StatementSums:
    """The sums of one payee's statement over some months (see :meth:`BillingRepository.statement_sums`)."""

    #: The balance at the start of the first month.
    balance_before_kopecks: int
    #: Charges (and the imported opening balance, if any) of each month that has them.
    charges: dict[dt.date, ChargeSums]
    #: Payments of the payee's purpose dated within each month that has them.
    paid: dict[dt.date, int]


class BillingRepository(Repository[Charge]):
    """Charges and payments of one account, summed the ways statements, receipts and the amount due need."""

    model = Charge

    async def statement_sums(
        self, account_id: int, payee: Payee, purpose: PaymentPurpose, first: dt.date, last: dt.date
    ) -> StatementSums:
        """The balance of one payee before the month ``first`` (see the module's docstring), and its
        charges, imported opening balances and payments of each month ``first`` … ``last`` (first days),
        in one round trip whatever the number of months."""
        parameters = {
            "account_id": account_id,
            "payee": payee.value,
            "purpose": purpose.value,
            "first": first,
            "last": last,
            "end": add_months(last, 1),
        }
        before = 0
        charged: dict[dt.date, tuple[int, int, int]] = {}
        openings: dict[dt.date, int] = {}
        paid: dict[dt.date, int] = {}
        for kind, year, month, first_sum, second_sum, third_sum in await read_rows(
            self.session, _STATEMENT_SUMS, parameters
        ):
            if kind == _BALANCE_BEFORE:
                before = int(first_sum) + int(second_sum) - int(third_sum)
                continue
            period = dt.date(int(year), int(month), 1)
            if kind == _PAID_IN_MONTH:
                paid[period] = int(first_sum)
            elif kind == _OPENING_OF_MONTH:
                openings[period] = int(first_sum)
            else:
                charged[period] = (int(first_sum), int(second_sum), int(third_sum))
        charges = {
            period: ChargeSums(*charged.get(period, (0, 0, 0)), openings.get(period))
            for period in charged.keys() | openings.keys()
        }
        return StatementSums(before, charges, paid)

    async def latest_charge_period(self, account_id: int) -> dt.date | None:
        """The latest period that has any charge."""
        result = await self.session.execute(_LATEST_CHARGE_PERIOD, {"account_id": account_id})
        period: dt.date | None = result.scalar_one()
        return period

    async def charge_periods(self, account_id: int) -> list[dt.date]:
        """Every period that has a charge, newest first."""
        stmt = (
            select(Charge.period)
            .where(Charge.account_id == account_id)
            .group_by(Charge.period)
            .order_by(Charge.period.desc())
        )
        return list((await self.session.execute(stmt)).scalars())

    async def due_sums(
        self,
        account_id: int,
        period: dt.date | None,
        next_period: dt.date | None,
        today: dt.date,
    ) -> dict[PaymentPurpose, DueSums]:
        """Sums of both payees around the receipt month ``period`` … ``next_period`` (excl.), one query.

        Without a receipt (``period`` None) only ``paid_until_today_kopecks`` is filled.
        """
        rows = await read_rows(
            self.session,
            _DUE_SUMS,
            {"account_id": account_id, "period": period, "next_period": next_period, "today": today},
        )
        charged: dict[str, int] = {}
        paid: dict[str, tuple[int, int, int, int]] = {}
        for kind, key, charged_before, before, in_period, since, until_today in rows:
            if kind in (_CHARGES, _OPENINGS):
                charged[key] = charged.get(key, 0) + int(charged_before)
            else:
                paid[key] = (int(before), int(in_period), int(since), int(until_today))
        sums: dict[PaymentPurpose, DueSums] = {}
        for purpose, payee in (
            (PaymentPurpose.UTILITIES, Payee.BILLING_CENTER),
            (PaymentPurpose.CAPITAL_REPAIR, Payee.CAPITAL_REPAIR_FUND),
        ):
            before, in_period, since, until_today = paid.get(purpose.value, (0, 0, 0, 0))
            sums[purpose] = DueSums(charged.get(payee.value, 0), before, in_period, since, until_today)
        return sums

    async def receipt_lines(self, account_id: int, period: dt.date) -> dict[Payee, list[ServiceLine]]:
        """The charges of one period by payee, each in the receipt's order of services (one query)."""
        lines: dict[Payee, list[ServiceLine]] = {payee: [] for payee in Payee}
        rows = await read_rows(self.session, _RECEIPT_LINES, {"account_id": account_id, "period": period})
        for payee, code, name, unit, volume, tariff, charged, recalc, penalties in rows:
            lines[Payee(payee)].append(
                ServiceLine(
                    service_code=code,
                    service_name=name,
                    unit=unit,
                    volume=Decimal(volume),
                    tariff_kopecks=int(tariff),
                    charged_kopecks=int(charged),
                    recalculation_kopecks=int(recalc),
                    penalties_kopecks=int(penalties),
                )
            )
        return lines
