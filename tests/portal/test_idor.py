"""IDOR: one account's session can neither read nor change another account's data.

Two registered demo residents log in: A (the happy path) and B (the debtor). Every authenticated GET
of the OpenAPI document is called with A's token — with B's meter id wherever a meter id is taken —
and must answer A's own data only; submitting readings with B's meter ids must store nothing for B.
No authenticated operation takes an account from the request, except the three that name an account
of the login itself (attach, choose, detach) — each checked against the login's accounts here: a
session on an attached account reads that account only, and an account that is not attached (or was
detached) is refused by every endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.demo.accounts import (
    DEBTOR_APARTMENT,
    DEMO_PASSWORD,
    HAPPY_PATH_APARTMENT,
    UNREGISTERED_APARTMENT,
    account_number,
    capital_repair_number,
)
from portal.models import Account, Meter, Payment, Reading
from tests.conftest import Portal
from tests.support.registration import expected_total

API = "/api/v1"
#: Request fields that would let a caller name the account (or the user) a resource belongs to.
ACCOUNT_FIELDS = {"account", "account_id", "accountid", "account_number", "accountnumber", "user_id", "ls"}
#: The operations that name an account: to attach it (by the receipt's proof), to choose or to detach
#: one of the login's own accounts. Their refusals are tested below.
ACCOUNT_NAMING_OPERATIONS = {
    ("post", "/accounts/attach"),
    ("post", "/accounts/current"),
    ("delete", "/accounts/{account_number}"),
}
#: The resident endpoints this test must have reached (so it cannot pass by finding nothing).
KNOWN_RESIDENT_GETS = {
    "/account",
    "/receipts",
    "/meters",
    "/history/readings",
    "/history/payments",
    "/history/statement",
}


@dataclass
class Resident:
    """A logged-in demo resident and what identifies their data."""

    apartment: int
    account_id: int
    headers: dict[str, str]
    owner_name: str
    meter_ids: list[int]
    serial_numbers: list[str]

    @property
    def number(self) -> str:
        return account_number(self.apartment)

    def identifying_strings(self) -> list[str]:
        return [self.number, capital_repair_number(self.apartment), self.owner_name, *self.serial_numbers]


async def _resident(portal: Portal, apartment: int, *, log_in: bool = True) -> Resident:
    async with portal.state.sessionmaker() as session:
        account = (
            await session.execute(select(Account).where(Account.number == account_number(apartment)))
        ).scalar_one()
        meters = (
            (await session.execute(select(Meter).where(Meter.account_id == account.id).order_by(Meter.id)))
            .scalars()
            .all()
        )
    headers = await portal.login(account_number(apartment), DEMO_PASSWORD) if log_in else {}
    return Resident(
        apartment=apartment,
        account_id=account.id,
        headers=headers,
        owner_name=account.owner_name,
        meter_ids=[m.id for m in meters],
        serial_numbers=[m.serial_number for m in meters],
    )


@pytest.fixture
async def residents(portal: Portal) -> tuple[Resident, Resident]:
    a = await _resident(portal, HAPPY_PATH_APARTMENT)
    b = await _resident(portal, DEBTOR_APARTMENT)
    assert set(a.meter_ids).isdisjoint(b.meter_ids)
    return a, b


async def _openapi(portal: Portal) -> dict[str, Any]:
    response = await portal.client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _field_names(document: dict[str, Any], schema: dict[str, Any], seen: set[str] | None = None) -> set[str]:
    """Every property name of a request body schema, nested objects and arrays included."""
    seen = seen if seen is not None else set()
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return set()
        seen.add(schema["$ref"])
    schema = _resolve(document, schema)
    names: set[str] = set()
    for name, sub in schema.get("properties", {}).items():
        names.add(name.lower())
        names |= _field_names(document, sub, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            names |= _field_names(document, schema[key], seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            names |= _field_names(document, sub, seen)
    return names


def _secured_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("security")
    ]


def _values_under(key: str, data: Any) -> list[Any]:
    """Every value stored under ``key`` anywhere in a JSON document."""
    found: list[Any] = []
    if isinstance(data, dict):
        for name, value in data.items():
            if name == key:
                found.append(value)
            found.extend(_values_under(key, value))
    elif isinstance(data, list):
        for item in data:
            found.extend(_values_under(key, item))
    return found


async def test_no_resident_operation_takes_an_account(portal: Portal) -> None:
    document = await _openapi(portal)
    operations = _secured_operations(document)
    assert {
        path.removeprefix(API) for path, method, _ in operations if method == "get"
    } >= KNOWN_RESIDENT_GETS
    named = {(method, path.removeprefix(API)) for path, method, _ in operations} & ACCOUNT_NAMING_OPERATIONS
    assert named == ACCOUNT_NAMING_OPERATIONS
    for path, method, operation in operations:
        if (method, path.removeprefix(API)) in ACCOUNT_NAMING_OPERATIONS:
            continue
        parameters = {p["name"].lower() for p in operation.get("parameters", [])}
        assert not parameters & ACCOUNT_FIELDS, (method, path, parameters)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            fields = _field_names(document, body["schema"])
            assert not fields & ACCOUNT_FIELDS, (method, path, fields)


async def _read_every_get(
    portal: Portal, headers: dict[str, str], own: Resident, others: list[Resident], attached: set[str]
) -> set[str]:
    """Call every authenticated GET as ``own``'s session (with another's meter id wherever one is taken):
    nothing of ``others`` may show. ``attached``: the numbers the login's account list may name."""
    document = await _openapi(portal)
    fillers = {
        "date_from": "2023-10-01",
        "date_to": "2026-11-30",
        "meter_id": str(others[0].meter_ids[0]),  # another's meter: must give nothing of theirs
        "period": "2026-10",
        "purpose": "utilities",
    }
    reached: set[str] = set()
    for path, method, operation in _secured_operations(document):
        if method != "get":
            continue
        url, query = path, {}
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if parameter["in"] == "path":
                url = url.replace("{" + name + "}", fillers.get(name, "1"))
            elif parameter["in"] == "query" and name in fillers:
                query[name] = fillers[name]
        response = await portal.client.get(url, params=query, headers=headers)
        assert response.status_code < 500, (url, response.text)
        if response.status_code != 200:
            continue
        reached.add(path.removeprefix(API))
        text = response.text if "json" in response.headers.get("content-type", "") else ""
        if path == f"{API}/accounts":
            names = {row["account_number"] for row in response.json()["accounts"]}
            assert names == attached | {own.number}, names
            continue
        for other in others:
            for secret in other.identifying_strings():
                assert secret not in text, (url, secret)
        if text:
            data = response.json()
            assert set(_values_under("meter_id", data)) <= set(own.meter_ids), url
            for number in _values_under("account_number", data):
                assert number in {own.number, capital_repair_number(own.apartment)}, (url, number)
    return reached


