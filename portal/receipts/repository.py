"""All SQL of the receipt; every query is filtered by the principal's ``account_id``.

The money (charges, balances, totals) comes from :mod:`portal.billing`; here are the rest of the
receipt's facts: who the payer is, which readings the month used and which payments it received.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, bindparam, select

from portal.kit.repository import Repository
from portal.models import (
    Account,
    CapitalRepairAccount,
    Meter,
    PayeeRecord,
    Payment,
    Reading,
    ReadingStatus,
    Service,
    User,
)
from portal.receipts.payees import PayeeRequisites

_accounts = Account.__table__
_funds = CapitalRepairAccount.__table__
_meters = Meter.__table__
_services = Service.__table__
_readings = Reading.__table__
_payments = Payment.__table__
_users = User.__table__


@dataclass(frozen=True)
class PayerRecord:
    """The payer block of the receipt, with the account at the capital repair fund if there is one."""

    number: str
    owner_name: str
    address: str
    area_m2: Decimal
    residents: int
    fund_account_number: str | None


@dataclass(frozen=True)
class MeterReadingRecord:
    """A meter with its reading of the month and the last accepted one before it."""

    service_name: str
    unit: str
    serial_number: str
    integer_digits: int
    decimals: int
    previous: Decimal | None
    current: Decimal | None
    rollover: bool


@dataclass(frozen=True)
class PaymentRecord:
    paid_on: dt.date
    amount_kopecks: int
    purpose: str


_PAYER = (
    select(
        _accounts.c.number,
        _accounts.c.owner_name,
        _accounts.c.address,
        _accounts.c.area_m2,
        _accounts.c.residents,
        _funds.c.number,
    )
    .select_from(_accounts.outerjoin(_funds, _funds.c.account_id == _accounts.c.id))
    .where(_accounts.c.id == bindparam("account_id"))
)

_accepted = ReadingStatus.ACCEPTED.value
_before = _readings.alias("before")
#: The last accepted reading of the meter before the month (a correlated subquery: one row per meter).
_PREVIOUS_VALUE = (
    select(_before.c.value)
    .where(
        _before.c.meter_id == _meters.c.id,
        _before.c.status == _accepted,
        _before.c.period < bindparam("period"),
    )
    .order_by(_before.c.period.desc(), _before.c.id.desc())
    .limit(1)
    .scalar_subquery()
)

#: Every meter installed by the end of the month, in the receipt's order of services, with the month's
#: accepted reading (if any) and the previous accepted one.
_METER_READINGS = (
    select(
        _services.c.name,
        _services.c.unit,
        _meters.c.serial_number,
        _meters.c.integer_digits,
        _meters.c.decimals,
        _PREVIOUS_VALUE,
        _readings.c.value,
        _readings.c.rollover,
    )
    .select_from(
        _meters.join(_services, _services.c.id == _meters.c.service_id).outerjoin(
            _readings,
            and_(
                _readings.c.meter_id == _meters.c.id,
                _readings.c.period == bindparam("period"),
                _readings.c.status == _accepted,
            ),
        )
    )
    .where(_meters.c.account_id == bindparam("account_id"), _meters.c.installed_on < bindparam("next_period"))
    .order_by(_services.c.sort_order, _meters.c.id)
)

_PAYMENTS = (
    select(_payments.c.paid_on, _payments.c.amount_kopecks, _payments.c.purpose)
    .where(
        _payments.c.account_id == bindparam("account_id"),
        _payments.c.paid_on >= bindparam("period"),
        _payments.c.paid_on < bindparam("next_period"),
    )
    .order_by(_payments.c.paid_on, _payments.c.id)
)

_EMAIL = select(_users.c.email).where(_users.c.account_id == bindparam("account_id"))


class ReceiptsRepository(Repository[Account]):
    """What a receipt shows besides the charges: the payer, the meters' readings, the month's payments."""

    model = Account

    async def payer(self, account_id: int) -> PayerRecord | None:
        """The account's payer block, or None when the account no longer exists."""
        row = (await self.session.execute(_PAYER, {"account_id": account_id})).first()
        if row is None:
            return None
        number, owner_name, address, area_m2, residents, fund_number = row
        return PayerRecord(number, owner_name, address, Decimal(area_m2), int(residents), fund_number)

    async def meter_readings(
        self, account_id: int, period: dt.date, next_period: dt.date
    ) -> list[MeterReadingRecord]:
        """The account's meters with the readings the month ``period`` used (one query)."""
        rows = await self.session.execute(
            _METER_READINGS, {"account_id": account_id, "period": period, "next_period": next_period}
        )
        return [
            MeterReadingRecord(
                service_name=name,
                unit=unit,
                serial_number=serial,
                integer_digits=int(digits),
                decimals=int(decimals),
                previous=None if previous is None else Decimal(previous),
                current=None if current is None else Decimal(current),
                rollover=bool(rollover),
            )
            for name, unit, serial, digits, decimals, previous, current, rollover in rows
        ]

    async def payments(self, account_id: int, period: dt.date, next_period: dt.date) -> list[PaymentRecord]:
        """Payments of both purposes dated within the month, oldest first (one query)."""
        rows = await self.session.execute(
            _PAYMENTS, {"account_id": account_id, "period": period, "next_period": next_period}
        )
        return [PaymentRecord(paid_on, int(amount), purpose) for paid_on, amount, purpose in rows]

    async def registered_email(self, account_id: int) -> str | None:
        """The e-mail the account's resident registered with (None: not registered)."""
        email: str | None = (
            await self.session.execute(_EMAIL, {"account_id": account_id})
        ).scalar_one_or_none()
        return email

    async def payee_requisites(self) -> dict[str, PayeeRequisites]:
        """Every payee's requisites as the billing center's import loaded them, by code."""
        rows = (await self.session.execute(select(PayeeRecord))).scalars()
        return {
            row.code: PayeeRequisites(
                name=row.name,
                short_name=row.short_name,
                inn=row.inn,
                kpp=row.kpp,
                account=row.account,
                bank_name=row.bank_name,
                bic=row.bic,
                correspondent_account=row.correspondent_account,
                address=row.address,
                phone=row.phone,
            )
            for row in rows
        }
