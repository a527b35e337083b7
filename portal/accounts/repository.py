"""All SQL of the accounts domain; every query is filtered by the principal's ``account_id``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Account, CapitalRepairAccount, Meter, Payment, Service


@dataclass(frozen=True)
class MeterVerification:
    """What the summary needs to know about a meter's verification."""

    meter_id: int
    service_name: str
    serial_number: str
    next_verification_on: dt.date


class AccountsRepository:
    """Reads of one account's own rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account_with_capital_repair(
        self, account_id: int
    ) -> tuple[Account, CapitalRepairAccount | None] | None:
        stmt = (
            select(Account, CapitalRepairAccount)
            .outerjoin(CapitalRepairAccount, CapitalRepairAccount.account_id == Account.id)
            .where(Account.id == account_id)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def meter_verifications(self, account_id: int) -> list[MeterVerification]:
        """The account's meters in the receipt's order of services."""
        stmt = (
            select(Meter.id, Service.name, Meter.serial_number, Meter.next_verification_on)
            .join(Service, Service.id == Meter.service_id)
            .where(Meter.account_id == account_id)
            .order_by(Service.sort_order, Meter.id)
        )
        return [MeterVerification(*row) for row in (await self.session.execute(stmt)).all()]

    async def last_payment(self, account_id: int, until: dt.date) -> Payment | None:
        """The latest payment dated on or before ``until``, either purpose."""
        stmt = (
            select(Payment)
            .where(Payment.account_id == account_id, Payment.paid_on <= until)
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
