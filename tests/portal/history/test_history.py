"""Histories: readings with consumption, payments with monthly sums, the statement; every range error."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from portal.demo.accounts import (
    DEBTOR_APARTMENT,
    HAPPY_PATH_APARTMENT,
    ROLLOVER_APARTMENT,
    account_number,
)
from portal.models import Account, Meter, Payment, Reading, ReadingSource, ReadingStatus, Service
from tests.conftest import TEST_NOW, Portal, PortalFactory
from tests.support.statements import counted_statements

HISTORY = "/api/v1/history"
WHOLE_HISTORY = {"date_from": "2023-10-01", "date_to": "2026-11-30"}


async def _get(portal: Portal, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await portal.client.get(f"{HISTORY}/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _meter(portal: Portal, apartment: int, service_code: str) -> Meter:
    async with portal.state.sessionmaker() as session:
        meter = (
            await session.execute(
                select(Meter)
                .join(Account, Account.id == Meter.account_id)
                .join(Service, Service.id == Meter.service_id)
                .where(Account.number == account_number(apartment), Service.code == service_code)
            )
        ).scalar_one()
    return meter


# --- readings ---------------------------------------------------------------------------------------


async def test_reading_history_consumption_between_accepted_readings(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    whole = await _get(portal, "readings", headers, **WHOLE_HISTORY)
    rows = whole["readings"]
    # A baseline (October 2023) and 36 months for each of the three meters.
    assert len(rows) == 3 * 37
    assert [r["period"] for r in rows] == sorted((r["period"] for r in rows), reverse=True)

    by_meter: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_meter[row["meter_id"]].append(row)
        assert row["status"] == "accepted"
        assert isinstance(row["value"], str)
    assert len(by_meter) == 3
    for meter_rows in by_meter.values():
        chronological = meter_rows[::-1]
        assert chronological[0]["period"] == "2023-10"
        assert chronological[0]["consumption"] is None  # nothing before the baseline
        assert chronological[0]["source"] == "import"
        for previous, current in itertools.pairwise(chronological):
            expected = Decimal(current["value"]) - Decimal(previous["value"])
            assert Decimal(current["consumption"]) == expected
            assert expected > 0

    # The first month of a shorter range still compares with the reading before it.
    march = await _get(portal, "readings", headers, date_from="2026-03-10", date_to="2026-03-10")
    assert {r["period"] for r in march["readings"]} == {"2026-03"}
    for row in march["readings"]:
        (same,) = [r for r in rows if r["reading_id"] == row["reading_id"]]
        assert row == same
    assert march["date_from"] == "2026-03-10" and march["date_to"] == "2026-03-10"


async def test_reading_consumption_is_the_charged_volume(portal: Portal) -> None:
    """What the statement charges for a metered service is the consumption the history shows."""
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    readings = (await _get(portal, "readings", headers, date_from="2025-01-01", date_to="2025-12-31"))[
        "readings"
    ]
    statement = await _get(portal, "statement", headers, date_from="2025-01-01", date_to="2025-12-31")
    checked = 0
    for month in statement["months"]:
        for line in month["lines"]:
            if line["service_code"] not in {"cold_water", "hot_water", "electricity"}:
                continue
            (reading,) = [
                r
                for r in readings
                if r["period"] == month["period"] and r["service_code"] == line["service_code"]
            ]
            assert Decimal(reading["consumption"]) == Decimal(line["volume"])
            checked += 1
    assert checked == 36


async def test_reading_history_of_one_meter(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    meter = await _meter(portal, HAPPY_PATH_APARTMENT, "electricity")
    body = await _get(
        portal, "readings", headers, date_from="2026-01-01", date_to="2026-10-31", meter_id=meter.id
    )
    assert len(body["readings"]) == 10
    assert {r["meter_id"] for r in body["readings"]} == {meter.id}
    row = body["readings"][0]
    assert row["serial_number"] == meter.serial_number
    assert row["service_code"] == "electricity" and row["unit"] == "кВт·ч"
    # Shown with the meter's own number of decimals.
    assert len(row["value"].partition(".")[2]) == meter.decimals

    # A meter of another account reads exactly like one that does not exist: nothing.
    other = await _meter(portal, DEBTOR_APARTMENT, "electricity")
    for meter_id in (other.id, 2_000_000_000):
        empty = await _get(
            portal, "readings", headers, date_from="2026-01-01", date_to="2026-10-31", meter_id=meter_id
        )
        assert empty["readings"] == []


async def test_replaced_reading_stays_in_the_history_without_consumption(portal: Portal) -> None:
    meter = await _meter(portal, HAPPY_PATH_APARTMENT, "cold_water")
    october = dt.date(2026, 10, 1)
    async with portal.state.sessionmaker() as session:
        old = (
            await session.execute(
                select(Reading).where(Reading.meter_id == meter.id, Reading.period == october)
            )
        ).scalar_one()
        september_value = (
            await session.execute(
                select(Reading.value).where(
                    Reading.meter_id == meter.id, Reading.period == dt.date(2026, 9, 1)
                )
            )
        ).scalar_one()
        new_value = Decimal(old.value) + Decimal("1.250")
        await session.execute(
            update(Reading).where(Reading.id == old.id).values(status=ReadingStatus.REPLACED.value)
        )
        new_id = (
            await session.execute(
                insert(Reading)
                .values(
                    meter_id=meter.id,
                    period=october,
                    value=new_value,
                    submitted_at=TEST_NOW - dt.timedelta(days=25),
                    source=ReadingSource.RESIDENT.value,
                    status=ReadingStatus.ACCEPTED.value,
                )
                .returning(Reading.id)
            )
        ).scalar_one()
        await session.execute(update(Reading).where(Reading.id == old.id).values(replaced_by_id=new_id))
        await session.commit()

    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    body = await _get(
        portal, "readings", headers, date_from="2026-09-01", date_to="2026-10-31", meter_id=meter.id
    )
    rows = body["readings"]
    assert [(r["period"], r["status"]) for r in rows] == [
        ("2026-10", "accepted"),
        ("2026-10", "replaced"),
        ("2026-09", "accepted"),
    ]
    accepted, replaced, september = rows
    assert accepted["reading_id"] == new_id and replaced["reading_id"] == old.id
    assert Decimal(accepted["value"]) == new_value
    assert Decimal(accepted["consumption"]) == new_value - Decimal(september_value)
    assert replaced["consumption"] is None
    assert Decimal(replaced["value"]) == Decimal(old.value)
    assert september["consumption"] is not None


async def test_rollover_consumption_counts_past_the_wrap(portal: Portal) -> None:
    meter = await _meter(portal, ROLLOVER_APARTMENT, "electricity")
    assert meter.integer_digits == 6 and meter.decimals == 0
    async with portal.state.sessionmaker() as session:
        last = (
            await session.execute(
                select(Reading.value)
                .where(Reading.meter_id == meter.id)
                .order_by(Reading.period.desc())
                .limit(1)
            )
        ).scalar_one()
        assert Decimal(last) > Decimal(999_900)
        await session.execute(
            insert(Reading).values(
                meter_id=meter.id,
                period=dt.date(2026, 11, 1),
                value=Decimal(125),
                submitted_at=TEST_NOW,
                source=ReadingSource.RESIDENT.value,
                status=ReadingStatus.ACCEPTED.value,
                rollover=True,
            )
        )
        await session.commit()

    headers = await portal.login_as(ROLLOVER_APARTMENT)
    body = await _get(
        portal, "readings", headers, date_from="2026-10-01", date_to="2026-11-20", meter_id=meter.id
    )
    november, october = body["readings"]
    assert november["rollover"] is True and november["value"] == "125"
    assert Decimal(november["consumption"]) == Decimal(125) + Decimal(1_000_000) - Decimal(last)
    assert 0 < Decimal(november["consumption"]) < 1_000  # a few hundred kWh, not a million
    assert october["rollover"] is False and Decimal(october["value"]) == Decimal(last)


# --- payments ---------------------------------------------------------------------------------------


async def test_payment_history_monthly_totals_sum_to_the_payments(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    body = await _get(portal, "payments", headers, date_from="2024-01-01", date_to="2025-12-31")
    payments, months, totals = body["payments"], body["months"], body["totals"]
    assert [m["period"] for m in months] == [
        f"{dt.date(2024 + i // 12, i % 12 + 1, 1):%Y-%m}" for i in range(24)
    ]
    assert [p["paid_on"] for p in payments] == sorted((p["paid_on"] for p in payments), reverse=True)
    for purpose in ("utilities", "capital_repair"):
        listed = sum(p["amount_kopecks"] for p in payments if p["purpose"] == purpose)
        assert sum(m[f"{purpose}_kopecks"] for m in months) == listed == totals[f"{purpose}_kopecks"]
        assert listed > 0
    assert totals["total_kopecks"] == totals["utilities_kopecks"] + totals["capital_repair_kopecks"]
    for month in months:
        in_month = [p for p in payments if p["paid_on"][:7] == month["period"][:7]]
        assert month["utilities_kopecks"] == sum(
            p["amount_kopecks"] for p in in_month if p["purpose"] == "utilities"
        )

    account_id = await portal.account_id(HAPPY_PATH_APARTMENT)
    async with portal.state.sessionmaker() as session:
        count, total = (
            await session.execute(
                select(func.count(), func.sum(Payment.amount_kopecks)).where(
                    Payment.account_id == account_id,
                    Payment.paid_on >= dt.date(2024, 1, 1),
                    Payment.paid_on <= dt.date(2025, 12, 31),
                )
            )
        ).one()
    assert len(payments) == count and totals["total_kopecks"] == total


async def test_payment_history_keeps_to_the_dates_and_charts_whole_months(portal: Portal) -> None:
    headers = await portal.login_as(DEBTOR_APARTMENT)
    whole = await _get(portal, "payments", headers, date_from="2025-01-01", date_to="2025-03-31")
    part = await _get(portal, "payments", headers, date_from="2025-01-20", date_to="2025-03-05")
    assert part["months"] == whole["months"]  # the chart shows whole months
    assert all("2025-01-20" <= p["paid_on"] <= "2025-03-05" for p in part["payments"])
    assert part["payments"] == [p for p in whole["payments"] if "2025-01-20" <= p["paid_on"] <= "2025-03-05"]
    assert part["totals"]["total_kopecks"] == sum(p["amount_kopecks"] for p in part["payments"])

    # The debtor stopped paying eight months before November 2026: zero months are listed too.
    recent = await _get(portal, "payments", headers, date_from="2026-04-01", date_to="2026-11-20")
    assert len(recent["months"]) == 8
    assert recent["payments"] == []
    assert all(m["utilities_kopecks"] == 0 == m["capital_repair_kopecks"] for m in recent["months"])
    assert recent["totals"] == {"utilities_kopecks": 0, "capital_repair_kopecks": 0, "total_kopecks": 0}


# --- statement --------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["utilities", "capital_repair"])
async def test_statement_identity_and_chaining(portal: Portal, purpose: str) -> None:
    headers = await portal.login_as(DEBTOR_APARTMENT)
    body = await _get(portal, "statement", headers, purpose=purpose, **WHOLE_HISTORY)
    assert body["purpose"] == purpose
    months = body["months"]
    assert len(months) == 38  # October 2023 … November 2026, whole months touching the range
    assert months[0]["period"] == "2023-10" and months[0]["opening_kopecks"] == 0
    for month in months:
        assert (
            month["opening_kopecks"]
            + month["charged_kopecks"]
            + month["recalculation_kopecks"]
            - month["paid_kopecks"]
            == month["closing_kopecks"]
        )
        assert sum(line["charged_kopecks"] for line in month["lines"]) == month["charged_kopecks"]
        assert sum(line["recalculation_kopecks"] for line in month["lines"]) == month["recalculation_kopecks"]
    for previous, current in itertools.pairwise(months):
        assert current["opening_kopecks"] == previous["closing_kopecks"]
    # No charges outside the 36 months of history; each history month has its service lines.
    assert months[0]["lines"] == [] and months[-1]["lines"] == []
    expected_lines = 1 if purpose == "capital_repair" else 7
    assert all(len(m["lines"]) == expected_lines for m in months[1:-1])
    assert months[-2]["closing_kopecks"] > 0  # a debtor

    # A range that starts later opens with the closing of the month before it.
    tail = await _get(
        portal, "statement", headers, purpose=purpose, date_from="2026-05-15", date_to="2026-07-01"
    )
    assert tail["months"] == [m for m in months if "2026-05" <= m["period"] <= "2026-07"]


async def test_statement_defaults_to_utilities(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    body = await _get(portal, "statement", headers, date_from="2026-10-01", date_to="2026-10-31")
    assert body["purpose"] == "utilities"
    (october,) = body["months"]
    line = october["lines"][0]
    assert line["service_code"] == "maintenance" and isinstance(line["volume"], str)
    assert "capital_repair" not in {entry["service_code"] for entry in october["lines"]}


# --- range rules and errors -------------------------------------------------------------------------

ENDPOINTS = ["readings", "payments", "statement"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_range_errors(portal: Portal, endpoint: str) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cases: list[tuple[dict[str, str], str, str, str]] = [
        ({"date_to": "2026-01-31"}, "validation_error", "date_from", "«Начало периода» обязательно"),
        ({"date_from": "2026-01-01"}, "validation_error", "date_to", "«Конец периода» обязательно"),
        ({"date_from": "2026-13-01", "date_to": "2026-12-31"}, "validation_error", "date_from", "ГГГГ-ММ-ДД"),
        ({"date_from": "01.01.2026", "date_to": "2026-12-31"}, "validation_error", "date_from", "ГГГГ-ММ-ДД"),
        ({"date_from": "2026-01-01", "date_to": "1767225600"}, "validation_error", "date_to", "ГГГГ-ММ-ДД"),
        (
            {"date_from": "2026-01-01T00:00:00", "date_to": "2026-12-31"},
            "validation_error",
            "date_from",
            "ГГГГ-ММ-ДД",
        ),
        ({"date_from": "2026-02-30", "date_to": "2026-12-31"}, "validation_error", "date_from", "ГГГГ-ММ-ДД"),
        (
            {"date_from": "2026-05-02", "date_to": "2026-05-01"},
            "invalid_period",
            "date_from",
            "Начало периода позже конца",
        ),
        ({"date_from": "2020-01-01", "date_to": "2025-01-02"}, "period_too_long", "date_to", "5 лет"),
        (
            {"date_from": "1999-12-31", "date_to": "2000-01-31"},
            "date_out_of_range",
            "date_from",
            "01.01.2000",
        ),
        ({"date_from": "2099-12-01", "date_to": "9999-12-31"}, "date_out_of_range", "date_to", "31.12.2099"),
    ]
    for params, code, field, text in cases:
        response = await portal.client.get(f"{HISTORY}/{endpoint}", params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)
        body = response.json()
        assert (body["code"], body["field"]) == (code, field), (params, body)
        assert text in body["message"], (params, body)

    # Exactly five years is allowed; so is a single day.
    for params in (
        {"date_from": "2020-01-01", "date_to": "2025-01-01"},
        {"date_from": "2024-02-29", "date_to": "2029-02-28"},
        {"date_from": "2026-05-01", "date_to": "2026-05-01"},
    ):
        response = await portal.client.get(f"{HISTORY}/{endpoint}", params=params, headers=headers)
        assert response.status_code == 200, (params, response.text)


async def test_meter_and_purpose_parameter_errors(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    dates = {"date_from": "2026-01-01", "date_to": "2026-10-31"}
    for meter_id in ("abc", "0", "-5", "2147483648", "1.5"):
        response = await portal.client.get(
            f"{HISTORY}/readings", params={**dates, "meter_id": meter_id}, headers=headers
        )
        assert response.status_code == 422, (meter_id, response.text)
        body = response.json()
        assert body["field"] == "meter_id" and "«Счётчик»" in body["message"], body

    response = await portal.client.get(
        f"{HISTORY}/statement", params={**dates, "purpose": "gas"}, headers=headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "purpose"
    assert body["message"] == "Поле «Назначение платежа»: допустимые значения — utilities, capital_repair."


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_histories_need_a_session(portal: Portal, endpoint: str) -> None:
    params = {"date_from": "2026-01-01", "date_to": "2026-10-31"}
    for headers in ({}, {"Authorization": "Bearer forged-token"}, {"Authorization": "Basic abc"}):
        response = await portal.client.get(f"{HISTORY}/{endpoint}", params=params, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["code"] == "not_authenticated"


async def test_reading_history_sends_a_fixed_number_of_statements(make_portal: PortalFactory) -> None:
    """The session check and one query, whatever the range, the meters or the readings replaced."""
    portal: Portal = await make_portal(cache_enabled=False)
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    meter = await _meter(portal, HAPPY_PATH_APARTMENT, "cold_water")
    ranges: list[dict[str, Any]] = [
        {"date_from": "2023-11-01", "date_to": "2026-11-25"},  # 36 months
        {"date_from": "2026-10-01", "date_to": "2026-10-31"},
        {"date_from": "2023-11-01", "date_to": "2026-11-25", "meter_id": meter.id},
    ]
    for params in ranges:
        first = await _get(portal, "readings", headers, **params)
        with counted_statements(portal) as statements:
            again = await _get(portal, "readings", headers, **params)
        assert again == first and again["readings"]
        assert len(statements) == 1 + 1, statements


async def test_other_histories_send_a_fixed_number_of_statements(make_portal: PortalFactory) -> None:
    portal: Portal = await make_portal(cache_enabled=False)
    headers = await portal.login_as(DEBTOR_APARTMENT)
    # The statement: its lines, and one query for the opening balance, the months' sums (with imported
    # opening balances, which are not lines) and the months' payments.
    for path, queries in (("payments", 1), ("statement", 2)):
        with counted_statements(portal) as statements:
            await _get(portal, path, headers, **WHOLE_HISTORY)
        assert len(statements) == 1 + queries, statements
