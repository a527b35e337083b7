"""SQL of meters and readings, always filtered by the account.

The statements of a submission are built once, on the tables themselves (no ORM entities), and a
submission writes all its readings together: a handful of statements whatever the number of meters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import BindParameter, Row, Table, and_, bindparam, func, insert, select, update

from portal.kit.repository import AccountRepository
from portal.models import Meter, Reading, ReadingStatus, Service

#: Readings per meter loaded for the rules: this period's, the previous one and 12 more for the average.
HISTORY_DEPTH = 14

_meters = cast(Table, Meter.__table__)
_services = cast(Table, Service.__table__)
_readings = cast(Table, Reading.__table__)


@dataclass(frozen=True)
class ServiceRecord:
    """The service a meter counts, with what the rules need of it."""

    code: str
    name: str
    unit: str
    #: Consumption per month above which a reading must be confirmed (None: no such limit).
    implausible_monthly_limit: Decimal | None


@dataclass(frozen=True)
class MeterRecord:
    """A meter of the account and its service."""

    id: int
    service: ServiceRecord
    serial_number: str
    integer_digits: int
    decimals: int
    next_verification_on: dt.date


@dataclass(frozen=True)
class ReadingRecord:
    """A stored accepted reading."""

    id: int
    meter_id: int
    period: dt.date
    value: Decimal
    submitted_at: dt.datetime
    source: str
    rollover: bool
    needs_review: bool


@dataclass(frozen=True)
class MeterWithHistory:
    """A meter with its latest accepted readings up to a period, oldest first."""

    meter: MeterRecord
    accepted: list[ReadingRecord] = field(default_factory=list)


@dataclass(frozen=True)
class NewReading:
    """An accepted reading to store; ``replacing`` is the id of this period's earlier accepted one."""

    meter_id: int
    period: dt.date
    value: Decimal
    submitted_at: dt.datetime
    source: str
    rollover: bool
    needs_review: bool
    replacing: int | None = None


#: Named apart from the column: an UPDATE reserves column names for its SET clause.
_account_id: BindParameter[int] = bindparam("account")

#: The account's meters locked in id order (PostgreSQL: two submissions cannot deadlock; SQLite has
#: no FOR UPDATE and drops it) and marked; an UPDATE, so that on SQLite too the transaction holds the
#: write lock before anything is read.
_LOCK_METERS = (
    update(_meters)
    .where(
        _meters.c.id.in_(
            select(_meters.c.id)
            .where(_meters.c.account_id == _account_id)
            .order_by(_meters.c.id)
            .with_for_update()
        )
    )
    .values(lock_version=_meters.c.lock_version + 1)
)

_METER_COLUMNS = (
    _meters.c.id,
    _services.c.code,
    _services.c.name,
    _services.c.unit,
    _services.c.implausible_monthly_limit,
    _meters.c.serial_number,
    _meters.c.integer_digits,
    _meters.c.decimals,
    _meters.c.next_verification_on,
)

_METERS = (
    select(*_METER_COLUMNS)
    .select_from(_meters.join(_services, _services.c.id == _meters.c.service_id))
    .where(_meters.c.account_id == _account_id)
    .order_by(_meters.c.id)
)

_recent = (
    select(
        _readings.c.id,
        _readings.c.meter_id,
        _readings.c.period,
        _readings.c.value,
        _readings.c.submitted_at,
        _readings.c.source,
        _readings.c.rollover,
        _readings.c.needs_review,
        func.row_number()
        .over(partition_by=_readings.c.meter_id, order_by=_readings.c.period.desc())
        .label("position"),
    )
    .select_from(_readings.join(_meters, _meters.c.id == _readings.c.meter_id))
    .where(
        _meters.c.account_id == _account_id,
        _readings.c.status == ReadingStatus.ACCEPTED.value,
        _readings.c.period <= bindparam("period"),
    )
    .subquery("recent")
)

#: Each meter on as many rows as it has recent accepted readings (at least one, without a reading).
_METERS_WITH_HISTORY = (
    select(
        *_METER_COLUMNS,
        _recent.c.id,
        _recent.c.period,
        _recent.c.value,
        _recent.c.submitted_at,
        _recent.c.source,
        _recent.c.rollover,
        _recent.c.needs_review,
    )
    .select_from(
        _meters.join(_services, _services.c.id == _meters.c.service_id).outerjoin(
            _recent, and_(_recent.c.meter_id == _meters.c.id, _recent.c.position <= HISTORY_DEPTH)
        )
    )
    .where(_meters.c.account_id == _account_id)
    .order_by(_meters.c.id, _recent.c.period)
)

