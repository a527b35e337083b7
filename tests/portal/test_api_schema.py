"""The OpenAPI document says what the API does, and the API keeps to it (issue 9, item 10).

Each test is one thing schemathesis found: months in other scripts' digits or with a trailing newline
that still returned the PDF, booleans taking ``0`` and ``"yes"``, a 405 with ``Allow: GET`` on a
POST-only path, 422s for rules the schema did not state, a query parameter given twice taken silently.
"""

from __future__ import annotations

import re
from typing import Any

from portal.demo.accounts import HAPPY_PATH_APARTMENT, capital_repair_number
from portal.kit.errors import RULES_EXTENSION
from portal.periods import MONTH_PATTERN
from tests.conftest import Portal
from tests.support.registration import REGISTER, UNREGISTERED, expected_total, form, users_of

RECEIPT = "/api/v1/receipts/2026-10"


async def _headers(portal: Portal) -> dict[str, str]:
    from portal.demo.accounts import DEMO_PASSWORD, account_number

    return await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)


async def test_month_paths_take_ascii_real_months_only(portal: Portal) -> None:
    headers = await _headers(portal)
    response = await portal.client.get(RECEIPT, headers=headers)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    arabic_indic = "%D9%A2%D9%A0%D9%A2%D9%A6-%D9%A1%D9%A0"  # ٢٠٢٦-١٠
    for month in (arabic_indic, "2026-10%0A", "0000-01", "2100-01"):
        for path in (f"/api/v1/receipts/{month}", f"/api/v1/receipts/{month}/payment-codes"):
            response = await portal.client.get(path, headers=headers)
            assert response.status_code == 422, (path, response.status_code)
            assert (response.json()["code"], response.json()["field"]) == ("invalid_period", "period")
        response = await portal.client.post(f"/api/v1/receipts/{month}/email", headers=headers)
        assert response.status_code == 422, month
    assert portal.letters() == []
    # ``POST /receipts/email`` (``/receipts/./email`` after the client's dot-segment removal) is no path;
    # it once answered 405 with the GET route's ``Allow: GET``.
    response = await portal.client.post("/api/v1/receipts/email", headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_a_trailing_slash_is_no_path(portal: Portal) -> None:
    headers = await _headers(portal)
    for path in ("/api/v1/receipts/", "/api/v1/payments/"):
        response = await portal.client.get(path, headers=headers)
        assert response.status_code == 404, path  # not a 307 to the list, not a 405 of POST /payments


async def test_405_names_the_methods_the_path_has(portal: Portal) -> None:
    path = "/api/v1/public/capital-repair/payments"
    for method in ("GET", "DELETE", "PUT"):
        response = await portal.client.request(method, path)
        assert response.status_code == 405, method
        assert response.headers["allow"] == "POST"
        assert response.json()["code"] == "method_not_allowed"
    # The lookup next to it still finds a fund account by its digits.
    response = await portal.client.get(
        f"/api/v1/public/capital-repair/{capital_repair_number(HAPPY_PATH_APARTMENT)}"
    )
    assert response.status_code == 200, response.text
    response = await portal.client.get("/api/v1/public/capital-repair/%D9%A3%D9%A5%D9%A2%D9%A1%D9%A0%D9%A0")
    assert response.status_code == 404
    assert response.json()["field"] == "capital_repair_account"


async def test_booleans_and_ids_are_strict(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    total = await expected_total(portal, number)
    for consent in (1, "yes", "true", "on"):
        response = await portal.client.post(REGISTER, json=form(number, total, accept_terms=consent))
        assert response.status_code == 422, consent
        assert (response.json()["code"], response.json()["field"]) == ("validation_error", "accept_terms")
    assert await users_of(portal, number) == 0

    headers = await _headers(portal)
    meter_id = (await portal.client.get("/api/v1/meters", headers=headers)).json()["meters"][0]["meter_id"]
    for reading in (
        {"meter_id": meter_id, "value": "1", "confirm_rollover": 0},
        {"meter_id": meter_id, "value": "1", "confirm_implausible": "yes"},
        {"meter_id": str(meter_id), "value": "1"},
    ):
        response = await portal.client.post("/api/v1/readings", headers=headers, json={"readings": [reading]})
        assert response.status_code == 422, reading
        assert response.json()["code"] == "validation_error"


async def test_a_query_parameter_given_twice_is_refused(portal: Portal) -> None:
    headers = await _headers(portal)
    query = "date_from=2026-01-01&date_to=2026-10-31"
    response = await portal.client.get(f"/api/v1/history/payments?{query}", headers=headers)
    assert response.status_code == 200
    response = await portal.client.get(
        f"/api/v1/history/payments?{query}&date_from=2025-01-01", headers=headers
    )
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("validation_error", "date_from")
    assert "несколько раз" in response.json()["message"]


async def test_dates_are_ascii_and_in_the_documented_years(portal: Portal) -> None:
    headers = await _headers(portal)
    for date_from, code in (
        ("%D9%A2%D9%A0%D9%A2%D9%A6-01-01", "validation_error"),
        ("2026-01-01%0A", "validation_error"),
        ("1999-12-31", "date_out_of_range"),
        ("2100-01-01", "date_out_of_range"),
    ):
        url = f"/api/v1/history/payments?date_from={date_from}&date_to=2026-10-31"
        response = await portal.client.get(url, headers=headers)
        assert response.status_code == 422, date_from
        assert (response.json()["code"], response.json()["field"]) == (code, "date_from")


def _properties(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (component, name, schema)
        for component, body in document["components"]["schemas"].items()
        for name, schema in body.get("properties", {}).items()
    ]


async def test_money_is_kopecks_and_months_are_months_everywhere(portal: Portal) -> None:
    """One format each, both ways: integer ``*_kopecks`` for money, ``YYYY-MM`` for a month."""
    document = (await portal.client.get("/api/v1/openapi.json")).json()
    properties = _properties(document)
    money = [(c, n) for c, n, _ in properties if n.endswith("_kopecks")]
    assert len(money) >= 30 and {"CreatePaymentRequest", "RegistrationRequest"} <= {c for c, _ in money}
    for component, name, schema in properties:
        if name.endswith("_kopecks"):
            # An integer; null only where the amount does not exist (no account at the fund).
            options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
            assert [option.get("type") for option in options] == ["integer"], (component, name)
        # No amount travels under another name (a ruble string, as payments once did).
        assert name not in {"amount", "amount_due", "receipt_total", "total"}, (component, name)
        if name == "period":
            options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
            kinds = [(option.get("type"), option.get("pattern")) for option in options]
            assert kinds == [("string", MONTH_PATTERN)], (component, name)
    month_paths = [path for path in document["paths"] if "{period}" in path]
    assert month_paths
    for path in month_paths:
        for operation in document["paths"][path].values():
            (parameter,) = [p for p in operation["parameters"] if p["name"] == "period"]
            assert parameter["schema"]["pattern"] == MONTH_PATTERN, path


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


async def test_the_document_states_the_rules(portal: Portal) -> None:
    document = (await portal.client.get("/api/v1/openapi.json")).json()
    # Patterns mean the same to the server (Python, Rust) and to clients (ECMAScript): no class shorthand
    # that takes other scripts' digits or spaces.
    patterns = _patterns(document)
    assert len(patterns) >= 10
    for pattern in patterns:
        assert not re.search(r"\\[dDsSwW]", pattern), pattern
    schemas = document["components"]["schemas"]
    registration = schemas["RegistrationRequest"]["properties"]
    assert registration["accept_terms"]["enum"] == [True]
    assert registration["email"]["format"] == "email"
    assert registration["receipt_total_kopecks"]["type"] == "integer"
    assert schemas["PasswordChangeRequest"]["properties"]["new_password"]["minLength"] == 8
    assert schemas["ReadingInput"]["properties"]["confirm_rollover"]["type"] == "boolean"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get("422")
            if answer is None:
                continue
            codes = answer["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"]
            assert "validation_error" in codes, (method, path)
            assert set(answer[RULES_EXTENSION]) <= set(codes), (method, path)
            assert "nul_character" in answer[RULES_EXTENSION], (method, path)  # no text may hold U+0000
    rules = document["paths"]["/api/v1/profile/email"]["post"]["responses"]["422"][RULES_EXTENSION]
    assert rules == ["emails_differ", "nul_character"]
    history = document["paths"]["/api/v1/history/payments"]["get"]["responses"]["422"][RULES_EXTENSION]
    assert history == ["invalid_period", "period_too_long", "nul_character"]
