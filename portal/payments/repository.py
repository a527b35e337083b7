"""All SQL of card payments: orders, crediting them as payments, notification events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.kit.repository import Repository
from portal.models import Account, CapitalRepairAccount, Payment, PaymentNotification, PaymentOrder


class PaymentsRepository(Repository[PaymentOrder]):
    model = PaymentOrder

    # --- orders --------------------------------------------------------------------------------------

    async def by_idempotency_key(self, account_id: int, origin: str, key: str) -> PaymentOrder | None:
        found: PaymentOrder | None = await self.session.scalar(
            select(PaymentOrder)
            .where(
                PaymentOrder.account_id == account_id,
                PaymentOrder.origin == origin,
                PaymentOrder.idempotency_key == key,
            )
            .execution_options(populate_existing=True)
        )
        return found

    async def add_order(self, order: PaymentOrder) -> None:
        """Insert and flush, so that a concurrent duplicate key fails here (IntegrityError)."""
        await self.create(order, flush=True)

    async def get(self, order_id: str) -> PaymentOrder | None:
        return await self.get_by_id(order_id, fresh=True)

    async def lock(self, order_id: str) -> PaymentOrder | None:
        """The order, locked until the transaction ends (PostgreSQL; SQLite runs one at a time)."""
        found: PaymentOrder | None = await self.session.scalar(
            select(PaymentOrder)
            .where(PaymentOrder.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return found

    async def set_started(
        self, order_id: str, provider_payment_id: str, payment_url: str, now: dt.datetime
    ) -> None:
        await self.session.execute(
            update(PaymentOrder)
            .where(PaymentOrder.id == order_id)
            .values(provider_payment_id=provider_payment_id, payment_url=payment_url, updated_at=now)
        )

    async def set_status(self, order_id: str, status: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(PaymentOrder).where(PaymentOrder.id == order_id).values(status=status, updated_at=now)
        )

    async def add_payment(
        self,
        account_id: int,
        paid_on: dt.date,
        amount_kopecks: int,
        channel: str,
        purpose: str,
        external_id: str,
        paid_at: dt.datetime,
    ) -> int:
        payment = Payment(
            account_id=account_id,
            paid_on=paid_on,
            amount_kopecks=amount_kopecks,
            channel=channel,
            purpose=purpose,
            external_id=external_id,
            paid_at=paid_at,
        )
        return (await self.create(payment, flush=True)).id

    async def mark_credited(self, order_id: str, payment_id: int, status: str, now: dt.datetime) -> bool:
        """Link the credited payment, only if none is linked yet (check and write in one statement)."""
        result = await self.session.execute(
            update(PaymentOrder)
            .where(PaymentOrder.id == order_id, PaymentOrder.credited_payment_id.is_(None))
            .values(credited_payment_id=payment_id, status=status, updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def mark_refunded(self, order_id: str, payment_id: int, status: str, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(PaymentOrder)
            .where(
                PaymentOrder.id == order_id,
                PaymentOrder.credited_payment_id.is_not(None),
                PaymentOrder.refund_payment_id.is_(None),
            )
            .values(refund_payment_id=payment_id, status=status, updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def credited_on(self, provider: str, day: dt.date) -> list[PaymentOrder]:
        """Orders of one provider credited as payments dated ``day``."""
        rows = await self.session.scalars(
            select(PaymentOrder)
            .join(Payment, Payment.id == PaymentOrder.credited_payment_id)
            .where(PaymentOrder.provider == provider, Payment.paid_on == day)
        )
        return list(rows)

    # --- notifications ----------------------------------------------------------------------------

    async def add_notification(
        self, provider: str, event_id: str, order_id: str, status: str, now: dt.datetime
    ) -> bool:
        """Store the event once; False when it was stored before (a repeat)."""
        try:
            async with self.session.begin_nested():
                notification = PaymentNotification(
                    provider=provider, event_id=event_id, order_id=order_id, status=status, received_at=now
                )
                await self.create(notification, flush=True)
        except IntegrityError:
            return False
        return True

    # --- accounts ------------------------------------------------------------------------------------

    async def account(self, account_id: int) -> Account | None:
        return await self.session.get(Account, account_id)

    async def capital_repair_of(self, account_id: int) -> CapitalRepairAccount | None:
        found: CapitalRepairAccount | None = await self.session.scalar(
            select(CapitalRepairAccount).where(CapitalRepairAccount.account_id == account_id)
        )
        return found

    async def capital_repair_by_number(self, number: str) -> tuple[CapitalRepairAccount, Account] | None:
        row = (
            await self.session.execute(
                select(CapitalRepairAccount, Account)
                .join(Account, Account.id == CapitalRepairAccount.account_id)
                .where(CapitalRepairAccount.number == number)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None
