"""Payment helpers shared by the portal tests: an order created and paid in the sandbox, a signed PayMO
notification."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select

from portal.models import SandboxPayment
from portal.payments.providers.paymo import SIGNATURE_HEADER, notification_signature
from tests.conftest import TEST_NOW
from tests.support.http import json_object

if TYPE_CHECKING:
    from tests.conftest import Portal

API = "/api/v1"


async def create(
    portal: Portal,
    headers: dict[str, str],
    key: str = "key-0001",
    purpose: str = "utilities",
    amount: object = 102312,
    provider: str = "a3",
) -> httpx.Response:
    """Ask for a payment; ``amount`` is what goes as ``amount_kopecks`` (a wrong type on purpose, too)."""
    body = {"purpose": purpose, "amount_kopecks": amount, "provider": provider}
    return await portal.client.post(f"{API}/payments", json=body, headers={**headers, "Idempotency-Key": key})


async def created(
    portal: Portal,
    headers: dict[str, str],
    key: str = "key-0001",
    purpose: str = "utilities",
    amount: int = 102312,
    provider: str = "a3",
) -> dict[str, Any]:
    """The order of a payment the portal accepted."""
    response = await create(portal, headers, key=key, purpose=purpose, amount=amount, provider=provider)
    assert response.status_code == 201, response.text
    return json_object(response)


async def press(portal: Portal, order: dict[str, Any], action: str) -> httpx.Response:
    return await portal.client.post(f"{order['payment_url']}/{action}")


async def order_status(portal: Portal, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    response = await portal.client.get(f"{API}/payments/{order_id}", headers=headers)
    assert response.status_code == 200, response.text
    return json_object(response)


async def sandbox_payment(portal: Portal, order: dict[str, Any]) -> SandboxPayment:
    async with portal.state.sessionmaker() as session:
        found = await session.scalar(select(SandboxPayment).where(SandboxPayment.order_id == order["id"]))
        assert found is not None
        return found


def signed(body: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: notification_signature(secret, raw)}


async def notification(
    portal: Portal,
    order: dict[str, Any],
    status: str = "deposited",
    event_id: str = "evt_test_1",
    **changes: object,
) -> tuple[bytes, dict[str, str]]:
    sandbox = await sandbox_payment(portal, order)
    body = {
        "event_id": event_id,
        "invoice_id": sandbox.id,
        "order_id": order["id"],
        "amount": sandbox.amount_kopecks,
        "currency": "RUB",
        "status": status,
        "timestamp": TEST_NOW.isoformat(),
        **changes,
    }
    return signed(body, portal.settings.paymo_notify_secret)
