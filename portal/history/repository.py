"""All SQL of the histories; every query is filtered by the principal's ``account_id``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, select

from portal.billing import ServiceLine
from portal.kit.repository import Repository
from portal.models import Charge, Meter, Payee, Payment, Reading, Service


class ReadingRecord(NamedTuple):
    """A reading with its meter and service, as stored.

    A named tuple: a 36-month history has a hundred of them or more, made on every request.
    """

    reading_id: int
    meter_id: int
    service_code: str
    service_name: str
    unit: str
    serial_number: str
    integer_digits: int
    decimals: int
    period: dt.date
    value: Decimal
    rollover: bool
    submitted_at: dt.datetime
    source: str
    status: str
    #: The service's place on the receipt.
    sort_order: int


_readings = Reading.__table__
_meters = Meter.__table__
_services = Service.__table__

#: The account's readings up to a month, each meter's in the order they were made (columns in the
#: order of :class:`ReadingRecord`).
_READINGS = (
    select(
        _readings.c.id,
        _readings.c.meter_id,
        _services.c.code,
        _services.c.name,
        _services.c.unit,
        _meters.c.serial_number,
        _meters.c.integer_digits,
        _meters.c.decimals,
        _readings.c.period,
        _readings.c.value,
        _readings.c.rollover,
        _readings.c.submitted_at,
        _readings.c.source,
        _readings.c.status,
        _services.c.sort_order,
    )
    .select_from(
        _readings.join(_meters, _meters.c.id == _readings.c.meter_id).join(
            _services, _services.c.id == _meters.c.service_id
        )
    )
    .where(_meters.c.account_id == bindparam("account_id"), _readings.c.period <= bindparam("last_month"))
    .order_by(_readings.c.meter_id, _readings.c.period, _readings.c.submitted_at, _readings.c.id)
)
_METER_READINGS = _READINGS.where(_readings.c.meter_id == bindparam("meter_id"))


@dataclass(frozen=True)
class PaymentRecord:
    paid_on: dt.date
    amount_kopecks: int
    channel: str
    purpose: str


class HistoryRepository(Repository[Reading]):
    """Reads of one account's readings, payments and charges over a range."""

    model = Reading

    async def readings(
        self, account_id: int, last_month: dt.date, meter_id: int | None
    ) -> list[ReadingRecord]:
        """Every reading of the account's meters (or of one of them) for periods up to ``last_month``.

        Grouped by meter, each meter's in the order they were made (period, then submission): the
        earlier periods come too, so that the first month of a range has its previous accepted value.
        One query; a window function (``LAG``) would find the previous values in SQL, but joining its
        result back to the replaced readings made SQLite scan it once per row.
        """
        parameters = {"account_id": account_id, "last_month": last_month, "meter_id": meter_id}
        rows = await self.session.execute(_READINGS if meter_id is None else _METER_READINGS, parameters)
        return list(map(ReadingRecord._make, rows))

    async def payments(self, account_id: int, first_day: dt.date, last_day: dt.date) -> list[PaymentRecord]:
        """Payments with ``first_day <= paid_on <= last_day``, newest first."""
        stmt = (
            select(Payment.paid_on, Payment.amount_kopecks, Payment.channel, Payment.purpose)
            .where(
                Payment.account_id == account_id,
                Payment.paid_on >= first_day,
                Payment.paid_on <= last_day,
            )
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
        )
        return [
            PaymentRecord(paid_on, int(amount), channel, purpose)
            for paid_on, amount, channel, purpose in (await self.session.execute(stmt)).all()
        ]

    async def charge_lines(
        self, account_id: int, payee: Payee, first_month: dt.date, last_month: dt.date
    ) -> dict[dt.date, list[ServiceLine]]:
        """Every month's charges of one payee in the receipt's order of services, in one query."""
        stmt = (
            select(
                Charge.period,
                Service.code,
                Service.name,
                Service.unit,
                Charge.volume,
                Charge.tariff_kopecks,
                Charge.charged_kopecks,
                Charge.recalculation_kopecks,
            )
            .join(Service, Service.id == Charge.service_id)
            .where(
                Charge.account_id == account_id,
                Service.payee == payee.value,
                Charge.period >= first_month,
                Charge.period <= last_month,
            )
            .order_by(Charge.period, Service.sort_order, Service.id)
        )
        lines: dict[dt.date, list[ServiceLine]] = {}
        for period, code, name, unit, volume, tariff, charged, recalc in await self.session.execute(stmt):
            lines.setdefault(period, []).append(
                ServiceLine(
                    service_code=code,
                    service_name=name,
                    unit=unit,
                    volume=Decimal(volume),
                    tariff_kopecks=int(tariff),
                    charged_kopecks=int(charged),
                    recalculation_kopecks=int(recalc),
                )
            )
        return lines
