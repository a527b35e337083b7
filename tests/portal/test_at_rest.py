"""Secrets at rest and in the demo: private folders and files whatever the umask (mended on start),
per-installation sandbox secrets, and anonymous payers who never receive each other's orders."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from portal.app import create_app
from portal.demo.accounts import UNREGISTERED_APARTMENT, capital_repair_number
from portal.kit.storage import SANDBOX_SECRET_SETTINGS, SANDBOX_SECRETS_FILE
from portal.mail.mailer import OutgoingMail
from portal.models import PaymentOrder, SandboxPayment
from portal.payments.providers.paymo import SIGNATURE_HEADER, notification_signature
from portal.settings import DEFAULT_PAYMENT_SECRET, Settings
from tests.conftest import BASE_URL, TEST_NOW, TEST_SECRET, Portal, PortalFactory

API = "/api/v1"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def _start_and_mail(data_dir: Path) -> None:
    """Start the demo portal in ``data_dir`` (migrate, seed if empty), send one letter, stop."""
    settings = Settings(demo=True, data_dir=data_dir, secret_key=TEST_SECRET, argon2_memory_cost=64)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        delivered = await app.state.portal.mailer.send(
            OutgoingMail("resident@example.com", "Пароль", "Ваш пароль: x7Qp2v")
        )
        assert delivered


def assert_private(data_dir: Path) -> None:
    folders = [data_dir, *(data_dir / "outbox" / sub for sub in ("", "tmp", "new", "cur"))]
    for folder in folders:
        assert mode(folder) == 0o700, (folder, oct(mode(folder)))
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "portal.sqlite3" for p in files)
    assert any(p.parent.name == "new" for p in files), "the letter"
    assert any(p.name == SANDBOX_SECRETS_FILE for p in files)
    for path in files:
        assert mode(path) == 0o600, (path, oct(mode(path)))


@pytest.mark.usefixtures("umask_022")
async def test_new_data_folder_is_private_under_umask_022(tmp_path: Path) -> None:
    data_dir = tmp_path / "kabinet"
    await _start_and_mail(data_dir)
    assert_private(data_dir)


@pytest.mark.usefixtures("umask_022")
async def test_readable_data_folder_is_mended_on_start(tmp_path: Path, sqlite_template: Path) -> None:
    data_dir = tmp_path / "kabinet"
    (data_dir / "outbox" / "new").mkdir(parents=True)
    shutil.copyfile(sqlite_template, data_dir / "portal.sqlite3")
    letter = data_dir / "outbox" / "new" / "1700000000.M1P1.old"
    letter.write_text("Subject: Код\n\nКод восстановления: 123456\n")
    for path in (data_dir, data_dir / "outbox", data_dir / "outbox" / "new"):
        path.chmod(0o755)
    for path in (data_dir / "portal.sqlite3", letter):
        path.chmod(0o644)
    await _start_and_mail(data_dir)
    assert_private(data_dir)


# --- item 11: the demo's sandbox secrets ------------------------------------------------------------


async def test_sandbox_secrets_are_generated_per_installation(
    make_portal: PortalFactory, tmp_path: Path
) -> None:
    first = await make_portal(data_dir=tmp_path / "one")
    again = await make_portal(data_dir=tmp_path / "one")
    other = await make_portal(data_dir=tmp_path / "two")
    for name in SANDBOX_SECRET_SETTINGS:
        secret = getattr(first.settings, name)
        assert secret != DEFAULT_PAYMENT_SECRET and len(secret) >= 32
        assert getattr(again.settings, name) == secret  # kept across restarts
        assert getattr(other.settings, name) != secret  # another installation, another secret
    stored = tmp_path / "one" / SANDBOX_SECRETS_FILE
    assert mode(stored) == 0o600
    assert json.loads(stored.read_text())["paymo_notify_secret"] == first.settings.paymo_notify_secret


async def test_notification_signed_with_the_source_secret_credits_nothing(portal: Portal) -> None:
    number = capital_repair_number(UNREGISTERED_APARTMENT)
    body = {"capital_repair_account": number, "amount_kopecks": 500000, "provider": "paymo"}
    response = await portal.client.post(
        f"{API}/public/capital-repair/payments", json=body, headers={"Idempotency-Key": "unpaid-1"}
    )
    assert response.status_code == 201, response.text
    order = response.json()
    async with portal.state.sessionmaker() as session:
        invoice = await session.scalar(select(SandboxPayment).where(SandboxPayment.order_id == order["id"]))
        assert invoice is not None
        invoice_id, amount = invoice.id, invoice.amount_kopecks
    forged = json.dumps(
        {
            "event_id": "evt_forged",
            "invoice_id": invoice_id,
            "order_id": order["id"],
            "amount": amount,
            "currency": "RUB",
            "status": "deposited",
            "timestamp": TEST_NOW.isoformat(),
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: notification_signature(DEFAULT_PAYMENT_SECRET, forged),
    }
    refused = await portal.client.post(f"{API}/payments/paymo/notify", content=forged, headers=headers)
    assert refused.status_code == 403, refused.text
    async with portal.state.sessionmaker() as session:
        stored = await session.get(PaymentOrder, order["id"])
        assert stored is not None and stored.credited_payment_id is None


# --- item 12: anonymous payers' idempotency keys -----------------------------------------------------


async def test_same_public_key_from_another_address_gets_its_own_order(portal: Portal) -> None:
    number = capital_repair_number(UNREGISTERED_APARTMENT)
    body = {"capital_repair_account": number, "amount_kopecks": 25000, "provider": "a3"}
    key = {"Idempotency-Key": "2f1c5a9e-0000-4000-8000-000000000001"}
    url = f"{API}/public/capital-repair/payments"
    mine = await portal.client.post(url, json=body, headers=key)
    assert mine.status_code == 201, mine.text

    transport = httpx.ASGITransport(app=portal.app, client=("203.0.113.9", 41000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as stranger:
        theirs = await stranger.post(url, json=body, headers=key)
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != mine.json()["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["payment_url"] != mine.json()["payment_url"]

    # The first payer's repeat still replays the first payer's order.
    repeat = await portal.client.post(url, json=body, headers=key)
    assert repeat.json()["id"] == mine.json()["id"] and repeat.headers["idempotent-replayed"] == "true"


@pytest.mark.usefixtures("umask_022")
async def test_embedded_portal_data_folder_is_private(tmp_path: Path, sqlite_template: Path) -> None:
    """The terminal app's own demo portal: its folder, database and letters (an earlier version's
    readable database is mended too)."""
    from hosting.embedded import EmbeddedPortal

    data_dir = tmp_path / "embedded"
    data_dir.mkdir(mode=0o755)
    shutil.copyfile(sqlite_template, data_dir / "portal.sqlite3")
    (data_dir / "portal.sqlite3").chmod(0o644)
    async with EmbeddedPortal(data_dir=data_dir) as embedded:
        assert embedded._app is not None
        assert await embedded._app.state.portal.mailer.send(
            OutgoingMail("resident@example.com", "Код", "Код восстановления: 123456")
        )
    assert_private(data_dir)
