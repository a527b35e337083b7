"""Readings without login: meters by account number, proof by the previous readings, a short-lived token."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.demo.accounts import HAPPY_PATH_APARTMENT, UNREGISTERED_APARTMENT, account_number
from tests.conftest import Portal
from tests.support.readings import METERS, PERIOD, meter_ids, previous_values, readings_of, ru

LOOKUP = "/api/v1/public/readings/lookup"
CHECK = "/api/v1/public/readings/check"
PUBLIC_METERS = "/api/v1/public/meters"
PUBLIC_READINGS = "/api/v1/public/readings"
NUMBER = account_number(UNREGISTERED_APARTMENT)
OTHER_APARTMENT = 14


def previous_body(number: str, values: dict[int, Decimal]) -> dict[str, object]:
    return {
        "account_number": number,
        "previous_readings": [
            {"meter_id": meter_id, "value": ru(value)} for meter_id, value in values.items()
        ],
    }


async def open_access(portal: Portal, apartment: int) -> dict[str, str]:
    values = await previous_values(portal, apartment)
    response = await portal.client.post(CHECK, json=previous_body(account_number(apartment), values))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_lookup_lists_meters_without_values(portal: Portal) -> None:
    response = await portal.client.post(LOOKUP, json={"account_number": f" {NUMBER} "})
    assert response.status_code == 200
    body = response.json()
    assert body["account_number"] == NUMBER
    assert body["window"]["open"] is True
    ids = await meter_ids(portal, UNREGISTERED_APARTMENT)
    assert {meter["meter_id"] for meter in body["meters"]} == set(ids.values())
    for meter in body["meters"]:
        assert set(meter) == {
            "meter_id", "service", "service_name", "unit", "serial_masked", "integer_digits", "decimals",
            "previous_required",
        }  # fmt: skip
        assert meter["previous_required"] is True  # every demo meter has a reading on the receipt
        assert meter["serial_masked"].startswith("****")
        assert len(meter["serial_masked"]) == 8
    previous = await previous_values(portal, UNREGISTERED_APARTMENT)
    for value in previous.values():
        assert str(value) not in response.text
        assert ru(value) not in response.text


async def test_a_new_meter_without_readings_is_not_asked_for(portal: Portal) -> None:
    import datetime as dt

    from portal.models import Meter

    ids = await meter_ids(portal, UNREGISTERED_APARTMENT)
    previous = await previous_values(portal, UNREGISTERED_APARTMENT)
    async with portal.state.sessionmaker() as session:
        template = await session.get(Meter, next(iter(ids.values())))
        assert template is not None
        new = Meter(
            account_id=template.account_id,
            service_id=template.service_id,
            serial_number="NEW-000001",
            integer_digits=5,
            decimals=3,
            installed_on=dt.date(2026, 11, 1),
            next_verification_on=dt.date(2032, 11, 1),
        )
        session.add(new)
        await session.commit()
        new_id = new.id
    body = (await portal.client.post(LOOKUP, json={"account_number": NUMBER})).json()
    required = {meter["meter_id"]: meter["previous_required"] for meter in body["meters"]}
    assert required[new_id] is False and all(required[meter_id] for meter_id in ids.values())
    # The check needs exactly the meters marked: the new one left out, the rest given.
    response = await portal.client.post(CHECK, json=previous_body(NUMBER, previous))
    assert response.status_code == 200, response.text


async def test_lookup_of_an_unknown_account_is_404(portal: Portal) -> None:
    response = await portal.client.post(LOOKUP, json={"account_number": "9999999999"})
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_found"
    bad = await portal.client.post(LOOKUP, json={"account_number": "12ab"})
    assert bad.status_code == 422


async def test_wrong_previous_readings_get_one_uniform_answer(portal: Portal) -> None:
    values = await previous_values(portal, UNREGISTERED_APARTMENT)
    first_meter = next(iter(values))
    wrong_value = {**values, first_meter: values[first_meter] + Decimal("0.001")}
    missing_meter = dict(list(values.items())[1:])
    foreign = (await meter_ids(portal, OTHER_APARTMENT))["cold_water"]
    extra_meter = {**values, foreign: Decimal(1)}
    answers = [
        await portal.client.post(CHECK, json=previous_body(NUMBER, wrong_value)),
        await portal.client.post(CHECK, json=previous_body(NUMBER, missing_meter)),
        await portal.client.post(CHECK, json=previous_body(NUMBER, extra_meter)),
        await portal.client.post(CHECK, json=previous_body("9999999999", values)),
    ]
    for answer in answers:
        assert answer.status_code == 409
        assert answer.json()["code"] == "previous_readings_mismatch"
        assert "token" not in answer.json()
        for value in values.values():
            assert ru(value) not in answer.text and str(value) not in answer.text
    assert len({answer.text for answer in answers}) == 1


async def test_right_previous_readings_open_the_submission(portal: Portal) -> None:
    values = await previous_values(portal, UNREGISTERED_APARTMENT)
    # A dot or a comma, trailing zeros or not: compared as numbers.
    typed = {meter_id: value.normalize() for meter_id, value in values.items()}
    body = {
        "account_number": NUMBER,
        "previous_readings": [{"meter_id": m, "value": str(v)} for m, v in typed.items()],
    }
    response = await portal.client.post(CHECK, json=body)
    assert response.status_code == 200, response.text
    granted = response.json()
    assert granted["account_number"] == NUMBER
    expires = dt.datetime.fromisoformat(granted["expires_at"])
    assert expires - portal.clock.now() == dt.timedelta(minutes=portal.settings.readings_token_minutes)
    assert {m["meter_id"] for m in granted["meters"]} == set(values)
    headers = {"Authorization": f"Bearer {granted['token']}"}

    meters = await portal.client.get(PUBLIC_METERS, headers=headers)
    assert meters.status_code == 200
    cold = next(m for m in meters.json()["meters"] if m["service"] == "cold_water")
    new = Decimal(cold["previous_reading"]["value"]) + 2
    submitted = await portal.client.post(
        PUBLIC_READINGS,
        json={"readings": [{"meter_id": cold["meter_id"], "value": ru(new)}]},
        headers=headers,
    )
    assert submitted.status_code == 200
    assert submitted.json()["source"] == "without_login"
    assert submitted.json()["results"][0]["status"] == "accepted"
    stored = await readings_of(portal, cold["meter_id"])
    assert [(r.source, Decimal(r.value), r.period) for r in stored] == [("without_login", new, PERIOD)]

    # The readings token opens nothing else: not the resident's own pages.
    assert (await portal.client.get(METERS, headers=headers)).status_code == 401
    assert (await portal.client.get("/api/v1/auth/session", headers=headers)).status_code == 401


async def test_the_same_rules_apply_without_login(portal: Portal) -> None:
    headers = await open_access(portal, UNREGISTERED_APARTMENT)
    ids = await meter_ids(portal, UNREGISTERED_APARTMENT)
    previous = await previous_values(portal, UNREGISTERED_APARTMENT)
    cold = ids["cold_water"]
    response = await portal.client.post(
        PUBLIC_READINGS,
        json={"readings": [{"meter_id": cold, "value": ru(previous[cold] - 1)}]},
        headers=headers,
    )
    assert response.json()["results"][0]["code"] == "below_previous"


async def test_the_readings_token_expires(portal: Portal) -> None:
    headers = await open_access(portal, UNREGISTERED_APARTMENT)
    cold = (await meter_ids(portal, UNREGISTERED_APARTMENT))["cold_water"]
    portal.clock.advance(dt.timedelta(minutes=portal.settings.readings_token_minutes, seconds=1))
    assert (await portal.client.get(PUBLIC_METERS, headers=headers)).status_code == 401
    response = await portal.client.post(
        PUBLIC_READINGS, json={"readings": [{"meter_id": cold, "value": "1"}]}, headers=headers
    )
    assert response.status_code == 401
    assert await readings_of(portal, cold) == []


async def test_a_token_of_one_account_cannot_touch_another(portal: Portal) -> None:
    headers = await open_access(portal, UNREGISTERED_APARTMENT)
    foreign = (await meter_ids(portal, OTHER_APARTMENT))["cold_water"]
    foreign_previous = (await previous_values(portal, OTHER_APARTMENT))[foreign]
    response = await portal.client.post(
        PUBLIC_READINGS,
        json={"readings": [{"meter_id": foreign, "value": ru(foreign_previous + 1)}]},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["code"] == "unknown_meter"
    assert await readings_of(portal, foreign) == []
    meters = (await portal.client.get(PUBLIC_METERS, headers=headers)).json()
    assert meters["account_number"] == NUMBER
    assert foreign not in {m["meter_id"] for m in meters["meters"]}


async def test_a_logged_in_session_may_use_the_public_submission(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meter_ids(portal, HAPPY_PATH_APARTMENT))["cold_water"]
    previous = (await previous_values(portal, HAPPY_PATH_APARTMENT))[cold]
    response = await portal.client.post(
        PUBLIC_READINGS, json={"readings": [{"meter_id": cold, "value": ru(previous + 1)}]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["source"] == "resident"
    assert [r.source for r in await readings_of(portal, cold)] == ["resident"]


async def test_guessing_is_throttled(portal: Portal) -> None:
    values = await previous_values(portal, UNREGISTERED_APARTMENT)
    wrong = {meter_id: value + 1 for meter_id, value in values.items()}
    statuses = []
    for _ in range(portal.settings.throttle_free_failures + 1):
        statuses.append((await portal.client.post(CHECK, json=previous_body(NUMBER, wrong))).status_code)
    assert statuses == [409] * portal.settings.throttle_free_failures + [429]
    # While cooling down even the right answer waits; the account is not locked for good.
    blocked = await portal.client.post(CHECK, json=previous_body(NUMBER, values))
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert int(blocked.headers["retry-after"]) > 0
    portal.clock.advance(dt.timedelta(seconds=portal.settings.throttle_max_cooldown_seconds + 1))
    assert (await portal.client.post(CHECK, json=previous_body(NUMBER, values))).status_code == 200


async def test_check_input_errors_are_422_and_not_counted(portal: Portal) -> None:
    values = await previous_values(portal, UNREGISTERED_APARTMENT)
    meter_id = next(iter(values))
    garbage = await portal.client.post(
        CHECK, json={"account_number": NUMBER, "previous_readings": [{"meter_id": meter_id, "value": "abc"}]}
    )
    assert garbage.status_code == 422
    assert garbage.json()["field"] == "previous_readings"
    twice = await portal.client.post(
        CHECK,
        json={
            "account_number": NUMBER,
            "previous_readings": [{"meter_id": meter_id, "value": "1"}, {"meter_id": meter_id, "value": "1"}],
        },
    )
    assert twice.status_code == 422
    empty = await portal.client.post(CHECK, json={"account_number": NUMBER, "previous_readings": []})
    assert empty.status_code == 422
    # None of that was a guess: the right answer still passes at once.
    for _ in range(portal.settings.throttle_free_failures):
        await portal.client.post(
            CHECK,
            json={"account_number": NUMBER, "previous_readings": [{"meter_id": meter_id, "value": "x"}]},
        )
    assert (await portal.client.post(CHECK, json=previous_body(NUMBER, values))).status_code == 200
