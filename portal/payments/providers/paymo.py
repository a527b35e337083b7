"""PayMO: a signed invoice → a checkout URL; signed notifications (callbacks) of the payment's status.

Protocol (JSON over HTTPS, amounts in kopecks):

- ``POST {base}/invoices`` ``{"key", "order_id", "amount", "currency", "description", "signature"}`` where
  ``signature`` = hex HMAC-SHA256 under the merchant secret of ``key:order_id:amount``
  → ``{"invoice_id", "checkout_url", "status"}`` (the same order id again gives the same invoice).
- ``GET {base}/invoices/{invoice_id}?key=…&signature=…`` (HMAC of ``key:invoice_id``) → the invoice
  (with ``completed_at``, ISO 8601, once it is paid, declined or cancelled).
- Notifications: ``POST`` to the portal's ``/api/v1/payments/paymo/notify`` with a JSON body
  ``{"event_id", "invoice_id", "order_id", "amount", "currency", "status", "timestamp"}`` and the header
  ``X-PayMO-Signature``: hex HMAC-SHA256 of the raw body under the notification secret. Statuses:
  ``created`` → ``processing`` → ``approved`` / ``deposited`` | ``declined`` | ``cancelled``; ``refunded``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from portal.payments.providers.base import (
    InvalidSignature,
    MalformedNotification,
    Notification,
    PaymentStatus,
    ProviderError,
    ProviderName,
    ProviderPayment,
    StartedPayment,
    StartRequest,
    hmac_sha256,
    request_json,
    signature_matches,
)

SIGNATURE_HEADER = "X-PayMO-Signature"

STATUSES: dict[str, PaymentStatus] = {
    "created": PaymentStatus.INITIATED,
    "processing": PaymentStatus.PROCESSING,
    "approved": PaymentStatus.SUCCESS,
    "deposited": PaymentStatus.SUCCESS,
    "declined": PaymentStatus.FAILED,
    "cancelled": PaymentStatus.CANCELLED,
    "refunded": PaymentStatus.REFUNDED,
}


def invoice_signature(secret: str, key: str, order_id: str, amount_kopecks: int) -> str:
    """The signature of an invoice: over the merchant key, our order id and the amount in kopecks."""
    return hmac_sha256(secret, f"{key}:{order_id}:{amount_kopecks}".encode())


def query_signature(secret: str, key: str, invoice_id: str) -> str:
    return hmac_sha256(secret, f"{key}:{invoice_id}".encode())


def notification_signature(notify_secret: str, raw_body: bytes) -> str:
    """The signature of a notification: over its raw bytes, exactly as sent."""
    return hmac_sha256(notify_secret, raw_body)


def _payment(data: Any) -> ProviderPayment:
    raw_status = str(data["status"])
    completed = data.get("completed_at")
    return ProviderPayment(
        provider_payment_id=str(data["invoice_id"]),
        order_id=str(data["order_id"]),
        amount_kopecks=int(data["amount"]),
        currency=str(data.get("currency", "RUB")),
        status=STATUSES[raw_status],
        raw_status=raw_status,
        completed_at=dt.datetime.fromisoformat(str(completed)) if completed else None,
    )


class PayMOProvider:
    """The PayMO adapter (the same code talks to the real PayMO and to the sandbox twin)."""

    name = ProviderName.PAYMO

    def __init__(
        self, client: httpx.AsyncClient | None, *, base_url: str, key: str, secret: str, notify_secret: str
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._key = key
        self._secret = secret
        self._notify_secret = notify_secret

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if not self._base or self._client is None:
            raise ProviderError("PayMO is not configured (KABINET_PAYMO_URL)")
        return await request_json(self._client, "PayMO", method, f"{self._base}{path}", **kwargs)

    async def start(self, request: StartRequest) -> StartedPayment:
        payload = {
            "key": self._key,
            "order_id": request.order_id,
            "amount": request.amount_kopecks,
            "currency": "RUB",
            "description": request.description,
            "signature": invoice_signature(self._secret, self._key, request.order_id, request.amount_kopecks),
        }
        data = await self._call("POST", "/invoices", json=payload)
        try:
            return StartedPayment(str(data["invoice_id"]), str(data["checkout_url"]))
        except (KeyError, TypeError) as exc:
            raise ProviderError("PayMO answered without an invoice id or checkout URL") from exc

    async def status(self, provider_payment_id: str) -> ProviderPayment:
        params = {
            "key": self._key,
            "signature": query_signature(self._secret, self._key, provider_payment_id),
        }
        data = await self._call("GET", f"/invoices/{provider_payment_id}", params=params)
        try:
            return _payment(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError("PayMO answered an unreadable invoice") from exc

    def parse_notification(self, raw_body: bytes, signature: str | None) -> Notification:
        # The signature first, over the bytes as received: nothing unverified is even parsed.
        if not signature_matches(notification_signature(self._notify_secret, raw_body), signature):
            raise InvalidSignature
        try:
            data = json.loads(raw_body)
            timestamp = dt.datetime.fromisoformat(str(data["timestamp"]))
            if timestamp.tzinfo is None:
                raise ValueError("timestamp without a time zone")
            return Notification(
                event_id=str(data["event_id"])[:80], timestamp=timestamp, payment=_payment(data)
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MalformedNotification(str(exc)) from exc
