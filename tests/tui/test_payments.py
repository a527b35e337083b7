"""Paying without a terminal: the client's payment calls (mock portal), the amount rules, the QR code."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, NoReturn

import httpx
import pytest

from tests.support.qr import decode_qr
from tui.client import IDEMPOTENCY_HEADER, PortalClient
from tui.errors import NotFound, PortalUnavailable, ValidationFailed
from tui.formatting import InputError, Money
from tui.i18n import Translator
from tui.models import (
    PaymentCodes,
    PaymentOrder,
    PaymentProvider,
    PaymentPurpose,
    PaymentStatus,
    SandboxAction,
)
from tui.payments import MAX_PAYMENT, amount_problem, amount_text, parse_payment_amount
from tui.wire import decode as decode_answer
from widgets.pixels import half_block_rows
from widgets.qr import qr_pixels

BASE = "http://portal.test"


def order_json(**changes: Any) -> dict[str, Any]:
    order = {
        "id": "po_3f9c0a",
        "provider": "a3",
        "purpose": "utilities",
        "amount_kopecks": 102312,
        "status": "initiated",
        "payment_url": f"{BASE}/api/v1/sandbox/a3/form/pay-1",
        "sandbox": True,
        "created_at": "2026-11-25T19:00:00Z",
        "updated_at": "2026-11-25T19:00:05Z",
        "credited": False,
    }
    order.update(changes)
    return order


class Recorder:
    """A mock portal: answers with ``answer(request)`` and keeps every request it saw."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response | dict[str, Any]]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        result = self.answer(request)
        return result if isinstance(result, httpx.Response) else httpx.Response(201, json=result)


def order_from(body: dict[str, Any]) -> PaymentOrder:
    return decode_answer(PaymentOrder, json.dumps(body))


def client_for(recorder: Recorder) -> PortalClient:
    return PortalClient(BASE, transport=httpx.MockTransport(recorder), retry_backoff=0)


# --- the model -----------------------------------------------------------------------------------------


def test_a_payment_order_is_exact_and_typed() -> None:
    order = order_from(order_json(status="success", credited=True, provider="paymo"))
    assert order.amount == Money(102312)
    assert order.provider is PaymentProvider.PAYMO and order.purpose is PaymentPurpose.UTILITIES
    assert order.status is PaymentStatus.SUCCESS and order.is_final and order.credited
    assert order.created_at == dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("status", "final"),
    [("initiated", False), ("processing", False), ("success", True), ("failed", True), ("cancelled", True)],
)
def test_final_statuses(status: str, final: bool) -> None:
    assert PaymentStatus(status).is_final is final


def test_payment_codes_parse_the_month_and_an_absent_capital_repair_code() -> None:
    codes = decode_answer(
        PaymentCodes,
        json.dumps(
            {
                "period": "2026-11",
                "utilities": {"payload": "ST00012|Name=X", "amount_kopecks": 1000},
                "capital_repair": None,
            }
        ),
    )
    assert codes.period == dt.date(2026, 11, 1)
    assert codes.utilities.amount == Money(1000) and codes.capital_repair is None


# --- the client ----------------------------------------------------------------------------------------


async def test_create_payment_sends_the_contract_body_with_an_idempotency_key() -> None:
    recorder = Recorder(lambda request: order_json())
    async with client_for(recorder) as client:
        order = await client.create_payment(
            PaymentPurpose.UTILITIES, Money(102312), PaymentProvider.A3, idempotency_key="key-1"
        )
    (request,) = recorder.requests
    assert request.method == "POST" and request.url.path == "/api/v1/payments"
    assert request.headers[IDEMPOTENCY_HEADER] == "key-1"
    assert json.loads(request.content) == {"purpose": "utilities", "amount_kopecks": 102312, "provider": "a3"}
    assert order.order_id == "po_3f9c0a"


async def test_a_lost_answer_is_retried_once_with_the_same_key() -> None:
    calls = 0

    def answer(request: httpx.Request) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        return order_json()

    recorder = Recorder(answer)
    async with client_for(recorder) as client:
        await client.create_payment(PaymentPurpose.CAPITAL_REPAIR, Money(100), PaymentProvider.PAYMO)
    keys = {request.headers[IDEMPOTENCY_HEADER] for request in recorder.requests}
    assert len(recorder.requests) == 2 and len(keys) == 1


async def test_a_failed_create_names_its_key_to_repeat_with() -> None:
    def answer(request: httpx.Request) -> NoReturn:
        raise httpx.ConnectError("refused", request=request)

    async with client_for(Recorder(answer)) as client:
        with pytest.raises(PortalUnavailable) as caught:
            await client.create_payment(PaymentPurpose.UTILITIES, Money(100), PaymentProvider.A3, "key-7")
    assert caught.value.idempotency_key == "key-7"


async def test_an_amount_refused_by_the_portal_names_the_field() -> None:
    body = {"code": "invalid_amount", "message": "Поле «Сумма»: …", "field": "amount_kopecks"}
    async with client_for(Recorder(lambda request: httpx.Response(422, json=body))) as client:
        with pytest.raises(ValidationFailed) as caught:
            await client.create_payment(PaymentPurpose.UTILITIES, Money(100), PaymentProvider.A3)
    assert caught.value.field == "amount"


