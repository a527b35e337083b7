"""The payment-service interface the portal's payment rules use, whatever the service.

Statuses come back in one vocabulary (:class:`PaymentStatus`); each adapter maps its service's own
names. Adapters only talk to their service and check its signatures: what a status means for the
resident's account (crediting once, refunds) is decided in :mod:`portal.payments.service`.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx


class ProviderName(enum.StrEnum):
    """The payment services (also the ``channel`` of the payments they bring)."""

    A3 = "a3"
    PAYMO = "paymo"


class PaymentStatus(enum.StrEnum):
    """One vocabulary of payment statuses for every service."""

    INITIATED = "initiated"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {PaymentStatus.SUCCESS, PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.REFUNDED}
)


class ProviderError(Exception):
    """The payment service could not be reached or refused the request (the portal answers 503)."""


async def request_json(client: httpx.AsyncClient, service: str, method: str, url: str, **kwargs: Any) -> Any:
    """One call to a payment service: its JSON answer, or :class:`ProviderError` saying what went wrong."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise ProviderError(f"{service} is unreachable: {exc!r}") from exc
    if response.status_code >= 300:
        raise ProviderError(f"{service} answered {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(f"{service} answered something other than JSON") from exc


class InvalidSignature(Exception):
    """A notification's signature is missing or wrong: it did not come from the payment service."""


class MalformedNotification(Exception):
    """A correctly signed notification whose content cannot be read."""


@dataclass(frozen=True)
class StartRequest:
    """What the portal asks a payment service to take."""

    order_id: str
    amount_kopecks: int
    description: str
    #: The account (or capital repair account) number the payment is for.
    account: str


@dataclass(frozen=True)
class StartedPayment:
    provider_payment_id: str
    #: The service's hosted card form / checkout page for the resident.
    payment_url: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the service reports it (status query, reconciliation report line, notification)."""

    provider_payment_id: str
    order_id: str
    amount_kopecks: int
    status: PaymentStatus
    #: The service's own status name (for logs and discrepancy reports).
    raw_status: str
    currency: str = "RUB"
    completed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Notification:
    """A verified notification (callback) of a payment service."""

    event_id: str
    timestamp: dt.datetime
    payment: ProviderPayment


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment service: start a payment and ask its status."""

    name: ProviderName

    async def start(self, request: StartRequest) -> StartedPayment:
        """Ask the service to take a payment; idempotent per order id. Raises :class:`ProviderError`."""
        ...

    async def status(self, provider_payment_id: str) -> ProviderPayment:
        """The payment's current status at the service. Raises :class:`ProviderError`."""
        ...


@runtime_checkable
class NotifyingProvider(PaymentProvider, Protocol):
    """A service that calls the portal back with signed notifications (PayMO)."""

    def parse_notification(self, raw_body: bytes, signature: str | None) -> Notification:
        """Verify ``signature`` over the raw bytes first, then read them.

        Raises :class:`InvalidSignature` or :class:`MalformedNotification`.
        """
        ...


@runtime_checkable
class ReconcilingProvider(PaymentProvider, Protocol):
    """A service that confirms payments with a daily reconciliation report (A3)."""

    async def daily_report(self, day: dt.date) -> list[ProviderPayment]:
        """The payments the service completed on ``day``. Raises :class:`ProviderError`."""
        ...


def hmac_sha256(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` under ``secret``."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a hex signature (a missing one never matches)."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())
