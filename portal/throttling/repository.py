"""SQL of the failure counters: one atomic upsert per failure, safe under concurrency."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import FailureCounter


class FailureCounterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def blocked_until(self, scope: str, subjects: list[str]) -> dt.datetime | None:
        """The latest ``blocked_until`` among the subjects, if any."""
        rows = await self.session.scalars(
            select(FailureCounter.blocked_until).where(
                FailureCounter.scope == scope,
                FailureCounter.subject.in_(subjects),
                FailureCounter.blocked_until.is_not(None),
            )
        )
        values = [value for value in rows if value is not None]
        return max(values) if values else None

    async def add_failure(self, scope: str, subject: str, now: dt.datetime, reset_before: dt.datetime) -> int:
        """Count one failure (starting over if the last one is older than ``reset_before``)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(FailureCounter).values(
            scope=scope, subject=subject, failures=1, last_failure_at=now, blocked_until=None
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[FailureCounter.scope, FailureCounter.subject],
            set_={
                "failures": case(
                    (FailureCounter.last_failure_at < reset_before, 1),
                    else_=FailureCounter.failures + 1,
                ),
                "last_failure_at": now,
            },
        ).returning(FailureCounter.failures)
        failures = (await self.session.execute(upsert)).scalar_one()
        return int(failures)

    async def block(self, scope: str, subject: str, until: dt.datetime) -> None:
        await self.session.execute(
            update(FailureCounter)
            .where(FailureCounter.scope == scope, FailureCounter.subject == subject)
            .values(blocked_until=until)
        )

    async def clear(self, scope: str, subject: str) -> None:
        await self.session.execute(
            delete(FailureCounter).where(FailureCounter.scope == scope, FailureCounter.subject == subject)
        )
