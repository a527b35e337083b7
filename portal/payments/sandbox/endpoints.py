"""The sandbox twins' routes: A3's and PayMO's APIs, their hosted forms and the forms' buttons.

Outside the portal's OpenAPI document: these are the payment services' interfaces, not the portal's.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import secrets
from typing import Any

import httpx
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import IntegrityError

from portal.kit.clock import BILLING_TZ
from portal.kit.db import session_scope
from portal.kit.deps import DbSession, State
from portal.kit.state import PortalState
from portal.models import SandboxPayment
from portal.money import format_rubles
from portal.payments.providers import a3, paymo
from portal.payments.providers.base import ProviderName, signature_matches
from portal.payments.sandbox.repository import SandboxRepository

log = logging.getLogger("kabinet.portal.payments.sandbox")

router = APIRouter(prefix="/sandbox", include_in_schema=False)

#: How far an A3 request's timestamp may be from the sandbox's clock.
A3_TIMESTAMP_TOLERANCE = dt.timedelta(minutes=5)
#: Where PayMO delivers notifications (the portal's ``POST /api/v1/payments/paymo/notify``).
NOTIFY_PATH = "/api/v1/payments/paymo/notify"


class _Vocabulary:
    """A service's names for the sandbox's steps."""

    def __init__(self, initial: str, processing: str, success: str, declined: str, cancelled: str) -> None:
        self.initial = initial
        self.processing = processing
        self.success = success
        self.declined = declined
        self.cancelled = cancelled


VOCABULARY = {
    ProviderName.A3: _Vocabulary("initiated", "processing", "success", "failed", "cancelled"),
    ProviderName.PAYMO: _Vocabulary("created", "processing", "deposited", "declined", "cancelled"),
}
FORM_PATH = {ProviderName.A3: "a3/form", ProviderName.PAYMO: "paymo/checkout"}
TITLE = {ProviderName.A3: "A3 — оплата картой (песочница)", ProviderName.PAYMO: "PayMO Checkout (песочница)"}


def _json_error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": code}, status)


def _form_url(request: Request, provider: ProviderName, payment_id: str) -> str:
    return f"{request.base_url}sandbox/{FORM_PATH[provider]}/{payment_id}"


async def _create(
    session: DbSession,
    state: PortalState,
    provider: ProviderName,
    merchant: str,
    order_id: str,
    amount: int,
    description: str,
) -> SandboxPayment | None:
    """The payment of this order (the same order again gives the same payment); None on another amount."""
    repo = SandboxRepository(session)
    found = await repo.by_order(provider.value, merchant, order_id)
    if found is None:
        now = state.clock.now()
        prefix = "a3p_" if provider is ProviderName.A3 else "inv_"
        found = SandboxPayment(
            id=prefix + secrets.token_hex(12),
            provider=provider.value,
            merchant=merchant,
            order_id=order_id,
            amount_kopecks=amount,
            description=description[:300],
            status=VOCABULARY[provider].initial,
            created_at=now,
            updated_at=now,
        )
        try:
            await repo.add(found)
        except IntegrityError:
            await session.rollback()
            found = await repo.by_order(provider.value, merchant, order_id)
            assert found is not None
    return found if found.amount_kopecks == amount else None


# --- A3's API --------------------------------------------------------------------------------------------


async def _a3_authorized(request: Request, state: PortalState, body: bytes) -> bool:
    settings = state.settings
    timestamp = request.headers.get(a3.TIMESTAMP_HEADER, "")
    if request.headers.get(a3.MERCHANT_HEADER) != settings.a3_merchant or not timestamp.isdigit():
        return False
    moment = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if abs(state.clock.now() - moment) > A3_TIMESTAMP_TOLERANCE:
        return False
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    expected = a3.request_signature(settings.a3_secret, request.method, target, timestamp, body)
    return signature_matches(expected, request.headers.get(a3.SIGNATURE_HEADER))


def _a3_payment(payment: SandboxPayment) -> dict[str, Any]:
    return {
        "payment_id": payment.id,
        "order_id": payment.order_id,
        "amount": payment.amount_kopecks,
        "currency": "RUB",
        "status": payment.status,
        "completed_at": payment.completed_at.isoformat() if payment.completed_at else None,
    }


@router.post("/a3/api/payments")
async def a3_start(request: Request, state: State, session: DbSession) -> Response:
    body = await request.body()
    if not await _a3_authorized(request, state, body):
        return _json_error(401, "bad_signature")
    try:
        data = json.loads(body)
        order_id, amount = str(data["order_id"])[:40], int(data["amount"])
        description = f"{data.get('description', '')} ({data.get('account', '')})"
    except (ValueError, KeyError, TypeError):
        return _json_error(400, "bad_request")
    if (
        amount <= 0
        or data.get("currency", "RUB") != "RUB"
        or data.get("merchant") != state.settings.a3_merchant
    ):
        return _json_error(400, "bad_request")
    payment = await _create(
        session, state, ProviderName.A3, state.settings.a3_merchant, order_id, amount, description
    )
    if payment is None:
        return _json_error(409, "order_exists_with_another_amount")
    return JSONResponse(
        {
            "payment_id": payment.id,
            "form_url": _form_url(request, ProviderName.A3, payment.id),
            "status": payment.status,
        },
        201,
    )


@router.get("/a3/api/payments/{payment_id}")
async def a3_status(payment_id: str, request: Request, state: State, session: DbSession) -> Response:
    if not await _a3_authorized(request, state, b""):
        return _json_error(401, "bad_signature")
    payment = await SandboxRepository(session).get(ProviderName.A3.value, payment_id)
    if payment is None or payment.merchant != state.settings.a3_merchant:
        return _json_error(404, "not_found")
    return JSONResponse(_a3_payment(payment))


@router.get("/a3/api/reports/daily")
async def a3_report(date: str, request: Request, state: State, session: DbSession) -> Response:
    if not await _a3_authorized(request, state, b""):
        return _json_error(401, "bad_signature")
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        return _json_error(400, "bad_date")
    start = dt.datetime.combine(day, dt.time(), BILLING_TZ)
    payments = await SandboxRepository(session).completed_between(
        ProviderName.A3.value, state.settings.a3_merchant, "success", start, start + dt.timedelta(days=1)
    )
    return JSONResponse({"date": day.isoformat(), "payments": [_a3_payment(p) for p in payments]})


# --- PayMO's API -----------------------------------------------------------------------------------------


def _paymo_invoice(request: Request, payment: SandboxPayment) -> dict[str, Any]:
    return {
        "invoice_id": payment.id,
        "order_id": payment.order_id,
        "amount": payment.amount_kopecks,
        "currency": "RUB",
        "status": payment.status,
        "checkout_url": _form_url(request, ProviderName.PAYMO, payment.id),
        "completed_at": payment.completed_at.isoformat() if payment.completed_at else None,
    }


@router.post("/paymo/api/invoices")
async def paymo_invoice(request: Request, state: State, session: DbSession) -> Response:
    settings = state.settings
    try:
        data = json.loads(await request.body())
        key, order_id, amount = str(data["key"]), str(data["order_id"])[:40], int(data["amount"])
        signature = str(data["signature"])
    except (ValueError, KeyError, TypeError):
        return _json_error(400, "bad_request")
    expected = paymo.invoice_signature(settings.paymo_secret, key, order_id, amount)
    if key != settings.paymo_key or not signature_matches(expected, signature):
        return _json_error(403, "bad_signature")
    if amount <= 0 or data.get("currency", "RUB") != "RUB":
        return _json_error(400, "bad_request")
    description = str(data.get("description", ""))
    payment = await _create(session, state, ProviderName.PAYMO, key, order_id, amount, description)
    if payment is None:
        return _json_error(409, "order_exists_with_another_amount")
    return JSONResponse(_paymo_invoice(request, payment), 201)


@router.get("/paymo/api/invoices/{invoice_id}")
async def paymo_status(
    invoice_id: str, key: str, signature: str, request: Request, state: State, session: DbSession
) -> Response:
    settings = state.settings
    expected = paymo.query_signature(settings.paymo_secret, key, invoice_id)
    if key != settings.paymo_key or not signature_matches(expected, signature):
        return _json_error(403, "bad_signature")
    payment = await SandboxRepository(session).get(ProviderName.PAYMO.value, invoice_id)
    if payment is None or payment.merchant != key:
        return _json_error(404, "not_found")
    return JSONResponse(_paymo_invoice(request, payment))


async def send_paymo_notification(app: Any, state: PortalState, payment: SandboxPayment, status: str) -> None:
    """PayMO's callback to the portal: the JSON body signed (raw bytes) with the notification secret."""
    body = json.dumps(
        {
            "event_id": "evt_" + secrets.token_hex(12),
            "invoice_id": payment.id,
            "order_id": payment.order_id,
            "amount": payment.amount_kopecks,
            "currency": "RUB",
            "status": status,
            "timestamp": state.clock.now().isoformat(),
        },
        ensure_ascii=False,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        paymo.SIGNATURE_HEADER: paymo.notification_signature(state.settings.paymo_notify_secret, body),
    }
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://portal.internal"
        ) as client:
            response = await client.post(NOTIFY_PATH, content=body, headers=headers)
        if response.status_code != 200:
            log.warning("PayMO sandbox: the portal answered %s to a notification", response.status_code)
    except Exception:  # a background task must not die silently
        log.exception("PayMO sandbox: delivering a notification failed")