async def test_public_capital_repair_calls() -> None:
    def answer(request: httpx.Request) -> httpx.Response | dict[str, Any]:
        if request.method == "GET" and request.url.path.startswith("/api/v1/public/capital-repair/"):
            if request.url.path.endswith("/352100120007"):
                return httpx.Response(
                    200,
                    json={
                        "capital_repair_account": "352100120007",
                        "address_masked": "ул. Л*****, кв. 7",
                        "amount_due_kopecks": 34560,
                    },
                )
            return httpx.Response(
                404,
                json={
                    "code": "capital_repair_account_not_found",
                    "message": "нет",
                    "field": "capital_repair_account",
                },
            )
        if request.url.path == "/api/v1/public/capital-repair/payments":
            return order_json(purpose="capital_repair")
        return httpx.Response(200, json=order_json(purpose="capital_repair", status="processing"))

    recorder = Recorder(answer)
    async with client_for(recorder) as client:
        lookup = await client.public_capital_repair_lookup("352100120007")
        assert lookup.amount_due == Money(34560) and "кв. 7" in lookup.address_masked
        with pytest.raises(NotFound) as caught:
            await client.public_capital_repair_lookup("../../payments")
        assert caught.value.field == "capital_repair_account"
        order = await client.create_public_capital_repair_payment(
            "352100120007", Money(34560), PaymentProvider.A3
        )
        again = await client.public_payment(order.order_id)
    assert again.status is PaymentStatus.PROCESSING
    # A typed number stays one path segment: it cannot reach another endpoint.
    assert recorder.requests[1].url.raw_path == b"/api/v1/public/capital-repair/..%2F..%2Fpayments"
    create = recorder.requests[2]
    assert "Authorization" not in create.headers and IDEMPOTENCY_HEADER in create.headers
    assert json.loads(create.content) == {
        "capital_repair_account": "352100120007",
        "amount_kopecks": 34560,
        "provider": "a3",
    }
    assert recorder.requests[3].url.path == "/api/v1/public/payments/po_3f9c0a"


async def test_sandbox_buttons_post_to_the_payment_page_through_the_same_transport() -> None:
    recorder = Recorder(lambda request: httpx.Response(303, headers={"Location": "/done"}))
    order = order_from(order_json())
    async with client_for(recorder) as client:
        await client.sandbox_action(order, SandboxAction.PAY)
        await client.sandbox_action(order, "decline")
        with pytest.raises(ValueError, match="sandbox"):
            await client.sandbox_action(order_from(order_json(sandbox=False)), "pay")
    assert [str(request.url) for request in recorder.requests] == [
        f"{BASE}/api/v1/sandbox/a3/form/pay-1/pay",
        f"{BASE}/api/v1/sandbox/a3/form/pay-1/decline",
    ]
    assert all(request.method == "POST" for request in recorder.requests)


async def test_payment_codes_asks_for_the_month() -> None:
    body = {
        "period": "2026-11",
        "utilities": {"payload": "ST00012|Name=A", "amount_kopecks": 102312},
        "capital_repair": {"payload": "ST00012|Name=B", "amount_kopecks": 34560},
    }
    recorder = Recorder(lambda request: httpx.Response(200, json=body))
    async with client_for(recorder) as client:
        codes = await client.payment_codes(dt.date(2026, 11, 1))
    assert recorder.requests[0].url.path == "/api/v1/receipts/2026-11/payment-codes"
    assert codes.capital_repair is not None and codes.capital_repair.amount == Money(34560)


# --- the amount a resident types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kopecks"),
    [("1023,12", 102312), ("1023.12", 102312), ("1 023,12", 102312), ("1023", 102300), ("500 000", 50000000)],
)
def test_amounts_that_are_taken(typed: str, kopecks: int) -> None:
    assert parse_payment_amount(typed) == Money(kopecks)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("0", "input.amount_not_positive"),
        ("0,00", "input.amount_not_positive"),
        ("-1", "input.amount_invalid"),
        ("1,234", "input.amount_too_many_decimals"),
        ("сто", "input.amount_invalid"),
        ("", "input.amount_empty"),
        ("500 000,01", "input.amount_too_large"),
        # Digits of other scripts are digits to Python, but no amount here: ASCII 0-9 only.
        ("١٢٣", "input.amount_invalid"),
        ("12,٥٠", "input.amount_invalid"),
        ("１２３", "input.amount_invalid"),
    ],
)
def test_amounts_that_are_refused_name_the_field(typed: str, key: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_payment_amount(typed)
    assert caught.value.key == key
    for translator, field in ((Translator("ru"), "«Сумма»"), (Translator("en"), '"Amount"')):
        assert field in amount_problem(translator, caught.value)


def test_the_maximum_is_named_in_rubles() -> None:
    with pytest.raises(InputError) as caught:
        parse_payment_amount("1000000")
    assert str(MAX_PAYMENT) in amount_problem(Translator("ru"), caught.value)


def test_an_amount_is_prefilled_the_way_it_is_typed() -> None:
    assert amount_text(Money(102312)) == "1023,12" and amount_text(Money(5)) == "0,05"


# --- the QR code ---------------------------------------------------------------------------------------


def test_a_gost_payload_in_cyrillic_decodes_as_utf8() -> None:
    payload = "ST00012|Name=ООО «Расчётный центр «Кабинет»|PersonalAcc=40702810500000012345|Sum=102312"
    pixels = qr_pixels(payload)
    assert decode_qr(pixels) == [payload]
    assert not any(pixels[0]) and not any(row[0] for row in pixels)  # the light quiet zone
    # Half blocks keep every pixel: two rows a cell, nothing lost.
    cells = half_block_rows(pixels)
    assert len(cells) == (len(pixels) + 1) // 2
    assert [[upper for upper, _ in row] for row in cells] == pixels[0::2]
