"""Helpers shared by the readings tests: demo logins and direct looks at the readings table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import func, select

from portal.demo.accounts import account_number
from portal.models import Account, Meter, Reading, Service

if TYPE_CHECKING:
    from tests.conftest import Portal

METERS = "/api/v1/meters"
READINGS = "/api/v1/readings"
PERIOD = dt.date(2026, 11, 1)
PREVIOUS_PERIOD = dt.date(2026, 10, 1)


async def meters_by_service(
    portal: Portal, headers: dict[str, str], path: str = METERS
) -> dict[str, dict[str, Any]]:
    response = await portal.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return {meter["service"]: meter for meter in response.json()["meters"]}


async def meter_ids(portal: Portal, apartment: int) -> dict[str, int]:
    """The apartment's meter ids by service code, straight from the database."""
    async with portal.state.sessionmaker() as session:
        rows = await session.execute(
            select(Service.code, Meter.id)
            .join(Meter, Meter.service_id == Service.id)
            .join(Account, Account.id == Meter.account_id)
            .where(Account.number == account_number(apartment))
        )
        return {code: meter_id for code, meter_id in rows}


async def previous_values(portal: Portal, apartment: int) -> dict[int, Decimal]:
    """The last accepted reading before this period of each of the apartment's meters."""
    ids = await meter_ids(portal, apartment)
    values: dict[int, Decimal] = {}
    async with portal.state.sessionmaker() as session:
        for meter_id in ids.values():
            value = await session.scalar(
                select(Reading.value)
                .where(Reading.meter_id == meter_id, Reading.status == "accepted", Reading.period < PERIOD)
                .order_by(Reading.period.desc())
                .limit(1)
            )
            assert value is not None
            values[meter_id] = Decimal(value)
    return values


async def readings_of(portal: Portal, meter_id: int, period: dt.date = PERIOD) -> list[Reading]:
    async with portal.state.sessionmaker() as session:
        rows = await session.scalars(
            select(Reading).where(Reading.meter_id == meter_id, Reading.period == period).order_by(Reading.id)
        )
        return list(rows)


async def count_readings(portal: Portal) -> int:
    async with portal.state.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Reading))
        assert count is not None
        return count


def ru(value: Decimal | str) -> str:
    """A decimal (or its formatted text) the Russian way, with a decimal comma."""

    return str(value).replace(".", ",")


async def submit(
    portal: Portal, headers: dict[str, str], *readings: dict[str, object], key: str | None = None
) -> httpx.Response:
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return await portal.client.post(READINGS, json={"readings": list(readings)}, headers=headers)


def only_result(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert len(results) == 1
    return results[0]
