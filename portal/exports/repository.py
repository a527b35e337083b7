"""SQL of the exports: one ordered query per file, read through a server-side cursor in partitions.

The order is total (it ends with a primary key), so the same data always gives the same rows in the
same order, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from sqlalchemy import DateTime, Row, Select, Table, bindparam, func, select, type_coerce
from sqlalchemy.orm import aliased

from portal.kit.repository import Repository
from portal.models import (
    Account,
    CapitalRepairAccount,
    Meter,
    Payment,
    PaymentChannel,
    PaymentOrder,
    Reading,
    Service,
    User,
)

#: Rows fetched from the cursor at a time (and written as one chunk).
PARTITION_ROWS = 5000
#: The channels of payments made through the portal (card payments through a payment service).
PORTAL_CHANNELS = (PaymentChannel.A3.value, PaymentChannel.PAYMO.value)

_accounts = cast(Table, Account.__table__)
_meters = cast(Table, Meter.__table__)
_services = cast(Table, Service.__table__)
_readings = cast(Table, Reading.__table__)
_payments = cast(Table, Payment.__table__)
_capital = cast(Table, CapitalRepairAccount.__table__)
_users = cast(Table, User.__table__)
_orders = cast(Table, PaymentOrder.__table__)
_credited = aliased(_orders, name="credited")
_refunded = aliased(_orders, name="refunded")


def _plain_moment(column: Any) -> Any:
    """A UTC timestamp without the per-row conversion of ``UTCDateTime`` (a third of the export's time):
    asyncpg hands back aware datetimes already, SQLite naive UTC ones (see ``CsvFormat.moment``)."""
    return type_coerce(column, DateTime(timezone=True))


def readings_query() -> Select[Any]:
    """Every reading of a period (accepted and replaced), per account and meter, oldest first."""
    return (
        select(
            _accounts.c.number,
            _meters.c.serial_number,
            _services.c.code,
            _meters.c.decimals,
            _readings.c.value,
            _readings.c.source,
            _plain_moment(_readings.c.submitted_at),
            _readings.c.status,
        )
        .select_from(
            _readings.join(_meters, _meters.c.id == _readings.c.meter_id)
            .join(_accounts, _accounts.c.id == _meters.c.account_id)
            .join(_services, _services.c.id == _meters.c.service_id)
        )
        .where(_readings.c.period == bindparam("period", type_=_readings.c.period.type))
        .order_by(
            _accounts.c.number,
            _meters.c.serial_number,
            _meters.c.id,
            _readings.c.submitted_at,
            _readings.c.id,
        )
    )


def payments_query() -> Select[Any]:
    """The portal's payments booked on a day: one row per ``payments`` row (a credit or a storno)."""
    return (
        select(
            _accounts.c.number,
            _payments.c.purpose,
            _capital.c.number,
            _payments.c.amount_kopecks,
            _payments.c.channel,
            func.coalesce(_credited.c.id, _refunded.c.id),
            func.coalesce(_credited.c.provider_payment_id, _refunded.c.provider_payment_id),
            _plain_moment(_payments.c.paid_at),
            _payments.c.id,
        )
        .select_from(
            _payments.join(_accounts, _accounts.c.id == _payments.c.account_id)
            .outerjoin(_capital, _capital.c.account_id == _payments.c.account_id)
            .outerjoin(_credited, _credited.c.credited_payment_id == _payments.c.id)
            .outerjoin(_refunded, _refunded.c.refund_payment_id == _payments.c.id)
        )
        .where(
            _payments.c.paid_on == bindparam("day", type_=_payments.c.paid_on.type),
            _payments.c.channel.in_(PORTAL_CHANNELS),
        )
        .order_by(_payments.c.id)
    )


def registrations_query() -> Select[Any]:
    """Accounts with a login, in account number order."""
    return (
        select(_accounts.c.number, _plain_moment(_users.c.created_at), _users.c.email)
        .select_from(_users.join(_accounts, _accounts.c.id == _users.c.account_id))
        .order_by(_accounts.c.number, _users.c.id)
    )


_READINGS = readings_query()
_PAYMENTS = payments_query()
_REGISTRATIONS = registrations_query()


class ExportsRepository(Repository[Reading]):
    """Streams the rows of each export from one read transaction."""

    model = Reading

    async def _stream(
        self, statement: Select[Any], params: dict[str, Any]
    ) -> AsyncIterator[Sequence[Row[Any]]]:
        result = await self.session.stream(statement.execution_options(yield_per=PARTITION_ROWS), params)
        async for partition in result.partitions():
            yield partition

    def readings(self, period: dt.date) -> AsyncIterator[Sequence[Row[Any]]]:
        return self._stream(_READINGS, {"period": period})

    def payments(self, day: dt.date) -> AsyncIterator[Sequence[Row[Any]]]:
        return self._stream(_PAYMENTS, {"day": day})

    def registrations(self) -> AsyncIterator[Sequence[Row[Any]]]:
        return self._stream(_REGISTRATIONS, {})
