"""Payment services: one interface (:mod:`.base`), the A3 and PayMO adapters, and how to reach them.

With ``settings.payments_sandbox`` the adapters talk to the sandbox twins mounted in the portal's own
app (``/sandbox/…``) through ``httpx.ASGITransport``: the same protocol code, signatures and status
mapping as with the real services, only the transport differs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from portal.kit.clock import Clock
from portal.payments.providers.a3 import A3Provider
from portal.payments.providers.base import (
    FINAL_STATUSES,
    InvalidSignature,
    MalformedNotification,
    Notification,
    NotifyingProvider,
    PaymentProvider,
    PaymentStatus,
    ProviderError,
    ProviderName,
    ProviderPayment,
    ReconcilingProvider,
    StartedPayment,
    StartRequest,
)
from portal.payments.providers.paymo import PayMOProvider
from portal.settings import Settings

#: Where the sandbox twins' APIs live in the portal's app.
SANDBOX_A3_API = "/sandbox/a3/api"
SANDBOX_PAYMO_API = "/sandbox/paymo/api"
#: Any host works for in-process calls; the sandbox builds its form URLs from the host it is called on.
IN_PROCESS_BASE = "http://portal.internal/"


@dataclass(frozen=True)
class Providers:
    a3: A3Provider
    paymo: PayMOProvider

    def get(self, name: ProviderName) -> PaymentProvider:
        return self.a3 if name is ProviderName.A3 else self.paymo


@asynccontextmanager
async def open_providers(
    settings: Settings, clock: Clock, app: Any, public_base_url: str = IN_PROCESS_BASE
) -> AsyncIterator[Providers]:
    """The adapters with one HTTP client for this use.

    ``app`` is the portal's ASGI app (the sandbox's transport); ``public_base_url`` is the address the
    resident reaches the portal at, so that the sandbox's form URLs work for them.
    """
    transport: httpx.AsyncBaseTransport | None = None
    if settings.payments_sandbox:
        transport = httpx.ASGITransport(app=app)
        base = public_base_url.rstrip("/")
        a3_url, paymo_url = base + SANDBOX_A3_API, base + SANDBOX_PAYMO_API
    else:
        a3_url, paymo_url = settings.a3_url, settings.paymo_url
    async with httpx.AsyncClient(
        transport=transport, timeout=settings.payment_provider_timeout_seconds
    ) as client:
        yield Providers(
            a3=A3Provider(
                client, base_url=a3_url, merchant=settings.a3_merchant, secret=settings.a3_secret, clock=clock
            ),
            paymo=PayMOProvider(
                client,
                base_url=paymo_url,
                key=settings.paymo_key,
                secret=settings.paymo_secret,
                notify_secret=settings.paymo_notify_secret,
            ),
        )


def notification_parser(settings: Settings) -> NotifyingProvider:
    """The PayMO adapter for reading notifications (which needs no connection)."""
    return PayMOProvider(
        None,  # parsing a notification makes no request
        base_url=settings.paymo_url,
        key=settings.paymo_key,
        secret=settings.paymo_secret,
        notify_secret=settings.paymo_notify_secret,
    )


__all__ = [
    "FINAL_STATUSES",
    "A3Provider",
    "InvalidSignature",
    "MalformedNotification",
    "Notification",
    "NotifyingProvider",
    "PayMOProvider",
    "PaymentProvider",
    "PaymentStatus",
    "ProviderError",
    "ProviderName",
    "ProviderPayment",
    "Providers",
    "ReconcilingProvider",
    "StartRequest",
    "StartedPayment",
    "notification_parser",
    "open_providers",
]
