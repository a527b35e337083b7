"""Large read answers are written from plain data without a validation per request
(:class:`portal.kit.answers.PlainAnswer`): each must be exactly what its documented model would write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import BaseModel

from portal.demo.accounts import (
    DEBTOR_APARTMENT,
    HAPPY_PATH_APARTMENT,
    ROLLOVER_APARTMENT,
    VERIFICATION_SOON_APARTMENT,
)
from portal.history.schemas import ReadingHistory, Statement
from portal.kit.answers import PlainAnswer
from tests.conftest import PortalFactory

#: Residents whose histories differ in kind: a debtor, a rollover, a meter due for verification.
APARTMENTS = [HAPPY_PATH_APARTMENT, DEBTOR_APARTMENT, ROLLOVER_APARTMENT, VERIFICATION_SOON_APARTMENT]
RANGES = ["date_from=2023-10-01&date_to=2026-11-30", "date_from=2026-05-17&date_to=2026-06-02"]


def assert_written_as_the_model_writes(schema: type[BaseModel], body: bytes) -> None:
    """``body`` validates against ``schema``, and the model writes it back byte for byte (same fields in
    the same order, months as ``YYYY-MM``, decimals as their exact text, nothing extra)."""
    model = schema.model_validate_json(body, strict=False)
    assert model.__pydantic_serializer__.to_json(model) == body


@pytest.mark.parametrize("apartment", APARTMENTS)
async def test_histories_and_statements_are_what_their_models_write(
    make_portal: PortalFactory, apartment: int
) -> None:
    portal = await make_portal(cache_enabled=False)
    headers = await portal.login_as(apartment)
    everything = await portal.client.get(f"/api/v1/history/readings?{RANGES[0]}", headers=headers)
    meters = sorted({row["meter_id"] for row in everything.json()["readings"]})
    seen = 0
    for span in RANGES:
        urls: list[tuple[type[BaseModel], str]] = [
            (ReadingHistory, f"/api/v1/history/readings?{span}"),
            (Statement, f"/api/v1/history/statement?{span}"),
            (Statement, f"/api/v1/history/statement?{span}&purpose=capital_repair"),
        ]
        urls += [(ReadingHistory, f"/api/v1/history/readings?{span}&meter_id={meter}") for meter in meters]
        for schema, url in urls:
            response = await portal.client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.text)
            assert_written_as_the_model_writes(schema, response.content)
            seen += len(response.json().get("readings", response.json().get("months", [])))
    assert seen > 100  # the demo's histories are not empty


@pytest.mark.parametrize(
    ("wrong", "value"),
    [
        ("a month as a day", dt.date(2026, 10, 1)),
        ("money as a float", 123.45),
        ("a decimal as a float", 1.5),
    ],
)
def test_the_check_catches_a_value_not_in_its_wire_form(wrong: str, value: object) -> None:
    """What the check above would see if a service put a value in the wrong form."""
    line = {
        "service_code": "cold_water",
        "service_name": "Холодное водоснабжение",
        "unit": "м³",
        "volume": Decimal("3.500"),
        "tariff_kopecks": 4_512,
        "charged_kopecks": 15_792,
        "recalculation_kopecks": 0,
    }
    month = {
        "period": "2026-10",
        "opening_kopecks": 0,
        "charged_kopecks": 15_792,
        "recalculation_kopecks": 0,
        "penalties_kopecks": 0,
        "paid_kopecks": 0,
        "closing_kopecks": 15_792,
        "lines": [line],
    }
    data = {"date_from": dt.date(2026, 10, 1), "date_to": dt.date(2026, 10, 31), "purpose": "utilities"}
    right = PlainAnswer(Statement, {**data, "months": [month]}).json()
    assert_written_as_the_model_writes(Statement, right)
    if wrong == "a month as a day":
        month = {**month, "period": value}
    elif wrong == "money as a float":
        month = {**month, "paid_kopecks": value}
    else:
        month = {**month, "lines": [{**line, "volume": value}]}
    with pytest.raises((AssertionError, ValueError)):
        assert_written_as_the_model_writes(
            Statement, PlainAnswer(Statement, {**data, "months": [month]}).json()
        )
