"""A3: start a payment → the URL of A3's hosted card form; status by polling; a daily reconciliation report.

Protocol (JSON over HTTPS, amounts in kopecks). Every request carries ``X-A3-Merchant``,
``X-A3-Timestamp`` (Unix seconds) and ``X-A3-Signature``: hex HMAC-SHA256 under the merchant secret of
``METHOD \\n path?query \\n timestamp \\n`` followed by the raw body.

- ``POST {base}/payments`` ``{"merchant", "order_id", "amount", "currency", "description", "account"}``
  → ``{"payment_id", "form_url", "status"}`` (the same order id again gives the same payment).
- ``GET {base}/payments/{payment_id}`` → ``{"payment_id", "order_id", "amount", "currency", "status",
  "completed_at"}``; statuses ``initiated`` → ``processing`` → ``success`` | ``failed`` | ``cancelled``.
- ``GET {base}/reports/daily?date=YYYY-MM-DD`` → ``{"date", "payments": [payment, …]}``: the payments
  completed successfully that day (the confirmation the portal reconciles against).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from portal.kit.clock import Clock
from portal.payments.providers.base import (
    PaymentStatus,
    ProviderError,
    ProviderName,
    ProviderPayment,
    StartedPayment,
    StartRequest,
    hmac_sha256,
    request_json,
)

MERCHANT_HEADER = "X-A3-Merchant"
TIMESTAMP_HEADER = "X-A3-Timestamp"
SIGNATURE_HEADER = "X-A3-Signature"

#: A3's statuses are the portal's own names.
STATUSES: dict[str, PaymentStatus] = {
    "initiated": PaymentStatus.INITIATED,
    "processing": PaymentStatus.PROCESSING,
    "success": PaymentStatus.SUCCESS,
    "failed": PaymentStatus.FAILED,
    "cancelled": PaymentStatus.CANCELLED,
}


def request_signature(secret: str, method: str, target: str, timestamp: str, body: bytes) -> str:
    """The signature of one request; ``target`` is the path with its query (``/x/reports?date=…``)."""
    return hmac_sha256(secret, f"{method.upper()}\n{target}\n{timestamp}\n".encode() + body)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _payment(data: Any) -> ProviderPayment:
    try:
        raw_status = str(data["status"])
        completed = data.get("completed_at")
        return ProviderPayment(
            provider_payment_id=str(data["payment_id"]),
            order_id=str(data["order_id"]),
            amount_kopecks=int(data["amount"]),
            currency=str(data.get("currency", "RUB")),
            status=STATUSES[raw_status],
            raw_status=raw_status,
            completed_at=dt.datetime.fromisoformat(completed) if completed else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"A3 answered an unreadable payment: {exc!r}") from exc


class A3Provider:
    """The A3 adapter (the same code talks to the real A3 and to the sandbox twin)."""

    name = ProviderName.A3

    def __init__(self, client: httpx.AsyncClient, *, base_url: str, merchant: str, secret: str, clock: Clock):
        self._client = client
        self._base = base_url.rstrip("/")
        self._merchant = merchant
        self._secret = secret
        self._clock = clock

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        if not self._base:
            raise ProviderError("A3 is not configured (KABINET_A3_URL)")
        url = f"{self._base}{path}"
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            MERCHANT_HEADER: self._merchant,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: request_signature(self._secret, method, _target(url), timestamp, body),
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        return await request_json(self._client, "A3", method, url, content=body or None, headers=headers)

    async def start(self, request: StartRequest) -> StartedPayment:
        data = await self._call(
            "POST",
            "/payments",
            {
                "merchant": self._merchant,
                "order_id": request.order_id,
                "amount": request.amount_kopecks,
                "currency": "RUB",
                "description": request.description,
                "account": request.account,
            },
        )
        try:
            return StartedPayment(str(data["payment_id"]), str(data["form_url"]))
        except (KeyError, TypeError) as exc:
            raise ProviderError("A3 answered without a payment id or form URL") from exc

    async def status(self, provider_payment_id: str) -> ProviderPayment:
        return _payment(await self._call("GET", f"/payments/{provider_payment_id}"))

    async def daily_report(self, day: dt.date) -> list[ProviderPayment]:
        data = await self._call("GET", f"/reports/daily?date={day.isoformat()}")
        try:
            return [_payment(item) for item in data["payments"]]
        except (KeyError, TypeError) as exc:
            raise ProviderError("A3 answered an unreadable report") from exc