async def test_a_session_reads_only_its_own_account(
    portal: Portal, residents: tuple[Resident, Resident]
) -> None:
    a, b = residents
    reached = await _read_every_get(portal, a.headers, a, [b], set())
    assert reached >= KNOWN_RESIDENT_GETS, KNOWN_RESIDENT_GETS - reached

    # And what A reads is A's own data.
    summary = (await portal.client.get(f"{API}/account", headers=a.headers)).json()
    assert summary["account_number"] == a.number
    assert summary["capital_repair"]["account_number"] == capital_repair_number(a.apartment)
    meters = (await portal.client.get(f"{API}/meters", headers=a.headers)).json()
    assert meters["account_number"] == a.number
    assert sorted(m["meter_id"] for m in meters["meters"]) == a.meter_ids
    readings = (
        await portal.client.get(
            f"{API}/history/readings",
            params={"date_from": "2023-10-01", "date_to": "2026-11-30"},
            headers=a.headers,
        )
    ).json()
    assert {r["meter_id"] for r in readings["readings"]} == set(a.meter_ids)
    payments = (
        await portal.client.get(
            f"{API}/history/payments",
            params={"date_from": "2023-10-01", "date_to": "2026-11-30"},
            headers=a.headers,
        )
    ).json()
    async with portal.state.sessionmaker() as session:
        own_total = await session.scalar(
            select(func.sum(Payment.amount_kopecks)).where(Payment.account_id == a.account_id)
        )
    assert payments["totals"]["total_kopecks"] == own_total


