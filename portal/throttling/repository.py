"""SQL of the throttle counters: every attempt is reserved by one atomic upsert, safe across workers.

A reservation is ``INSERT … ON CONFLICT (scope, subject) DO UPDATE SET failures = failures + 1 … WHERE
<not blocked> RETURNING``: of any number of concurrent requests (workers, hosts) exactly as many get a
row back as the limit allows, because the database serialises the updates of one row (PostgreSQL locks
it, SQLite runs one writer). A request that gets no row was refused without being counted. The same
table holds rate windows (``failures`` counts the window's events, ``blocked_until`` is its end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.kit.repository import Repository
from portal.models import FailureCounter

FC = FailureCounter


def _at(moment: dt.datetime) -> ColumnElement[dt.datetime]:
    """A timestamp parameter typed like the columns (UTC on every database)."""
    return literal(moment, type_=FC.__table__.c.blocked_until.type)


def _blocked_until_after(
    failures: ColumnElement[int], free: int, ladder: Sequence[dt.datetime]
) -> ColumnElement[dt.datetime | None]:
    """``blocked_until`` for a count: none within ``free``, then the ladder's steps, then its last one."""
    whens: list[tuple[ColumnElement[bool], Any]] = [(failures < free, None)]
    for step, until in enumerate(ladder[:-1]):
        whens.append((failures == free + step, _at(until)))
    return case(*whens, else_=_at(ladder[-1]))


class FailureCounterRepository(Repository[FailureCounter]):
    model = FailureCounter

    def _insert(self) -> Any:
        dialect = self.session.get_bind().dialect.name
        return postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def reserve(
        self,
        scope: str,
        subject: str,
        now: dt.datetime,
        *,
        free: int,
        ladder: Sequence[dt.datetime],
        reset_before: dt.datetime,
        first_only: bool = False,
    ) -> int | None:
        """Count one attempt unless the subject is blocked; the new count, or None when refused.

        Within ``free`` attempts nothing blocks; the attempt that reaches ``free`` (and every later one)
        blocks the subject until the ``ladder`` step for its count (the ladder's last step beyond it).
        A count older than ``reset_before`` starts over. With ``first_only`` a subject that already has
        a count is refused whatever its cool-down.
        """
        stale = FC.last_failure_at < reset_before
        new_count = case((stale, 1), else_=FC.failures + 1)
        allowed: ColumnElement[bool] = or_(FC.blocked_until.is_(None), FC.blocked_until <= now)
        if first_only:
            allowed = and_(allowed, or_(FC.failures <= 0, stale))
        first_block = ladder[0] if free <= 1 else None
        statement = self._insert()(FC).values(
            scope=scope, subject=subject, failures=1, last_failure_at=now, blocked_until=first_block
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[FC.scope, FC.subject],
            set_={
                "failures": new_count,
                "last_failure_at": now,
                "blocked_until": _blocked_until_after(new_count, free, ladder),
            },
            where=allowed,
        ).returning(FC.failures)
        count = (await self.session.execute(upsert)).scalar_one_or_none()
        return None if count is None else int(count)

    async def count(self, scope: str, subject: str, reset_before: dt.datetime) -> int:
        """The subject's count (0 when it is older than ``reset_before``); for decisions, not limits."""
        found = await self.session.scalar(
            select(FC.failures).where(
                FC.scope == scope, FC.subject == subject, FC.last_failure_at >= reset_before
            )
        )
        return int(found or 0)

    async def add(self, scope: str, subject: str, now: dt.datetime, reset_before: dt.datetime) -> int:
        """Count one event that never blocks (starting over after ``reset_before``); the new count."""
        statement = self._insert()(FC).values(
            scope=scope, subject=subject, failures=1, last_failure_at=now, blocked_until=None
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[FC.scope, FC.subject],
            set_={
                "failures": case((FC.last_failure_at < reset_before, 1), else_=FC.failures + 1),
                "last_failure_at": now,
            },
        ).returning(FC.failures)
        return int((await self.session.execute(upsert)).scalar_one())

    async def refund(self, scope: str, subject: str, free: int) -> None:
        """Give one reserved attempt back (it succeeded); a block the count no longer reaches is lifted."""
        await self.session.execute(
            update(FC)
            .where(FC.scope == scope, FC.subject == subject, FC.failures > 0)
            .values(
                failures=FC.failures - 1,
                blocked_until=case((FC.failures - 1 < free, None), else_=FC.blocked_until),
            )
        )

    async def take_window(
        self, scope: str, subject: str, now: dt.datetime, *, limit: int, window: dt.timedelta
    ) -> int | None:
        """Count one event in the subject's window of ``limit`` events; the count, or None when full.

        A window starts with the first event after the previous window ended and lasts ``window``.
        """
        ended = or_(FC.blocked_until.is_(None), FC.blocked_until <= now)
        statement = self._insert()(FC).values(
            scope=scope, subject=subject, failures=1, last_failure_at=now, blocked_until=now + window
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[FC.scope, FC.subject],
            set_={
                "failures": case((ended, 1), else_=FC.failures + 1),
                "last_failure_at": case((ended, _at(now)), else_=FC.last_failure_at),
                "blocked_until": case((ended, _at(now + window)), else_=FC.blocked_until),
            },
            where=or_(ended, FC.failures < limit),
        ).returning(FC.failures)
        count = (await self.session.execute(upsert)).scalar_one_or_none()
        return None if count is None else int(count)

    async def blocked_until(self, scope: str, subjects: list[str]) -> dt.datetime | None:
        """The latest ``blocked_until`` among the subjects, if any."""
        found = await self.session.scalar(
            select(func.max(FC.blocked_until)).where(FC.scope == scope, FC.subject.in_(subjects))
        )
        return found if isinstance(found, dt.datetime) else None

    async def clear(self, scope: str, subject: str) -> None:
        await self.session.execute(delete(FC).where(FC.scope == scope, FC.subject == subject))

    async def purge(self, before: dt.datetime, now: dt.datetime) -> None:
        """Forget up to 1000 counters quiet since ``before`` whose block or window is over.

        Rows another request holds are skipped (``SKIP LOCKED`` on PostgreSQL), so the purge never
        waits for a reservation nor deadlocks with one.
        """
        quiet = (
            select(FC.id)
            .where(FC.last_failure_at < before, or_(FC.blocked_until.is_(None), FC.blocked_until <= now))
            .limit(1000)
            .with_for_update(skip_locked=True)
        )
        await self.session.execute(delete(FC).where(FC.id.in_(quiet)))
