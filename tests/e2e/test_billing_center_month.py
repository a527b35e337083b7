"""A billing center's month as the README tells it, with no demo anywhere: files in, residents in, files out.

The portal is migrated and its region imported from ``docs/exchange-examples`` by the real commands, served
by a real ``kabinet-portal serve`` (two uvicorn workers on PostgreSQL when the suite has it, one on SQLite
otherwise); a resident of the imported region registers with the last receipt's total, reads the password
from the letter, logs in, sees the imported figures, submits a reading and pays through the PayMO sandbox;
then the billing center takes the readings, payments and registrations back by the command line and by the
operator API, and each file holds what the resident did, with a control line that adds up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from portal.billing.service import last_receipt_period, receipt_total
from portal.kit.clock import BILLING_TZ
from portal.kit.db import create_engine, create_sessionmaker
from portal.models import Account
from tests.conftest import pg_create_database, pg_database_name, pg_drop_database, pg_url
from tests.support.exports import parse
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "exchange-examples"
RESIDENT = "7700000001"  # the first account of the example set
EMAIL = "petrov@example.ru"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'portal.sqlite3'}"
        return
    if pg_url() is None:
        pytest.skip("PostgreSQL tests need KABINET_TEST_DATABASE_URL")
    name = pg_database_name("month")
    url = asyncio.run(pg_create_database(name))
    try:
        yield url
    finally:
        asyncio.run(pg_drop_database(name))


def _portal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def _receipt_total(url: str) -> tuple[int, dt.date]:
    """What the resident reads on the last receipt: «Итого к оплате», without the capital repair."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            account_id = await session.scalar(select(Account.id).where(Account.number == RESIDENT))
            assert account_id is not None
            period = await last_receipt_period(session, account_id)
            assert period is not None
            return await receipt_total(session, account_id, period), period
    finally:
        await engine.dispose()


