"""Meter readings of a logged-in resident: the list of meters and every rule of a submission."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.demo.accounts import (
    EXPIRED_VERIFICATION_APARTMENT,
    HAPPY_PATH_APARTMENT,
    ROLLOVER_APARTMENT,
    VERIFICATION_SOON_APARTMENT,
)
from tests.conftest import Portal, PortalFactory
from tests.support.readings import (
    METERS,
    PERIOD,
    PREVIOUS_PERIOD,
    READINGS,
    count_readings,
    meter_ids,
    meters_by_service,
    only_result,
    readings_of,
    ru,
    submit,
)
from tests.support.statements import counted_statements, is_postgres

OTHER_APARTMENT = 9  # another registered account


async def test_meters_list_shows_previous_readings_and_an_open_window(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    response = await portal.client.get(METERS, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["window"]["open"] is True
    assert body["window"]["always_open"] is True
    assert body["window"]["period"] == f"{PERIOD:%Y-%m}"
    services = {meter["service"]: meter for meter in body["meters"]}
    assert set(services) == {"cold_water", "hot_water", "electricity"}
    cold = services["cold_water"]
    assert cold["service_name"] == "Холодное водоснабжение"
    assert cold["unit"] == "м³"
    assert (cold["integer_digits"], cold["decimals"]) == (5, 3)
    assert cold["value_format"] == "не более 5 цифр до запятой и 3 после, например 12345,678"
    assert cold["verification_status"] == "ok"
    assert cold["accepts_readings"] is True
    assert cold["current_reading"] is None
    previous = cold["previous_reading"]
    assert previous["period"] == f"{PREVIOUS_PERIOD:%Y-%m}"
    # An exact decimal string with the meter's three decimals, never a float.
    assert isinstance(previous["value"], str)
    assert len(previous["value"].split(".")[1]) == 3
    electricity = services["electricity"]
    assert "." not in electricity["previous_reading"]["value"] or electricity["decimals"] == 1


async def test_meters_need_a_session(portal: Portal) -> None:
    assert (await portal.client.get(METERS)).status_code == 401
    bogus = {"Authorization": "Bearer nope"}
    assert (await portal.client.get(METERS, headers=bogus)).status_code == 401
    assert (await portal.client.post(READINGS, json={"readings": []})).status_code == 401


async def test_verification_warnings(portal: Portal) -> None:
    expired = await meters_by_service(portal, await portal.login_as(EXPIRED_VERIFICATION_APARTMENT))
    hot = expired["hot_water"]
    assert hot["verification_status"] == "expired"
    assert hot["accepts_readings"] is False
    assert "выполните поверку или замену счётчика" in hot["verification_message"].lower()
    assert expired["cold_water"]["verification_status"] == "ok"
    soon = await meters_by_service(portal, await portal.login_as(VERIFICATION_SOON_APARTMENT))
    assert soon["cold_water"]["verification_status"] == "due_soon"
    due = dt.date.fromisoformat(soon["cold_water"]["next_verification_on"])
    assert due.strftime("%d.%m.%Y") in soon["cold_water"]["verification_message"]


async def test_reading_is_accepted_with_comma_or_dot(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    meters = await meters_by_service(portal, headers)
    cold, hot = meters["cold_water"], meters["hot_water"]
    cold_new = Decimal(cold["previous_reading"]["value"]) + Decimal("1.5")
    hot_new = Decimal(hot["previous_reading"]["value"]) + Decimal("0.25")
    response = await submit(
        portal,
        headers,
        {"meter_id": cold["meter_id"], "value": ru(cold_new)},
        {"meter_id": hot["meter_id"], "value": str(hot_new)},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == f"{PERIOD:%Y-%m}"
    assert body["source"] == "resident"
    first, second = body["results"]
    assert first["status"] == "accepted" and first["code"] == "accepted"
    assert first["reading"]["value"] == f"{cold_new:.3f}"
    assert first["consumption"] == "1.500"
    assert "Показание принято" in first["message"]
    assert second["status"] == "accepted"
    assert second["reading"]["value"] == f"{hot_new:.3f}"

    stored = await readings_of(portal, cold["meter_id"])
    assert len(stored) == 1
    assert (stored[0].status, stored[0].source, Decimal(stored[0].value)) == (
        "accepted",
        "resident",
        cold_new,
    )
    assert stored[0].rollover is False and stored[0].needs_review is False

    again = await meters_by_service(portal, headers)
    assert again["cold_water"]["current_reading"]["value"] == f"{cold_new:.3f}"
    assert again["cold_water"]["previous_reading"] == cold["previous_reading"]


async def test_too_many_decimals_names_the_format(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    before = await count_readings(portal)
    result = only_result(await submit(portal, headers, {"meter_id": cold["meter_id"], "value": "123,4567"}))
    assert (result["status"], result["code"]) == ("rejected", "invalid_format")
    assert result["message"] == "Новое показание: не более 5 цифр до запятой и 3 после, например 12345,678."
    assert result["reading"] is None
    assert await count_readings(portal) == before


async def test_too_many_integer_digits_and_garbage_are_refused(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    meters = await meters_by_service(portal, headers)
    cold, electricity = meters["cold_water"], meters["electricity"]
    for value in ("123456", "1e3", "-5", "12,3,4", "١٢٣", " ", "12.", ".5"):
        result = only_result(await submit(portal, headers, {"meter_id": cold["meter_id"], "value": value}))
        assert result["code"] == "invalid_format", value
    if electricity["decimals"] == 0:
        result = only_result(
            await submit(portal, headers, {"meter_id": electricity["meter_id"], "value": "5,5"})
        )
        assert result["code"] == "invalid_format"
        assert "целое число, не более 6 цифр, например 123456" in result["message"]
    assert await readings_of(portal, cold["meter_id"]) == []


async def test_leading_zeros_as_on_the_dial_are_fine(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    new = Decimal(cold["previous_reading"]["value"]) + 1
    typed = f"{new:.3f}".zfill(9).replace(".", ",")  # e.g. 00123,456 on a 5-digit dial
    result = only_result(await submit(portal, headers, {"meter_id": cold["meter_id"], "value": typed}))
    assert result["status"] == "accepted"
    assert result["reading"]["value"] == f"{new:.3f}"


async def test_below_previous_is_refused(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    previous = Decimal(cold["previous_reading"]["value"])
    result = only_result(
        await submit(portal, headers, {"meter_id": cold["meter_id"], "value": ru(previous - 1)})
    )
    assert (result["status"], result["code"]) == ("rejected", "below_previous")
    assert f"меньше предыдущего показания {ru(previous)}" in result["message"]
    # Confirming a rollover does not help when the wrap would mean an absurd consumption.
    result = only_result(
        await submit(
            portal,
            headers,
            {"meter_id": cold["meter_id"], "value": ru(previous - 1), "confirm_rollover": True},
        )
    )
    assert result["code"] == "below_previous"
    assert await readings_of(portal, cold["meter_id"]) == []


async def test_rollover_needs_confirmation_then_is_accepted(portal: Portal) -> None:
    headers = await portal.login_as(ROLLOVER_APARTMENT)
    electricity = (await meters_by_service(portal, headers))["electricity"]
    previous = Decimal(electricity["previous_reading"]["value"])
    assert previous >= 999_900  # the demo's meter about to wrap
    expected = Decimal(1_000_000) - previous + 30
    result = only_result(await submit(portal, headers, {"meter_id": electricity["meter_id"], "value": "30"}))
    assert (result["status"], result["code"]) == ("needs_confirmation", "rollover_confirmation_required")
    assert "перешёл через ноль" in result["message"]
    # Every number of the dialog written one way, thousands grouped as on the screen beside it.
    whole = f"{int(previous):,}".replace(",", "\u00a0")
    assert f"предыдущего {whole}" in result["message"] and "после 999\u00a0999 снова" in result["message"]
    assert str(int(previous)) not in result["message"]
    assert result["consumption"] == str(expected)
    assert await readings_of(portal, electricity["meter_id"]) == []

    result = only_result(
        await submit(
            portal, headers, {"meter_id": electricity["meter_id"], "value": "30", "confirm_rollover": True}
        )
    )
    assert result["status"] == "accepted"
    assert result["reading"]["rollover"] is True
    assert result["reading"]["needs_review"] is False
    assert result["consumption"] == str(expected)
    stored = await readings_of(portal, electricity["meter_id"])
    assert [(r.status, r.rollover, Decimal(r.value)) for r in stored] == [("accepted", True, Decimal(30))]


async def test_implausible_consumption_needs_confirmation_and_is_flagged(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    huge = Decimal(cold["previous_reading"]["value"]) + 31  # over the 30 m³ a month limit
    entry = {"meter_id": cold["meter_id"], "value": ru(huge)}
    result = only_result(await submit(portal, headers, entry))
    assert (result["status"], result["code"]) == (
        "needs_confirmation",
        "implausible_consumption_confirmation_required",
    )
    assert "31,000 м³" in result["message"]
    assert await readings_of(portal, cold["meter_id"]) == []

    result = only_result(await submit(portal, headers, {**entry, "confirm_implausible": True}))
    assert result["status"] == "accepted"
    assert result["reading"]["needs_review"] is True
    assert "проверит специалист" in result["message"]
    stored = await readings_of(portal, cold["meter_id"])
    assert [(r.status, r.needs_review) for r in stored] == [("accepted", True)]


async def test_five_times_the_average_needs_confirmation_and_says_the_true_ratio(portal: Portal) -> None:
    from portal.readings.service import times_ru

    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    previous = Decimal(cold["previous_reading"]["value"])
    check = cold["consumption_check"]
    average = Decimal(check["average_monthly"])
    assert check["months"] == 1 and check["monthly_limit"] is None
    # The absolute limit is 30 m³; the average of the demo apartment is a few m³ a month, so 5× it is lower.
    assert abs(Decimal(check["confirm_above"]) - average * 5) < Decimal("0.01") and average * 5 < 30
    for value in (previous + 29, Decimal(600), Decimal(99_999)):
        probe = only_result(await submit(portal, headers, {"meter_id": cold["meter_id"], "value": ru(value)}))
        assert probe["code"] == "implausible_consumption_confirmation_required"
        ratio = (value - previous) / average
        assert f"{times_ru(ratio)} больше среднего расхода" in probe["message"], probe["message"]
    # 99 999 after about 492 with about 5,4 a month: eighteen thousand times, not «в 5 раз».
    assert "в 18\u00a0537 раз больше" in probe["message"]
    assert "Расход 99\u00a0507," in probe["message"]  # thousands grouped as on the screen


def test_times_in_russian() -> None:
    from portal.readings.service import times_ru

    assert times_ru(Decimal("18537.2")) == "в 18\u00a0537 раз"
    assert times_ru(Decimal(22)) == "в 22 раза"
    assert times_ru(Decimal(21)) == "в 21 раз"
    assert times_ru(Decimal(12)) == "в 12 раз"
    assert times_ru(Decimal("5.64")) == "в 5,6 раза"
    assert times_ru(Decimal("4.98")) == "в 5 раз"
    assert times_ru(Decimal("3.04")) == "в 3 раза"


async def test_expired_verification_refuses_the_reading(portal: Portal) -> None:
    headers = await portal.login_as(EXPIRED_VERIFICATION_APARTMENT)
    hot = (await meters_by_service(portal, headers))["hot_water"]
    new = Decimal(hot["previous_reading"]["value"]) + 1
    result = only_result(await submit(portal, headers, {"meter_id": hot["meter_id"], "value": ru(new)}))
    assert (result["status"], result["code"]) == ("rejected", "verification_expired")
    due = dt.date.fromisoformat(hot["next_verification_on"])
    assert due.strftime("%d.%m.%Y") in result["message"]
    assert "выполните поверку или замену счётчика" in result["message"].lower()
    assert await readings_of(portal, hot["meter_id"]) == []


async def test_closed_window_refuses_and_stores_nothing(make_portal: PortalFactory) -> None:
    portal = await make_portal(reading_window_always_open=False)
    portal.clock.set(dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC))
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    meters = await meters_by_service(portal, headers)
    window = (await portal.client.get(METERS, headers=headers)).json()["window"]
    assert window["open"] is False
    assert window["opens_on"] == "2026-11-15"
    assert (window["start_day"], window["end_day"]) == (15, 25)
    cold = meters["cold_water"]
    before = await count_readings(portal)
    entry = {"meter_id": cold["meter_id"], "value": ru(Decimal(cold["previous_reading"]["value"]) + 1)}
    response = await submit(portal, headers, entry, key="closed-1")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "reading_window_closed"
    assert body["message"] == "Приём показаний с 15 по 25 число. Следующий приём откроется 15 ноября."
    assert await count_readings(portal) == before

    portal.clock.set(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC))
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    late = await submit(portal, headers, entry)
    assert late.status_code == 409
    assert late.json()["message"] == "Приём показаний с 15 по 25 число. Следующий приём откроется 15 декабря."
    assert await count_readings(portal) == before

    portal.clock.set(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    window = (await portal.client.get(METERS, headers=headers)).json()["window"]
    assert (window["open"], window["closes_on"]) == (True, "2026-11-25")
    # The key of the refused attempt was not spent: it works once the window is open.
    result = only_result(await submit(portal, headers, entry, key="closed-1"))
    assert result["status"] == "accepted"
    assert await count_readings(portal) == before + 1


async def test_last_day_of_the_window_is_open(make_portal: PortalFactory) -> None:
    portal = await make_portal(reading_window_always_open=False)
    # 25 November 23:30 in Moscow is still the 25th at the billing center.
    portal.clock.set(dt.datetime(2026, 11, 25, 20, 30, tzinfo=dt.UTC))
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    entry = {"meter_id": cold["meter_id"], "value": ru(Decimal(cold["previous_reading"]["value"]) + 1)}
    assert only_result(await submit(portal, headers, entry))["status"] == "accepted"


async def test_repeat_in_the_same_period_replaces_and_keeps_history(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    previous = Decimal(cold["previous_reading"]["value"])
    first = only_result(
        await submit(portal, headers, {"meter_id": cold["meter_id"], "value": ru(previous + 2)})
    )
    assert first["status"] == "accepted"
    # The second reading is lower than the first of this month but not below last month's: fine.
    second = only_result(
        await submit(portal, headers, {"meter_id": cold["meter_id"], "value": ru(previous + 1)})
    )
    assert (second["status"], second["code"]) == ("replaced_previous", "replaced_previous")
    assert ru(f"{previous + 2:.3f}") in second["message"]
    stored = await readings_of(portal, cold["meter_id"])
    assert [(r.id, r.status, r.replaced_by_id) for r in stored] == [
        (first["reading"]["reading_id"], "replaced", second["reading"]["reading_id"]),
        (second["reading"]["reading_id"], "accepted", None),
    ]
    now = await meters_by_service(portal, headers)
    assert now["cold_water"]["current_reading"]["reading_id"] == second["reading"]["reading_id"]
    assert now["cold_water"]["previous_reading"]["value"] == cold["previous_reading"]["value"]


async def test_another_accounts_meter_is_unknown_and_the_rest_is_stored(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    foreign = (await meter_ids(portal, OTHER_APARTMENT))["cold_water"]
    response = await submit(
        portal,
        headers,
        {"meter_id": foreign, "value": "1"},
        {"meter_id": 2_000_000_000, "value": "1"},
        {"meter_id": cold["meter_id"], "value": ru(Decimal(cold["previous_reading"]["value"]) + 1)},
        {"meter_id": cold["meter_id"] + 100_000, "value": "12345,6789"},
    )
    assert response.status_code == 200
    foreign_result, missing_result, own, other_missing = response.json()["results"]
    assert foreign_result["code"] == missing_result["code"] == other_missing["code"] == "unknown_meter"
    # Someone else's meter and no meter at all look exactly alike.
    assert {k: v for k, v in foreign_result.items() if k != "meter_id"} == {
        k: v for k, v in missing_result.items() if k != "meter_id"
    }
    assert own["status"] == "accepted"
    assert await readings_of(portal, foreign) == []
    assert len(await readings_of(portal, cold["meter_id"])) == 1


async def test_idempotent_replay_returns_the_same_body_and_stores_once(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    entry = {"meter_id": cold["meter_id"], "value": ru(Decimal(cold["previous_reading"]["value"]) + 1)}
    first = await submit(portal, headers, entry, key="0b6f7a4e-reading-1")
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    portal.clock.advance(dt.timedelta(seconds=30))
    again = await submit(portal, headers, entry, key="0b6f7a4e-reading-1")
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    stored = await readings_of(portal, cold["meter_id"])
    assert [r.status for r in stored] == ["accepted"]

    reused = await submit(portal, headers, {**entry, "value": "99999"}, key="0b6f7a4e-reading-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert reused.json()["field"] == "Idempotency-Key"
    assert len(await readings_of(portal, cold["meter_id"])) == 1


async def test_keys_belong_to_their_account(portal: Portal) -> None:
    own = await portal.login_as(HAPPY_PATH_APARTMENT)
    other = await portal.login_as(OTHER_APARTMENT)
    own_cold = (await meters_by_service(portal, own))["cold_water"]
    other_cold = (await meters_by_service(portal, other))["cold_water"]
    first = await submit(
        portal,
        own,
        {"meter_id": own_cold["meter_id"], "value": ru(Decimal(own_cold["previous_reading"]["value"]) + 1)},
        key="shared-key",
    )
    second = await submit(
        portal,
        other,
        {
            "meter_id": other_cold["meter_id"],
            "value": ru(Decimal(other_cold["previous_reading"]["value"]) + 1),
        },
        key="shared-key",
    )
    assert first.status_code == second.status_code == 200
    assert "idempotent-replayed" not in second.headers
    assert only_result(second)["status"] == "accepted"


async def test_malformed_requests_are_422(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    empty = await portal.client.post(READINGS, json={"readings": []}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["field"] == "readings"
    twice = await submit(
        portal,
        headers,
        {"meter_id": cold["meter_id"], "value": "1"},
        {"meter_id": cold["meter_id"], "value": "2"},
    )
    assert twice.status_code == 422
    assert twice.json()["code"] == "duplicate_meter"
    number = await submit(portal, headers, {"meter_id": cold["meter_id"], "value": 12.5})
    assert number.status_code == 422
    huge_id = await submit(portal, headers, {"meter_id": 2**40, "value": "1"})
    assert huge_id.status_code == 422
    long_key = await submit(portal, headers, {"meter_id": cold["meter_id"], "value": "1"}, key="k" * 201)
    assert long_key.status_code == 422
    assert await readings_of(portal, cold["meter_id"]) == []


async def test_submission_sends_a_fixed_number_of_statements_and_links_replacements(
    make_portal: PortalFactory,
) -> None:
    """All meters' readings are written together; each replaced reading points at its successor."""
    portal = await make_portal(cache_enabled=False)
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    meters = await meters_by_service(portal, headers)
    assert len(meters) == 3
    notify = 1 if is_postgres(portal) else 0  # the cache invalidation travels with the transaction

    def body(step: int) -> list[dict[str, object]]:
        return [
            {"meter_id": meter["meter_id"], "value": ru(Decimal(meter["previous_reading"]["value"]) + step)}
            for meter in meters.values()
        ]

    with counted_statements(portal) as statements:
        first = await submit(portal, headers, *body(1))
    assert [r["status"] for r in first.json()["results"]] == ["accepted"] * 3
    # The session check, the lock, the meters with their history, one INSERT.
    assert len(statements) == 4 + notify, statements

    with counted_statements(portal) as statements:
        second = await submit(portal, headers, *body(2))
    results = second.json()["results"]
    assert [r["status"] for r in results] == ["replaced_previous"] * 3
    # … and the replaced readings marked before the INSERT and linked to the new ones after it.
    assert len(statements) == 6 + notify, statements

    for old, new in zip(first.json()["results"], results, strict=True):
        assert old["meter_id"] == new["meter_id"]
        rows = {row.id: row for row in await readings_of(portal, new["meter_id"])}
        replaced, accepted = rows[old["reading"]["reading_id"]], rows[new["reading"]["reading_id"]]
        assert (replaced.status, replaced.replaced_by_id) == ("replaced", accepted.id)
        assert (accepted.status, accepted.replaced_by_id) == ("accepted", None)
        assert accepted.meter_id == new["meter_id"] and accepted.value == Decimal(new["reading"]["value"])