async def _readings_of(portal: Portal, meter_ids: list[int]) -> list[tuple[Any, ...]]:
    async with portal.state.sessionmaker() as session:
        rows = await session.execute(
            select(Reading.id, Reading.meter_id, Reading.period, Reading.value, Reading.status)
            .where(Reading.meter_id.in_(meter_ids))
            .order_by(Reading.id)
        )
        return [tuple(row) for row in rows]


async def _plausible_next(portal: Portal, meter_id: int) -> str:
    """A value B's meter would accept (a little above its last reading), so only ownership refuses it."""
    async with portal.state.sessionmaker() as session:
        meter = await session.get(Meter, meter_id)
        last = await session.scalar(
            select(Reading.value)
            .where(Reading.meter_id == meter_id, Reading.status == "accepted")
            .order_by(Reading.period.desc())
            .limit(1)
        )
    assert meter is not None and last is not None
    return str((Decimal(last) + 1).quantize(Decimal(1).scaleb(-meter.decimals)))


@pytest.mark.parametrize("path", ["/readings", "/public/readings"])
async def test_a_session_cannot_submit_readings_for_another_account(
    portal: Portal, residents: tuple[Resident, Resident], path: str
) -> None:
    a, b = residents
    document = await _openapi(portal)
    if f"{API}{path}" not in document["paths"]:
        pytest.fail(f"POST {API}{path} does not exist yet: the IDOR write check cannot run")
    before = await _readings_of(portal, b.meter_ids)
    own_before = await _readings_of(portal, a.meter_ids)

    # Only B's meters.
    body = {"readings": [{"meter_id": m, "value": await _plausible_next(portal, m)} for m in b.meter_ids]}
    response = await portal.client.post(f"{API}{path}", json=body, headers=a.headers)
    assert response.status_code in {200, 404, 409, 422}, response.text
    if response.status_code == 200:
        for result in response.json()["results"]:
            assert (result["status"], result["code"]) == ("rejected", "unknown_meter"), result
            assert result.get("reading") is None
    assert b.number not in response.text and b.owner_name not in response.text

    # B's meter mixed with A's own: A's may be stored, B's never.
    own_meter = a.meter_ids[0]
    mixed = {
        "readings": [
            {"meter_id": own_meter, "value": await _plausible_next(portal, own_meter)},
            {"meter_id": b.meter_ids[0], "value": await _plausible_next(portal, b.meter_ids[0])},
        ]
    }
    response = await portal.client.post(f"{API}{path}", json=mixed, headers=a.headers)
    assert response.status_code in {200, 404, 409, 422}, response.text
    if response.status_code == 200:
        results = {r["meter_id"]: r for r in response.json()["results"]}
        assert results[b.meter_ids[0]]["code"] == "unknown_meter"

    assert await _readings_of(portal, b.meter_ids) == before
    if response.status_code != 200:
        assert await _readings_of(portal, a.meter_ids) == own_before


