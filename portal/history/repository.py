"""All SQL of the histories; every query is filtered by the principal's ``account_id``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic_core import to_json
from sqlalchemy import Date, Text, bindparam, select, text

from portal.kit.db import read_rows
from portal.kit.repository import Repository
from portal.models import Charge, Meter, Payee, Payment, Reading, Service


class ReadingRecord(NamedTuple):
    """A reading with its meter and service, as stored.

    A named tuple: a 36-month history has a hundred of them or more, made on every request.
    """

    reading_id: int
    meter_id: int
    service_code: str
    service_name: str
    unit: str
    serial_number: str
    integer_digits: int
    decimals: int
    period: dt.date
    value: Decimal
    rollover: bool
    submitted_at: dt.datetime
    source: str
    status: str
    #: The service's place on the receipt.
    sort_order: int


_readings = Reading.__table__
_meters = Meter.__table__
_services = Service.__table__

#: The account's readings up to a month, each meter's in the order they were made (columns in the
#: order of :class:`ReadingRecord`).
_READINGS = (
    select(
        _readings.c.id,
        _readings.c.meter_id,
        _services.c.code,
        _services.c.name,
        _services.c.unit,
        _meters.c.serial_number,
        _meters.c.integer_digits,
        _meters.c.decimals,
        _readings.c.period,
        _readings.c.value,
        _readings.c.rollover,
        _readings.c.submitted_at,
        _readings.c.source,
        _readings.c.status,
        _services.c.sort_order,
    )
    .select_from(
        _readings.join(_meters, _meters.c.id == _readings.c.meter_id).join(
            _services, _services.c.id == _meters.c.service_id
        )
    )
    .where(_meters.c.account_id == bindparam("account_id"), _readings.c.period <= bindparam("last_month"))
    .order_by(_readings.c.meter_id, _readings.c.period, _readings.c.submitted_at, _readings.c.id)
)
_METER_READINGS = _READINGS.where(_readings.c.meter_id == bindparam("meter_id"))

_charges = Charge.__table__
_payments = Payment.__table__
#: Payments with ``first <= paid_on <= last``, newest first.
_PAYMENTS = (
    select(_payments.c.paid_on, _payments.c.amount_kopecks, _payments.c.channel, _payments.c.purpose)
    .where(
        _payments.c.account_id == bindparam("account_id"),
        _payments.c.paid_on >= bindparam("first"),
        _payments.c.paid_on <= bindparam("last"),
    )
    .order_by(_payments.c.paid_on.desc(), _payments.c.id.desc())
)
#: The fields of a statement's line (``ServiceCharge``), in the order of :data:`_CHARGE_LINES`.
_LINE_FIELDS = (
    "service_code",
    "service_name",
    "unit",
    "volume",
    "tariff_kopecks",
    "charged_kopecks",
    "recalculation_kopecks",
)
#: One payee's charge lines of the months ``first`` … ``last``, in the receipt's order of services
#: (the month last).
_CHARGE_LINES = (
    select(
        _services.c.code,
        _services.c.name,
        _services.c.unit,
        _charges.c.volume,
        _charges.c.tariff_kopecks,
        _charges.c.charged_kopecks,
        _charges.c.recalculation_kopecks,
        _charges.c.period,
    )
    .select_from(_charges.join(_services, _services.c.id == _charges.c.service_id))
    .where(
        _charges.c.account_id == bindparam("account_id"),
        _services.c.payee == bindparam("payee"),
        _charges.c.period >= bindparam("first"),
        _charges.c.period <= bindparam("last"),
    )
    .order_by(_charges.c.period, _services.c.sort_order, _services.c.id)
)


#: :data:`_CHARGE_LINES` as each month's JSON array of lines, written by PostgreSQL itself (its
#: ``row_to_json`` writes compact JSON, keys in the columns' order, strings escaped as pydantic does; the
#: volume as its exact text, ``numeric(14, 4)`` as ``Decimal`` writes it): a 36-month statement is ~250
#: lines, which cost the portal's worker more to decode, copy into dicts and write again than the query
#: cost the database. ``tests/portal/kit/test_answers.py`` holds the answers to what the model writes.
_CHARGE_LINES_JSON = text(
    "SELECT c.period, '[' || string_agg(row_to_json(l)::text, ',' ORDER BY s.sort_order, s.id) || ']' "
    "FROM charges c JOIN services s ON s.id = c.service_id "
    "CROSS JOIN LATERAL (SELECT s.code AS service_code, s.name AS service_name, s.unit, "
    "c.volume::text AS volume, c.tariff_kopecks, c.charged_kopecks, c.recalculation_kopecks) l "
    "WHERE c.account_id = :account_id AND s.payee = :payee AND c.period >= :first AND c.period <= :last "
    "GROUP BY c.period"
).columns(period=Date, lines=Text)


@dataclass(frozen=True)
class PaymentRecord:
    paid_on: dt.date
    amount_kopecks: int
    channel: str
    purpose: str


class HistoryRepository(Repository[Reading]):
    """Reads of one account's readings, payments and charges over a range."""

    model = Reading

    async def readings(
        self, account_id: int, last_month: dt.date, meter_id: int | None
    ) -> list[ReadingRecord]:
        """Every reading of the account's meters (or of one of them) for periods up to ``last_month``.

        Grouped by meter, each meter's in the order they were made (period, then submission): the
        earlier periods come too, so that the first month of a range has its previous accepted value.
        One query; a window function (``LAG``) would find the previous values in SQL, but joining its
        result back to the replaced readings made SQLite scan it once per row.
        """
        parameters = {"account_id": account_id, "last_month": last_month, "meter_id": meter_id}
        rows = await read_rows(self.session, _READINGS if meter_id is None else _METER_READINGS, parameters)
        return list(map(ReadingRecord._make, rows))

    async def payments(self, account_id: int, first_day: dt.date, last_day: dt.date) -> list[PaymentRecord]:
        """Payments with ``first_day <= paid_on <= last_day``, newest first."""
        parameters = {"account_id": account_id, "first": first_day, "last": last_day}
        rows = await read_rows(self.session, _PAYMENTS, parameters)
        return [
            PaymentRecord(paid_on, int(amount), channel, purpose)
            for paid_on, amount, channel, purpose in rows
        ]

    async def charge_lines(
        self, account_id: int, payee: Payee, first_month: dt.date, last_month: dt.date
    ) -> dict[dt.date, bytes]:
        """Every month's charges of one payee in the receipt's order of services, in one query, as each
        month's JSON array of ``ServiceCharge`` lines (the statement is written from plain data)."""
        parameters = {"account_id": account_id, "payee": payee.value, "first": first_month}
        parameters["last"] = last_month
        if self.session.get_bind().dialect.name == "postgresql":
            rows = await read_rows(self.session, _CHARGE_LINES_JSON, parameters)
            return {period: lines.encode() for period, lines in rows}
        months: dict[dt.date, list[dict[str, Any]]] = {}
        for row in await read_rows(self.session, _CHARGE_LINES, parameters):
            # The period comes last: zip stops at the line's fields.
            months.setdefault(row[-1], []).append(dict(zip(_LINE_FIELDS, row, strict=False)))
        return {period: to_json(lines) for period, lines in months.items()}
