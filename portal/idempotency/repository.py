"""SQL of idempotency records, always filtered by the account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import IdempotencyRecord


class IdempotencyRepository:
    """Idempotency records of one account."""

    def __init__(self, session: AsyncSession, account_id: int) -> None:
        self.session = session
        self.account_id = account_id

    async def find(self, key: str) -> IdempotencyRecord | None:
        result: IdempotencyRecord | None = await self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == self.account_id, IdempotencyRecord.key == key
            )
        )
        return result

    async def add(
        self,
        *,
        key: str,
        endpoint: str,
        request_hash: str,
        response_status: int,
        response_body: str,
        now: dt.datetime,
    ) -> None:
        """Insert the record and flush, so that a concurrent duplicate fails here and not at commit."""
        self.session.add(
            IdempotencyRecord(
                account_id=self.account_id,
                key=key,
                endpoint=endpoint,
                request_hash=request_hash,
                response_status=response_status,
                response_body=response_body,
                created_at=now,
            )
        )
        await self.session.flush()