async def test_an_idempotency_key_is_never_shared_between_accounts(
    portal: Portal, residents: tuple[Resident, Resident]
) -> None:
    """B repeating A's key gets B's own answer, never A's stored one (keys are unique per account)."""
    a, b = residents
    document = await _openapi(portal)
    if f"{API}/readings" not in document["paths"]:
        pytest.fail(f"POST {API}/readings does not exist yet: the IDOR write check cannot run")
    key = {"Idempotency-Key": "same-key-for-both-0001"}
    a_body = {
        "readings": [{"meter_id": a.meter_ids[0], "value": await _plausible_next(portal, a.meter_ids[0])}]
    }
    b_body = {
        "readings": [{"meter_id": b.meter_ids[0], "value": await _plausible_next(portal, b.meter_ids[0])}]
    }
    first = await portal.client.post(f"{API}/readings", json=a_body, headers={**a.headers, **key})
    assert first.status_code == 200, first.text
    second = await portal.client.post(f"{API}/readings", json=b_body, headers={**b.headers, **key})
    assert second.status_code == 200, second.text
    assert "idempotent-replayed" not in second.headers
    assert [r["meter_id"] for r in second.json()["results"]] == [b.meter_ids[0]]
    assert a.number not in second.text
    stored_for_b = [row for row in await _readings_of(portal, b.meter_ids) if row[2] == dt.date(2026, 11, 1)]
    assert len(stored_for_b) == 1 and json.loads(second.text)["results"][0]["status"] == "accepted"


async def _attach(portal: Portal, headers: dict[str, str], number: str, total: int | None = None) -> int:
    if total is None:
        total = await expected_total(portal, number)
    body = {"account_number": number, "receipt_total_kopecks": total}
    return (await portal.client.post(f"{API}/accounts/attach", json=body, headers=headers)).status_code


async def _choose(portal: Portal, headers: dict[str, str], number: str) -> int:
    body = {"account_number": number}
    return (await portal.client.post(f"{API}/accounts/current", json=body, headers=headers)).status_code


async def test_a_session_on_an_attached_account_reads_only_that_account(
    portal: Portal, residents: tuple[Resident, Resident]
) -> None:
    a, b = residents
    c = await _resident(portal, UNREGISTERED_APARTMENT, log_in=False)
    assert await _attach(portal, a.headers, c.number) == 201
    assert await _choose(portal, a.headers, c.number) == 200
    reached = await _read_every_get(portal, a.headers, c, [a, b], {a.number})
    assert reached >= KNOWN_RESIDENT_GETS, KNOWN_RESIDENT_GETS - reached
    summary = (await portal.client.get(f"{API}/account", headers=a.headers)).json()
    assert summary["account_number"] == c.number and summary["owner_name"] == c.owner_name


async def test_an_account_not_attached_or_detached_is_refused_everywhere(
    portal: Portal, residents: tuple[Resident, Resident]
) -> None:
    a, b = residents
    # B belongs to another login: it can be neither chosen, detached nor attached (even by its proof).
    assert await _choose(portal, a.headers, b.number) == 404
    assert (await portal.client.delete(f"{API}/accounts/{b.number}", headers=a.headers)).status_code == 404
    assert await _attach(portal, a.headers, b.number) == 409
    await _read_every_get(portal, a.headers, a, [b], set())

    # C attached, chosen by a second session, then detached by the first.
    c = await _resident(portal, UNREGISTERED_APARTMENT, log_in=False)
    assert await _attach(portal, a.headers, c.number) == 201
    on_c = await portal.login(a.number, DEMO_PASSWORD)
    assert await _choose(portal, on_c, c.number) == 200
    assert await _choose(portal, a.headers, c.number) == 200
    reached_on_c = await _read_every_get(portal, on_c, c, [a, b], {a.number})  # warms the caches
    assert reached_on_c >= KNOWN_RESIDENT_GETS
    detached = await portal.client.delete(f"{API}/accounts/{c.number}", headers=a.headers)
    assert detached.status_code == 200, detached.text

    # The second session ended: every operation of a session refuses it.
    document = await _openapi(portal)
    for path, method, operation in _secured_operations(document):
        url = path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", c.number if "account" in path else "1")
        response = await portal.client.request(method.upper(), url, headers=on_c, json={})
        assert response.status_code == 401, (method, url, response.status_code)
    # The first moved to A's own account and reads nothing of C any more.
    assert await _choose(portal, a.headers, c.number) == 404
    reached = await _read_every_get(portal, a.headers, a, [c, b], set())
    assert reached >= KNOWN_RESIDENT_GETS, KNOWN_RESIDENT_GETS - reached