def _wait_for_health(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the portal did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


def test_files_in_residents_pay_files_out(database_url: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KABINET_")}
    env |= {
        "KABINET_DATABASE_URL": database_url,
        "KABINET_DATA_DIR": str(tmp_path / "data"),
        "KABINET_SECRET_KEY": secrets.token_urlsafe(48),
        "KABINET_PAYMENTS_SANDBOX": "true",  # PayMO's in-process twin stands in for the real one
        # A deployment's own secrets (the portal refuses to serve with the defaults that ship in the source).
        "KABINET_A3_SECRET": secrets.token_urlsafe(32),
        "KABINET_PAYMO_SECRET": secrets.token_urlsafe(32),
        "KABINET_PAYMO_NOTIFY_SECRET": secrets.token_urlsafe(32),
        "KABINET_READING_WINDOW_ALWAYS_OPEN": "true",  # whatever day the suite runs on
    }
    # --- the billing center's files in ------------------------------------------------------------
    migrated = _portal(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    imported = _portal(env, "import", str(EXAMPLES))
    assert imported.returncode == 0, imported.stderr
    assert "Загрузка №" in imported.stdout and "accounts" in imported.stdout
    made = _portal(env, "operator-key", "create", "1С: Биллинг")
    assert made.returncode == 0, made.stderr
    operator_key = next(line for line in made.stdout.splitlines() if line.startswith("kop_"))
    total, period = asyncio.run(_receipt_total(database_url))

    port = free_port()
    workers = "2" if database_url.startswith("postgresql") else "1"
    server = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--workers", workers],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        _wait_for_health(base, server, tmp_path / "serve.log")
        with httpx.Client(base_url=base, timeout=30) as api:
            # --- a resident of the imported region registers and logs in ------------------------------
            found = api.post("/registration/lookup", json={"account_number": RESIDENT})
            assert found.status_code == 200, found.text
            registered = api.post(
                "/registration",
                json={
                    "account_number": RESIDENT,
                    "receipt_total_kopecks": total,
                    "email": EMAIL,
                    "email_repeat": EMAIL,
                    "accept_terms": True,
                },
            )
            assert registered.status_code == 202, registered.text  # the letter is on its way
            letter = _portal(env, "outbox", "--last", "1")
            password = next(
                line.removeprefix("Пароль: ")
                for line in letter.stdout.splitlines()
                if line.startswith("Пароль: ")
            )
            login = api.post("/auth/login", json={"account_number": RESIDENT, "password": password})
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['token']}"}

            # The imported figures: the address and the last receipt's total due.
            summary = api.get("/account", headers=auth).json()
            assert summary["account_number"] == RESIDENT
            assert summary["address"].startswith("г. Вологда, ул. Мира, д. 5")
            assert summary["balance"]["breakdown"]["receipt_total_kopecks"] == total
            assert summary["balance"]["breakdown"]["period"] == period.strftime("%Y-%m")

            # A reading: the first meter's last value + 1.
            meter = api.get("/meters", headers=auth).json()["meters"][0]
            value = Decimal(meter["previous_reading"]["value"]) + 1
            submitted = api.post(
                "/readings",
                headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
                json={"readings": [{"meter_id": meter["meter_id"], "value": str(value)}]},
            )
            assert submitted.status_code in (200, 201), submitted.text
            reading_period = submitted.json()["period"]

            # Pay 1 500 ₽ through PayMO's sandbox checkout; the payment is credited once.
            order = api.post(
                "/payments",
                headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
                json={"purpose": "utilities", "amount_kopecks": 150000, "provider": "paymo"},
            ).json()
            paid = httpx.post(f"{order['payment_url']}/pay", timeout=30)
            assert paid.status_code < 400, paid.text
            deadline = time.monotonic() + 60
            while (status := api.get(f"/payments/{order['id']}", headers=auth).json())["status"] != "success":
                assert time.monotonic() < deadline, status
                time.sleep(0.2)
            assert status["credited"] is True

            # --- the billing center's files out ---------------------------------------------------
            today = dt.datetime.now(BILLING_TZ).date().isoformat()
            files = tmp_path / "out"
            files.mkdir()
            for kind, option in (
                ("readings", ["--period", reading_period]),
                ("payments", ["--date", today]),
                ("registrations", []),
            ):
                exported = _portal(env, "export", kind, *option, "--out", str(files / f"{kind}.csv"))
                assert exported.returncode == 0, exported.stderr
                assert "контрольная сумма" in exported.stderr

            _, readings, control = parse((files / "readings.csv").read_bytes())
            mine = [row for row in readings if row[0] == RESIDENT and row[1] == meter["serial_number"]]
            assert [(Decimal(row[3]), row[4], row[6]) for row in mine if row[4] == "resident"] == [
                (value, "resident", "accepted")
            ]
            assert control[1] == str(len(readings))
            assert Decimal(control[2]) == sum((Decimal(row[3]) for row in readings), Decimal(0))

            _, payments, control = parse((files / "payments.csv").read_bytes())
            assert [(row[0], row[1], Decimal(row[3]), row[4], row[5]) for row in payments] == [
                (RESIDENT, "utilities", Decimal("1500.00"), "paymo", order["id"])
            ]
            assert control[1:] == ["1", "1500.00"]

            _, registrations, control = parse((files / "registrations.csv").read_bytes())
            assert [row[0] for row in registrations] == [RESIDENT] and control[1] == "1"

            # The operator API gives the same bytes; a resident's token is refused there, and the key
            # is refused on a resident's endpoint.
            by_api = api.get(
                "/operator/exports/registrations", headers={"Authorization": f"Bearer {operator_key}"}
            )
            assert by_api.status_code == 200, by_api.text
            assert by_api.content == (files / "registrations.csv").read_bytes()
            assert api.get("/operator/exports/registrations", headers=auth).status_code in (401, 403)
            assert api.get("/account", headers={"Authorization": f"Bearer {operator_key}"}).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
