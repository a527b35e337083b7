"""SQL of idempotency records, always filtered by the account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.kit.repository import AccountRepository
from portal.models import IdempotencyRecord


class IdempotencyRepository(AccountRepository[IdempotencyRecord]):
    """Idempotency records of one account."""

    model = IdempotencyRecord

    async def find(self, key: str) -> IdempotencyRecord | None:
        return await self.get_one_or_none(
            select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == self.account_id, IdempotencyRecord.key == key
            )
        )

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
        record = IdempotencyRecord(
            account_id=self.account_id,
            key=key,
            endpoint=endpoint,
            request_hash=request_hash,
            response_status=response_status,
            response_body=response_body,
            created_at=now,
        )
        await self.create(record, flush=True)