_MARK_REPLACED = (
    update(_readings)
    .where(_readings.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=ReadingStatus.REPLACED.value)
)
#: One multi-row INSERT; the new ids are matched by meter (a submission has one reading per meter),
#: since not every backend returns RETURNING rows in the order of the VALUES.
_INSERT_READINGS = insert(_readings).returning(_readings.c.meter_id, _readings.c.id)
_LINK_REPLACED = (
    update(_readings).where(_readings.c.id == bindparam("old_id")).values(replaced_by_id=bindparam("new_id"))
)


def _meter(row: Row[Any]) -> MeterRecord:
    meter_id, code, name, unit, limit, serial_number, integer_digits, decimals, verification_on = row[:9]
    return MeterRecord(
        id=meter_id,
        service=ServiceRecord(code, name, unit, limit),
        serial_number=serial_number,
        integer_digits=integer_digits,
        decimals=decimals,
        next_verification_on=verification_on,
    )


class ReadingsRepository(AccountRepository[Reading]):
    """Meters and readings of one account."""

    model = Reading

    async def lock_meters(self) -> None:
        """Serialize submissions of this account: check and write become one step.

        PostgreSQL: row locks on the account's meters, always taken in id order so two submissions
        cannot deadlock; they are held until the transaction ends. SQLite has a single connection,
        so transactions already run one at a time. ``lock_version`` records the submission.
        """
        await self.session.execute(_LOCK_METERS, {"account": self.account_id})

    async def meters(self) -> list[MeterRecord]:
        """The account's meters with their services, in id order."""
        rows = await self.session.execute(_METERS, {"account": self.account_id})
        return [_meter(row) for row in rows]

    async def meters_with_history(self, period: dt.date) -> list[MeterWithHistory]:
        """The meters in id order, each with up to :data:`HISTORY_DEPTH` latest accepted readings up to
        ``period``, oldest first (one query)."""
        rows = await self.session.execute(
            _METERS_WITH_HISTORY, {"account": self.account_id, "period": period}
        )
        found: list[MeterWithHistory] = []
        for row in rows:
            if not found or found[-1].meter.id != row[0]:
                found.append(MeterWithHistory(_meter(row)))
            reading_id, reading_period, value, submitted_at, source, rollover, needs_review = row[9:]
            if reading_id is not None:
                found[-1].accepted.append(
                    ReadingRecord(
                        id=reading_id,
                        meter_id=row[0],
                        period=reading_period,
                        value=value,
                        submitted_at=submitted_at,
                        source=source,
                        rollover=bool(rollover),
                        needs_review=bool(needs_review),
                    )
                )
        return found

    async def add_readings(self, readings: Sequence[NewReading]) -> list[int]:
        """Store accepted readings, one per meter (ids answered in order); each replaced one becomes
        ``replaced``.

        The replaced readings leave the ``accepted`` status BEFORE the new ones are inserted: the
        partial unique index (one accepted reading per meter and period) would otherwise refuse them.
        Three statements for any number of readings.
        """
        if not readings:
            return []
        if len({reading.meter_id for reading in readings}) != len(readings):
            raise ValueError("one reading per meter at a time")
        replaced = [reading.replacing for reading in readings if reading.replacing is not None]
        if replaced:
            await self.session.execute(_MARK_REPLACED, {"ids": replaced})
        result = await self.session.execute(
            _INSERT_READINGS,
            [
                {
                    "meter_id": reading.meter_id,
                    "period": reading.period,
                    "value": reading.value,
                    "submitted_at": reading.submitted_at,
                    "source": reading.source,
                    "status": ReadingStatus.ACCEPTED.value,
                    "rollover": reading.rollover,
                    "needs_review": reading.needs_review,
                }
                for reading in readings
            ],
        )
        new_ids: dict[int, int] = dict(result.tuples().all())
        ids = [new_ids[reading.meter_id] for reading in readings]
        links = [
            {"old_id": reading.replacing, "new_id": new_id}
            for reading, new_id in zip(readings, ids, strict=True)
            if reading.replacing is not None
        ]
        if links:
            await self.session.execute(_LINK_REPLACED, links)
        return ids
