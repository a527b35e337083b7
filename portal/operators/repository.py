"""SQL of operator keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import OperatorKey


class OperatorKeysRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, name: str, key_hmac: str, now: dt.datetime) -> OperatorKey:
        key = OperatorKey(name=name, key_hmac=key_hmac, created_at=now)
        self.session.add(key)
        await self.session.flush()
        return key

    async def all(self) -> list[OperatorKey]:
        return list(await self.session.scalars(select(OperatorKey).order_by(OperatorKey.id)))

    async def active_by_hmac(self, key_hmac: str) -> OperatorKey | None:
        found: OperatorKey | None = await self.session.scalar(
            select(OperatorKey).where(OperatorKey.key_hmac == key_hmac, OperatorKey.revoked_at.is_(None))
        )
        return found

    async def revoke(self, key_id: int, now: dt.datetime) -> bool:
        """Revoke an active key (a revoked one stays revoked at its first time)."""
        result = await self.session.execute(
            update(OperatorKey)
            .where(OperatorKey.id == key_id, OperatorKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def exists(self, key_id: int) -> bool:
        return await self.session.scalar(select(OperatorKey.id).where(OperatorKey.id == key_id)) is not None

    async def touch(self, key_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(OperatorKey).where(OperatorKey.id == key_id).values(last_used_at=now)
        )
