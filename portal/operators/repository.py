"""SQL of operator keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from portal.kit.repository import Repository
from portal.models import OperatorKey


class OperatorKeysRepository(Repository[OperatorKey]):
    model = OperatorKey

    async def add(self, name: str, key_hmac: str, now: dt.datetime) -> OperatorKey:
        return await self.create(OperatorKey(name=name, key_hmac=key_hmac, created_at=now), flush=True)

    async def all(self) -> list[OperatorKey]:
        return list(await self.get_all(self.base_statement().order_by(OperatorKey.id)))

    async def active_by_hmac(self, key_hmac: str) -> OperatorKey | None:
        return await self.get_one_or_none(
            self.base_statement().where(OperatorKey.key_hmac == key_hmac, OperatorKey.revoked_at.is_(None))
        )

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