# --- the hosted form ------------------------------------------------------------------------------------


_STATUS_WORDS = {
    "initiated": "ожидает оплаты",
    "created": "ожидает оплаты",
    "processing": "обрабатывается",
    "success": "оплачено",
    "deposited": "оплачено",
    "failed": "отклонено",
    "declined": "отклонено",
    "cancelled": "отменено",
    "refunded": "возвращено",
}


def _page(provider: ProviderName, title: str, body: str, status: int = 200) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{html.escape(TITLE[provider])}</title></head>
<body><h1>{html.escape(TITLE[provider])}</h1><h2>{html.escape(title)}</h2>{body}</body></html>"""
    return HTMLResponse(document, status)


def _form_page(request: Request, provider: ProviderName, payment: SandboxPayment) -> HTMLResponse:
    base = _form_url(request, provider, payment.id)
    words = _STATUS_WORDS.get(payment.status, payment.status)
    details = (
        f"<p>Заказ: {html.escape(payment.order_id)}</p>"
        f"<p>Назначение: {html.escape(payment.description)}</p>"
        f"<p>Сумма: {html.escape(format_rubles(payment.amount_kopecks))}</p>"
        f"<p>Статус: {html.escape(words)}</p>"
    )
    buttons = ""
    if payment.status == VOCABULARY[provider].initial:
        buttons = "".join(
            f'<form method="post" action="{html.escape(base)}/{action}">'
            f'<button type="submit">{label}</button></form>'
            for action, label in (("pay", "Оплатить"), ("decline", "Отклонить"), ("cancel", "Отменить"))
        )
    return _page(provider, "Оплата банковской картой", details + buttons)


async def _settle(app: Any, state: PortalState, provider: ProviderName, payment_id: str) -> None:
    """After Pay: processing → success (PayMO: with a notification at each step)."""
    vocabulary = VOCABULARY[provider]
    try:
        if provider is ProviderName.PAYMO:
            payment = await _load(state, provider, payment_id)
            if payment is not None:
                await send_paymo_notification(app, state, payment, vocabulary.processing)
        async for session in session_scope(state.sessionmaker, state.cache):
            await SandboxRepository(session).move(
                provider.value,
                payment_id,
                {vocabulary.processing},
                vocabulary.success,
                state.clock.now(),
                True,
            )
        if provider is ProviderName.PAYMO:
            payment = await _load(state, provider, payment_id)
            if payment is not None:
                await send_paymo_notification(app, state, payment, vocabulary.success)
    except Exception:
        log.exception("sandbox: settling %s failed", payment_id)


async def _load(state: PortalState, provider: ProviderName, payment_id: str) -> SandboxPayment | None:
    async with state.sessionmaker() as session:
        return await SandboxRepository(session).get(provider.value, payment_id)


async def _notify_later(
    app: Any, state: PortalState, provider: ProviderName, payment_id: str, status: str
) -> None:
    if provider is not ProviderName.PAYMO:
        return
    payment = await _load(state, provider, payment_id)
    if payment is not None:
        await send_paymo_notification(app, state, payment, status)


def _install_form(provider: ProviderName) -> None:
    path = f"/{FORM_PATH[provider]}/{{payment_id}}"
    vocabulary = VOCABULARY[provider]

    async def show(payment_id: str, request: Request, state: State, session: DbSession) -> Response:
        payment = await SandboxRepository(session).get(provider.value, payment_id)
        if payment is None:
            return _page(provider, "Платёж не найден", "", 404)
        return _form_page(request, provider, payment)

    async def act(
        payment_id: str,
        action: str,
        request: Request,
        state: State,
        session: DbSession,
        background: BackgroundTasks,
    ) -> Response:
        moves: dict[str, tuple[set[str], str, str]] = {
            "pay": ({vocabulary.initial}, vocabulary.processing, "Платёж принят и обрабатывается."),
            "decline": ({vocabulary.initial}, vocabulary.declined, "Банк отклонил платёж."),
            "cancel": ({vocabulary.initial}, vocabulary.cancelled, "Платёж отменён."),
        }
        if provider is ProviderName.PAYMO:
            moves["refund"] = ({vocabulary.success}, "refunded", "Деньги возвращены плательщику.")
        if action not in moves:
            return _page(provider, "Нет такого действия", "", 404)
        repo = SandboxRepository(session)
        payment = await repo.get(provider.value, payment_id)
        if payment is None:
            return _page(provider, "Платёж не найден", "", 404)
        allowed, status, words = moves[action]
        final = action in {"decline", "cancel"}
        if not await repo.move(provider.value, payment_id, allowed, status, state.clock.now(), final):
            words = _STATUS_WORDS.get(payment.status, payment.status)
            return _page(provider, f"Платёж уже {words}", "", 409)
        if action == "pay":
            background.add_task(_settle, request.app, state, provider, payment_id)
        else:
            background.add_task(_notify_later, request.app, state, provider, payment_id, status)
        return _page(provider, words, "<p>Вернитесь в личный кабинет: статус платежа обновится там.</p>")

    router.add_api_route(path, show, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(path + "/{action}", act, methods=["POST"], response_class=HTMLResponse)


for _provider in ProviderName:
    _install_form(_provider)
