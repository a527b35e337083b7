"""Payment helpers shared by the portal tests: an order created and paid in the sandbox, a signed PayMO
notification."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from portal.models import SandboxPayment
from portal.payments.providers.paymo import SIGNATURE_HEADER, notification_signature
from tests.conftest import TEST_NOW

API = "/api/v1"


async def create(portal, headers, key="key-0001", purpose="utilities", amount=102312, provider="a3"):
    body = {"purpose": purpose, "amount_kopecks": amount, "provider": provider}
    return await portal.client.post(f"{API}/payments", json=body, headers={**headers, "Idempotency-Key": key})


async def created(portal, headers, **kwargs):
    response = await create(portal, headers, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


async def press(portal, order, action):
    return await portal.client.post(f"{order['payment_url']}/{action}")


async def order_status(portal, headers, order_id):
    response = await portal.client.get(f"{API}/payments/{order_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def sandbox_payment(portal, order):
    async with portal.state.sessionmaker() as session:
        found = await session.scalar(select(SandboxPayment).where(SandboxPayment.order_id == order["id"]))
        assert found is not None
        return found


def signed(body: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: notification_signature(secret, raw)}


async def notification(portal, order, status="deposited", event_id="evt_test_1", **changes):
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
