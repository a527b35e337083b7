"""SQL of meters and readings, always filtered by the account."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from portal.models import Account, Meter, Reading, ReadingStatus

#: Readings per meter loaded for the rules: this period's, the previous one and 12 more for the average.
HISTORY_DEPTH = 14


async def find_account(session: AsyncSession, account_number: str) -> Account | None:
    """The account with this number (the entry point of readings without login)."""
    result: Account | None = await session.scalar(select(Account).where(Account.number == account_number))
    return result


class ReadingsRepository:
    """Meters and readings of one account."""

    def __init__(self, session: AsyncSession, account_id: int) -> None:
        self.session = session
        self.account_id = account_id

    async def lock_meters(self) -> None:
        """Serialize submissions of this account: check and write become one step.

        PostgreSQL: row locks on the account's meters, always taken in id order so two submissions
        cannot deadlock; they are held until the transaction ends. SQLite has a single connection,
        so transactions already run one at a time. ``lock_version`` records the submission.
        """
        await self.session.execute(
            select(Meter.id).where(Meter.account_id == self.account_id).order_by(Meter.id).with_for_update()
        )
        await self.session.execute(
            update(Meter)
            .where(Meter.account_id == self.account_id)
            .values(lock_version=Meter.lock_version + 1)
        )

    async def meters(self) -> list[Meter]:
        """The account's meters with their services, in id order."""
        result = await self.session.scalars(
            select(Meter)
            .options(joinedload(Meter.service))
            .where(Meter.account_id == self.account_id)
            .order_by(Meter.id)
        )
        return list(result)

    async def recent_accepted(self, period: dt.date) -> dict[int, list[Reading]]:
        """Up to :data:`HISTORY_DEPTH` latest accepted readings per meter up to ``period``, oldest first."""
        position = (
            func.row_number()
            .over(partition_by=Reading.meter_id, order_by=Reading.period.desc())
            .label("position")
        )
        ranked = (
            select(Reading.id, position)
            .join(Meter, Meter.id == Reading.meter_id)
            .where(
                Meter.account_id == self.account_id,
                Reading.status == ReadingStatus.ACCEPTED.value,
                Reading.period <= period,
            )
            .subquery()
        )
        rows = await self.session.scalars(
            select(Reading)
            .join(ranked, ranked.c.id == Reading.id)
            .where(ranked.c.position <= HISTORY_DEPTH)
            .order_by(Reading.meter_id, Reading.period)
        )
        by_meter: dict[int, list[Reading]] = defaultdict(list)
        for reading in rows:
            by_meter[reading.meter_id].append(reading)
        return by_meter

    async def add_reading(
        self,
        *,
        meter_id: int,
        period: dt.date,
        value: Decimal,
        submitted_at: dt.datetime,
        source: str,
        rollover: bool,
        needs_review: bool,
        replacing: Reading | None = None,
    ) -> Reading:
        """Store an accepted reading; ``replacing`` (same meter and period) becomes ``replaced``, both stay.

        The earlier row leaves the ``accepted`` status in its own flush BEFORE the new row is
        inserted: the partial unique index (one accepted reading per meter and period) would
        otherwise refuse the insert.
        """
        if replacing is not None:
            replacing.status = ReadingStatus.REPLACED.value
            await self.session.flush()
        reading = Reading(
            meter_id=meter_id,
            period=period,
            value=value,
            submitted_at=submitted_at,
            source=source,
            status=ReadingStatus.ACCEPTED.value,
            rollover=rollover,
            needs_review=needs_review,
        )
        self.session.add(reading)
        await self.session.flush()
        if replacing is not None:
            replacing.replaced_by_id = reading.id
            await self.session.flush()
        return reading
