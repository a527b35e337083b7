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
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    ScalarSelect,
    Select,
    String,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal_column,
    select,
    union_all,
)

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

# Year and month are grouped separately: an expression such as ``year * 12 + month`` would carry a
# bound parameter, and PostgreSQL does not match ``$1`` in SELECT with ``$2`` in GROUP BY.
_year = cast(extract("year", _payments.c.paid_on), Integer)
_month = cast(extract("month", _payments.c.paid_on), Integer)
_PAYMENT_SUMS_BY_MONTH = (
    select(_year, _month, func.coalesce(func.sum(_payments.c.amount_kopecks), 0))
    .where(
        _payments.c.account_id == _account,
        _payments.c.purpose == _purpose,
        _payments.c.paid_on >= _first,
        _payments.c.paid_on < _last,
    )
    .group_by(_year, _month)
)


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


class BillingRepository(Repository[Charge]):
    """Charges and payments of one account, summed the ways statements, receipts and the amount due need."""

    model = Charge

    async def balance_before(
        self, account_id: int, payee: Payee, purpose: PaymentPurpose, before: dt.date
    ) -> int:
        """The balance of one payee at the start of the month ``before`` (see the module's docstring).

        One round trip: the opening balance and both sums are scalar subqueries of a single SELECT.
        """
        anchor = (
            select(func.max(OpeningBalance.period))
            .where(
                OpeningBalance.account_id == account_id,
                OpeningBalance.payee == payee.value,
                OpeningBalance.period <= before,
            )
            .scalar_subquery()
        )
        opening = (
            select(func.coalesce(func.sum(OpeningBalance.balance_kopecks), 0))
            .where(
                OpeningBalance.account_id == account_id,
                OpeningBalance.payee == payee.value,
                OpeningBalance.period == anchor,
            )
            .scalar_subquery()
        )
        charged = (
            select(func.coalesce(func.sum(_CHARGE_TOTAL), 0))
            .select_from(_charges.join(_services, _services.c.id == _charges.c.service_id))
            .where(
                _charges.c.account_id == account_id,
                _services.c.payee == payee.value,
                _charges.c.period < before,
                anchor.is_(None) | (_charges.c.period >= anchor),
            )
            .scalar_subquery()
        )
        paid = (
            select(func.coalesce(func.sum(Payment.amount_kopecks), 0))
            .where(
                Payment.account_id == account_id,
                Payment.purpose == purpose.value,
                Payment.paid_on < before,
                anchor.is_(None) | (Payment.paid_on >= anchor),
            )
            .scalar_subquery()
        )
        row = (await self.session.execute(select(opening, charged, paid))).one()
        return int(row[0]) + int(row[1]) - int(row[2])

    async def charge_sums_by_period(
        self, account_id: int, payee: Payee, first: dt.date, last: dt.date
    ) -> dict[dt.date, ChargeSums]:
        """Charged, recalculated and penalty sums of one payee per period in ``[first, last]``, with the
        imported opening balance of the period when there is one (one query)."""
        charges: Select[Any] = (
            select(
                Charge.period,
                func.coalesce(func.sum(Charge.charged_kopecks), 0),
                func.coalesce(func.sum(Charge.recalculation_kopecks), 0),
                func.coalesce(func.sum(Charge.penalties_kopecks), 0),
                literal_column("NULL"),
            )
            .join(Service, Service.id == Charge.service_id)
            .where(
                Charge.account_id == account_id,
                Service.payee == payee.value,
                Charge.period >= first,
                Charge.period <= last,
            )
            .group_by(Charge.period)
        )
        openings = select(OpeningBalance.period, _ZERO, _ZERO, _ZERO, OpeningBalance.balance_kopecks).where(
            OpeningBalance.account_id == account_id,
            OpeningBalance.payee == payee.value,
            OpeningBalance.period >= first,
            OpeningBalance.period <= last,
        )
        sums: dict[dt.date, ChargeSums] = {}
        for period, charged, recalc, penalties, opening in await self.session.execute(
            union_all(charges, openings)
        ):
            known = sums.get(period, ChargeSums())
            sums[period] = ChargeSums(
                known.charged_kopecks + int(charged),
                known.recalculation_kopecks + int(recalc),
                known.penalties_kopecks + int(penalties),
                known.opening_kopecks if opening is None else int(opening),
            )
        return sums

    async def payment_sums_by_month(
        self, account_id: int, purpose: PaymentPurpose, first: dt.date, end: dt.date
    ) -> dict[dt.date, int]:
        """Payments of one purpose per calendar month (keyed by its first day), ``first <= paid_on < end``."""
        parameters = {"account_id": account_id, "purpose": purpose.value, "first": first, "last": end}
        rows = (await self.session.execute(_PAYMENT_SUMS_BY_MONTH, parameters)).all()
        return {dt.date(int(y), int(m), 1): int(total) for y, m, total in rows}

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
        rows = await self.session.execute(
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
        rows = await self.session.execute(_RECEIPT_LINES, {"account_id": account_id, "period": period})
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
