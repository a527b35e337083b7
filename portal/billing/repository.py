"""All SQL of billing. Every query is filtered by ``account_id``: no function here reads another account.

Sums are computed by the database (``SUM … GROUP BY``), so the cost of a statement does not grow with
the account's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Integer, cast, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Charge, Payee, Payment, PaymentPurpose, Service


@dataclass(frozen=True)
class ChargeSums:
    """Charged and recalculated kopecks of one payee over some periods."""

    charged_kopecks: int = 0
    recalculation_kopecks: int = 0


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

    @property
    def total_kopecks(self) -> int:
        """Charged plus recalculation: the line's «Итого»."""
        return self.charged_kopecks + self.recalculation_kopecks


async def balance_before(
    session: AsyncSession, account_id: int, payee: Payee, purpose: PaymentPurpose, before: dt.date
) -> int:
    """Charges (with recalculations) minus payments of one payee dated before ``before``.

    One round trip: both sums are scalar subqueries of a single SELECT.
    """
    charged = (
        select(func.coalesce(func.sum(Charge.charged_kopecks + Charge.recalculation_kopecks), 0))
        .join(Service, Service.id == Charge.service_id)
        .where(Charge.account_id == account_id, Service.payee == payee.value, Charge.period < before)
        .scalar_subquery()
    )
    paid = (
        select(func.coalesce(func.sum(Payment.amount_kopecks), 0))
        .where(
            Payment.account_id == account_id,
            Payment.purpose == purpose.value,
            Payment.paid_on < before,
        )
        .scalar_subquery()
    )
    row = (await session.execute(select(charged, paid))).one()
    return int(row[0]) - int(row[1])


async def charge_sums_by_period(
    session: AsyncSession, account_id: int, payee: Payee, first: dt.date, last: dt.date
) -> dict[dt.date, ChargeSums]:
    """Charged and recalculated sums of one payee per period, for periods in ``[first, last]``."""
    stmt = (
        select(
            Charge.period,
            func.coalesce(func.sum(Charge.charged_kopecks), 0),
            func.coalesce(func.sum(Charge.recalculation_kopecks), 0),
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
    rows = (await session.execute(stmt)).all()
    return {period: ChargeSums(int(charged), int(recalc)) for period, charged, recalc in rows}


async def payment_sums_by_month(
    session: AsyncSession, account_id: int, purpose: PaymentPurpose, first: dt.date, end: dt.date
) -> dict[dt.date, int]:
    """Payments of one purpose per calendar month (keyed by its first day), ``first <= paid_on < end``."""
    # Year and month are grouped separately: an expression such as ``year * 12 + month`` would carry a
    # bound parameter, and PostgreSQL does not match ``$1`` in SELECT with ``$2`` in GROUP BY.
    year = cast(extract("year", Payment.paid_on), Integer)
    month = cast(extract("month", Payment.paid_on), Integer)
    stmt = (
        select(year, month, func.coalesce(func.sum(Payment.amount_kopecks), 0))
        .where(
            Payment.account_id == account_id,
            Payment.purpose == purpose.value,
            Payment.paid_on >= first,
            Payment.paid_on < end,
        )
        .group_by(year, month)
    )
    rows = (await session.execute(stmt)).all()
    return {dt.date(int(y), int(m), 1): int(total) for y, m, total in rows}


async def payments_total(
    session: AsyncSession, account_id: int, purpose: PaymentPurpose, after: dt.date | None, until: dt.date
) -> int:
    """Payments of one purpose with ``after < paid_on <= until`` (no lower bound when ``after`` is None)."""
    stmt = select(func.coalesce(func.sum(Payment.amount_kopecks), 0)).where(
        Payment.account_id == account_id,
        Payment.purpose == purpose.value,
        Payment.paid_on <= until,
    )
    if after is not None:
        stmt = stmt.where(Payment.paid_on > after)
    return int((await session.execute(stmt)).scalar_one())


async def latest_charge_period(session: AsyncSession, account_id: int) -> dt.date | None:
    """The latest period that has any charge."""
    stmt = select(func.max(Charge.period)).where(Charge.account_id == account_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def charge_periods(session: AsyncSession, account_id: int) -> list[dt.date]:
    """Every period that has a charge, newest first."""
    stmt = (
        select(Charge.period)
        .where(Charge.account_id == account_id)
        .group_by(Charge.period)
        .order_by(Charge.period.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def charge_lines(
    session: AsyncSession, account_id: int, period: dt.date, payee: Payee
) -> list[ServiceLine]:
    """The charges of one period and payee, in the receipt's order of services."""
    stmt = (
        select(
            Service.code,
            Service.name,
            Service.unit,
            Charge.volume,
            Charge.tariff_kopecks,
            Charge.charged_kopecks,
            Charge.recalculation_kopecks,
        )
        .join(Service, Service.id == Charge.service_id)
        .where(Charge.account_id == account_id, Charge.period == period, Service.payee == payee.value)
        .order_by(Service.sort_order, Service.id)
    )
    rows = (await session.execute(stmt)).all()
    return [
        ServiceLine(
            service_code=code,
            service_name=name,
            unit=unit,
            volume=Decimal(volume),
            tariff_kopecks=int(tariff),
            charged_kopecks=int(charged),
            recalculation_kopecks=int(recalc),
        )
        for code, name, unit, volume, tariff, charged, recalc in rows
    ]
