"""SQL of the sandbox twins' payments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from portal.kit.repository import Repository
from portal.models import SandboxPayment


class SandboxRepository(Repository[SandboxPayment]):
    model = SandboxPayment

    async def get(self, provider: str, payment_id: str) -> SandboxPayment | None:
        found: SandboxPayment | None = await self.session.scalar(
            select(SandboxPayment)
            .where(SandboxPayment.provider == provider, SandboxPayment.id == payment_id)
            .execution_options(populate_existing=True)
        )
        return found

    async def by_order(self, provider: str, merchant: str, order_id: str) -> SandboxPayment | None:
        found: SandboxPayment | None = await self.session.scalar(
            select(SandboxPayment).where(
                SandboxPayment.provider == provider,
                SandboxPayment.merchant == merchant,
                SandboxPayment.order_id == order_id,
            )
        )
        return found

    async def add(self, payment: SandboxPayment) -> None:
        await self.create(payment, flush=True)

    async def move(
        self,
        provider: str,
        payment_id: str,
        allowed_from: set[str],
        status: str,
        now: dt.datetime,
        completed: bool,
    ) -> bool:
        """Change the status only from one of ``allowed_from`` (check and write in one statement)."""
        values: dict[str, object] = {"status": status, "updated_at": now}
        if completed:
            values["completed_at"] = now
        result = await self.session.execute(
            update(SandboxPayment)
            .where(
                SandboxPayment.provider == provider,
                SandboxPayment.id == payment_id,
                SandboxPayment.status.in_(allowed_from),
            )
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def completed_between(
        self, provider: str, merchant: str, status: str, start: dt.datetime, end: dt.datetime
    ) -> list[SandboxPayment]:
        rows = await self.session.scalars(
            select(SandboxPayment)
            .where(
                SandboxPayment.provider == provider,
                SandboxPayment.merchant == merchant,
                SandboxPayment.status == status,
                SandboxPayment.completed_at >= start,
                SandboxPayment.completed_at < end,
            )
            .order_by(SandboxPayment.completed_at)
        )
        return list(rows)
