"""All SQL of the histories; every query is filtered by the principal's ``account_id``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.billing import ServiceLine
from portal.models import Charge, Meter, Payee, Payment, Reading, ReadingStatus, Service


@dataclass(frozen=True)
class ReadingRecord:
    """A reading with its meter and service, and the meter's previous accepted value."""

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
    #: The meter's accepted reading just before this one; None for the first one and for a replaced one.
    previous_value: Decimal | None
    rollover: bool
    submitted_at: dt.datetime
    source: str
    status: str


@dataclass(frozen=True)
class PaymentRecord:
    paid_on: dt.date
    amount_kopecks: int
    channel: str
    purpose: str


class HistoryRepository:
    """Reads of one account's readings, payments and charges over a range."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def readings(
        self, account_id: int, first_month: dt.date, last_month: dt.date, meter_id: int | None
    ) -> list[ReadingRecord]:
        """Readings for the periods ``first_month`` … ``last_month``, newest period first.

        One query over the meters' readings up to ``last_month`` (the earlier ones too, so the first
        month of the range has its previous accepted value); each accepted reading's previous accepted
        value is carried along in order. A window function (``LAG``) would do the same in SQL, but
        joining its result back to the replaced readings made SQLite scan it once per row.
        """
        stmt = (
            select(
                Reading.id,
                Reading.meter_id,
                Service.code,
                Service.name,
                Service.unit,
                Meter.serial_number,
                Meter.integer_digits,
                Meter.decimals,
                Reading.period,
                Reading.value,
                Reading.rollover,
                Reading.submitted_at,
                Reading.source,
                Reading.status,
                Service.sort_order,
            )
            .join(Meter, Meter.id == Reading.meter_id)
            .join(Service, Service.id == Meter.service_id)
            .where(Meter.account_id == account_id, Reading.period <= last_month)
            .order_by(Reading.meter_id, Reading.period, Reading.submitted_at, Reading.id)
        )
        if meter_id is not None:
            stmt = stmt.where(Reading.meter_id == meter_id)
        rows = (await self.session.execute(stmt)).all()

        found: list[tuple[int, ReadingRecord]] = []
        current_meter: int | None = None
        previous_accepted: Decimal | None = None
        for row in rows:
            if row[1] != current_meter:
                current_meter, previous_accepted = row[1], None
            value = Decimal(row[9])
            accepted = row[13] == ReadingStatus.ACCEPTED
            if row[8] >= first_month:
                record = ReadingRecord(
                    reading_id=row[0],
                    meter_id=row[1],
                    service_code=row[2],
                    service_name=row[3],
                    unit=row[4],
                    serial_number=row[5],
                    integer_digits=row[6],
                    decimals=row[7],
                    period=row[8],
                    value=value,
                    previous_value=previous_accepted if accepted else None,
                    rollover=bool(row[10]),
                    submitted_at=row[11],
                    source=row[12],
                    status=row[13],
                )
                found.append((row[14], record))
            if accepted:
                previous_accepted = value
        # Newest month first; within a month the receipt's order of services, the latest submission first.
        found.sort(key=lambda item: (item[1].submitted_at, item[1].reading_id), reverse=True)
        found.sort(key=lambda item: (-item[1].period.toordinal(), item[0], item[1].meter_id))
        return [record for _, record in found]

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
