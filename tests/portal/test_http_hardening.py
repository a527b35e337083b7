"""The portal's HTTP edge under abuse and failure: body size, NUL characters, broken JSON, impossible
months, an exhausted or missing database, unexpected errors — always the documented Russian JSON."""

from __future__ import annotations

import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi import FastAPI
from sqlalchemy.pool import QueuePool

from portal.app import create_app
from portal.demo.accounts import (
    DEMO_PASSWORD,
    HAPPY_PATH_APARTMENT,
    UNREGISTERED_APARTMENT,
    account_number,
    capital_repair_number,
)
from portal.settings import Settings
from tests.conftest import BASE_URL, TEST_SECRET, Portal, PortalFactory
from tests.support.ports import free_port

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
#: Ports of this file's servers (the helpers' agreed range): a live portal, and one nobody listens on.
CLOSED_PORT = 18599


def _cyrillic(text: str) -> bool:
    return any("а" <= ch.lower() <= "я" for ch in text)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    assert _cyrillic(body["message"]), body
    if code is not None:
        assert body["code"] == code, body
    return body


# --- item 6: request bodies over the limit ---------------------------------------------------------


async def test_declared_body_over_the_limit_is_413_before_reading(portal: Portal) -> None:
    body = json.dumps({"account_number": "1" * 100_000, "password": "x"}).encode()
    response = await portal.client.post(
        f"{API}/auth/login", content=body, headers={"content-type": "application/json"}
    )
    refused = assert_error(response, 413, "request_too_large")
    assert "64 КиБ" in refused["message"]


async def test_streamed_body_over_the_limit_is_413(make_portal: PortalFactory) -> None:
    portal = await make_portal(max_body_bytes=4096)
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 1024
            yield b" " * 1024

    response = await portal.client.post(
        f"{API}/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "request_too_large")
    # An honest body below the limit still goes through.
    ok = await portal.client.post(
        f"{API}/auth/login",
        json={"account_number": account_number(HAPPY_PATH_APARTMENT), "password": DEMO_PASSWORD},
    )
    assert ok.status_code == 200, ok.text


async def test_paymo_notification_fits_the_limit(portal: Portal) -> None:
    """The largest body an honest party sends is far below the default limit."""
    from portal.payments.providers.paymo import SIGNATURE_HEADER, notification_signature

    notification = {
        "event_id": "e" * 64,
        "invoice_id": "i" * 80,
        "order_id": "po_" + "0" * 32,
        "status": "success",
        "amount": 50_000_000,
        "currency": "RUB",
        "timestamp": "2026-11-20T12:00:00+03:00",
        "completed_at": "2026-11-20T12:00:00+03:00",
    }
    raw = json.dumps(notification).encode()
    assert len(raw) * 20 < portal.settings.max_body_bytes
    headers = {SIGNATURE_HEADER: notification_signature(portal.settings.paymo_notify_secret, raw)}
    response = await portal.client.post(
        f"{API}/payments/paymo/notify", content=raw, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code != 413


def _rss(process: psutil.Process) -> int:
    return int(process.memory_info().rss)


#: The live server: its API's URL, its port and its process.
LivePortal = tuple[str, int, subprocess.Popen[bytes]]


@pytest.fixture(scope="module")
def live_portal(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LivePortal]:
    """The real server (uvicorn, one process) on the demo, on loopback: its API's URL, port and process."""
    data_dir = tmp_path_factory.mktemp("live")
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "portal.cli", "serve", "--demo", "--data-dir", str(data_dir)),
            *("--port", str(port), "--log-level", "warning", "--no-access-log"),
        ],
        cwd=ROOT,
        env={**os.environ, "KABINET_DEMO": "true"},
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}{API}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the portal did not start") from None
                time.sleep(0.2)
        yield base, port, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _post_streamed(port: int, total: int, chunk: int = 1 << 20) -> tuple[bytes, int]:
    """POST ``total`` bytes chunked to the live portal; stop when it answers. (answer, bytes sent)."""
    answer = b""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {API}/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        piece = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"
        deadline = time.monotonic() + 60
        try:
            while sent < total and time.monotonic() < deadline:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(piece)
                sent += chunk
            else:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while len(answer) < 65536:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
                if b"}" in data:
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, sent


def test_200_mb_streamed_body_is_refused_without_memory_growth(
    live_portal: LivePortal,
) -> None:
    base, port, process = live_portal
    server = psutil.Process(process.pid)
    before = _rss(server)
    started = time.monotonic()
    answer, sent = _post_streamed(port, 200 * 1024 * 1024)
    seconds = time.monotonic() - started
    grown = _rss(server) - before
    print(
        f"200 MB streamed POST: answered after {sent / 2**20:.0f} MiB sent, {seconds:.2f} s, "
        f"RSS +{grown / 2**20:.1f} MiB"
    )
    status_line = answer.split(b"\r\n", 1)[0]
    assert b" 413 " in status_line, answer[:300]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1].decode())
    assert body["code"] == "request_too_large" and _cyrillic(body["message"])
    assert grown < 8 * 1024 * 1024, f"the worker grew by {grown / 2**20:.1f} MiB"
    # The server is fine afterwards.
    with urllib.request.urlopen(f"{base}/health", timeout=5) as health:
        assert health.status == 200


def test_declared_200_mb_body_is_refused_before_it_is_sent(
    live_portal: LivePortal,
) -> None:
    _base, port, _process = live_portal
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {API}/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + f"Content-Type: application/json\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = sock.recv(65536)
    assert b" 413 " in answer.split(b"\r\n", 1)[0], answer


# --- item 8: NUL characters, impossible months, broken JSON, unexpected errors ------------------------


async def test_nul_in_path_parameters_is_422_naming_the_field(portal: Portal) -> None:
    headers = await portal.login_as()
    cases = [
        (f"{API}/public/payments/po_%00abc", {}, "order_id"),
        (f"{API}/public/capital-repair/1234%00", {}, "capital_repair_account"),
        (f"{API}/payments/po_%00", headers, "order_id"),
        (f"{API}/receipts/2026-1%00", headers, "period"),
    ]
    for url, extra, field in cases:
        body = assert_error(await portal.client.get(url, headers=extra), 422, "nul_character")
        assert body["field"] == field, (url, body)


async def test_nul_in_json_strings_is_422_naming_the_field(portal: Portal) -> None:
    number = capital_repair_number(UNREGISTERED_APARTMENT)
    body = {"capital_repair_account": number + "\x00", "amount_kopecks": 1000, "provider": "a3"}
    response = await portal.client.post(
        f"{API}/public/capital-repair/payments", json=body, headers={"Idempotency-Key": "nul-1"}
    )
    refused = assert_error(response, 422, "nul_character")
    assert refused["field"] == "capital_repair_account" and "NUL" in refused["message"]

    headers = await portal.login_as()
    change = {
        "new_email": "a@example.com",
        "new_email_repeat": "a@example.com",
        "captcha_id": "x\x00y",
        "captcha_answer": "12345",
        "current_password": DEMO_PASSWORD,
    }
    response = await portal.client.post(f"{API}/profile/email", json=change, headers=headers)
    assert assert_error(response, 422, "nul_character")["field"] == "captcha_id"
    # An escaped backslash followed by "u0000" is no NUL: it reaches the route as usual.
    raw = b'{"account_number": "%s", "password": "\\\\u0000"}' % account_number(HAPPY_PATH_APARTMENT).encode()
    response = await portal.client.post(
        f"{API}/auth/login", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 401 and "NUL" not in response.json()["message"], response.text


async def test_month_with_year_zero_is_422_not_500(portal: Portal) -> None:
    headers = await portal.login_as()
    for suffix in ("", "/payment-codes"):
        response = await portal.client.get(f"{API}/receipts/0000-01{suffix}", headers=headers)
        assert assert_error(response, 422, "invalid_period")["field"] == "period"
    response = await portal.client.post(f"{API}/receipts/0000-01/email", headers=headers)
    assert assert_error(response, 422, "invalid_period")["field"] == "period"


async def test_malformed_json_is_400_in_russian(portal: Portal) -> None:
    for raw in (b'{"account_number": ', b"\xff\xfe{}"):
        response = await portal.client.post(
            f"{API}/auth/login", content=raw, headers={"content-type": "application/json"}
        )
        assert_error(response, 400, "invalid_json")


async def test_unexpected_error_is_russian_json_500(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}",
        secret_key=TEST_SECRET,
        data_dir=tmp_path,
    )
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c,
    ):
        assert_error(await c.get("/boom"), 500, "internal_error")


# --- items 7 and 8: an exhausted pool and a database that is down -----------------------------------


async def _down_portal(url: str, tmp_path: Path) -> FastAPI:
    settings = Settings(
        database_url=url, secret_key=TEST_SECRET, data_dir=tmp_path, cache_enabled=False, demo=False
    )
    return create_app(settings, prepare_database=False)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+asyncpg://postgres@127.0.0.1:{CLOSED_PORT}/kabinet",  # nobody listens
        "sqlite+aiosqlite:///{tmp}",  # a folder, not a database file: cannot be opened
    ],
)
async def test_database_down_is_503_json_with_retry_after(url: str, tmp_path: Path) -> None:
    app = await _down_portal(url.format(tmp=tmp_path), tmp_path)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c,
    ):
        responses = [
            await c.post(f"{API}/auth/login", json={"account_number": "3500012007", "password": "x"}),
            await c.get(f"{API}/account", headers={"Authorization": "Bearer abc"}),
            await c.get(f"{API}/public/capital-repair/{capital_repair_number(UNREGISTERED_APARTMENT)}"),
            await c.get(f"{API}/health"),
        ]
    for response in responses:
        assert_error(response, 503, "database_unavailable")
        assert int(response.headers["retry-after"]) > 0


async def test_dropped_database_is_503(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL database that does not exist")
    app = await _down_portal(database_url.rsplit("/", 1)[0] + "/kabinet_no_such_db", tmp_path)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c,
    ):
        response = await c.post(f"{API}/auth/login", json={"account_number": "3500012007", "password": "x"})
    assert_error(response, 503, "database_unavailable")
    assert response.headers["retry-after"]


async def test_exhausted_pool_is_503_with_retry_after(database_url: str, make_portal: PortalFactory) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one connection and no pool to exhaust")
    portal = await make_portal(
        db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.3, cache_enabled=False
    )
    pool = portal.state.engine.pool
    assert isinstance(pool, QueuePool) and pool.size() == 1
    login_body = {"account_number": account_number(HAPPY_PATH_APARTMENT), "password": DEMO_PASSWORD}
    async with portal.state.engine.connect():  # the pool's only connection is busy
        response = await portal.client.post(f"{API}/auth/login", json=login_body)
        assert_error(response, 503, "database_unavailable")
        assert response.headers["retry-after"] == "5"
    # A burst against the pool of 1: every answer is a login or a 503, never a 500.
    statuses = [
        r.status_code
        for r in await asyncio.gather(
            *(portal.client.post(f"{API}/auth/login", json=login_body) for _ in range(8))
        )
    ]
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses


def test_too_many_connections_counts_as_unavailable() -> None:
    import asyncpg
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from portal.kit.errors import is_database_unavailable

    assert is_database_unavailable(asyncpg.TooManyConnectionsError("sorry, too many clients already"))
    assert is_database_unavailable(PoolTimeout("QueuePool limit of size 1 overflow 0 reached"))
    wrapped = DBAPIError("SELECT 1", {}, asyncpg.CannotConnectNowError("the database system is starting up"))
    assert is_database_unavailable(wrapped)
    assert not is_database_unavailable(RuntimeError("a bug"))
    assert not is_database_unavailable(FileNotFoundError("font.ttf"))


def test_default_pools_of_four_workers_fit_postgresql_defaults() -> None:
    """PostgreSQL's defaults: max_connections 100, 3 reserved for superusers."""
    from portal.cli import pool_problem

    defaults = Settings(database_url="postgresql+asyncpg://db/kabinet", secret_key=TEST_SECRET)
    assert pool_problem(defaults, 4, (100, 3)) is None  # 4 × (5 + 5 + 1) = 44
    assert pool_problem(defaults, 8, (100, 3)) is None  # 88 ≤ 100 − 3 − 5
    problem = pool_problem(defaults, 9, (100, 3))
    assert problem is not None and "KABINET_DB_POOL_SIZE" in problem and "99" in problem
    big = defaults.model_copy(update={"db_pool_size": 10, "db_max_overflow": 20})
    assert pool_problem(big, 4, (100, 3)) is not None  # the old 10 + 20 per worker


def test_serve_refuses_pools_larger_than_the_server(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process")
    from portal.cli import main

    monkeypatch.setenv("KABINET_DATABASE_URL", database_url)
    monkeypatch.setenv("KABINET_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("KABINET_DB_POOL_SIZE", "100000")  # more than any server allows
    monkeypatch.delenv("KABINET_DEMO", raising=False)
    assert main(["serve", "--workers", "4", "--port", str(free_port())]) == 2
    assert "max_connections" in capsys.readouterr().err


async def test_too_many_connections_at_the_server_is_503(
    database_url: str, make_portal: PortalFactory
) -> None:
    """PostgreSQL itself refuses the connection (here: a role limited to one) — 503, not 500."""
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's connection limit")
    import asyncpg

    from tests.conftest import _pg_admin

    role = f"kabinet_limited_{os.getpid()}"
    await asyncio.to_thread(
        asyncio.run,
        _pg_admin(
            database_url,
            f"DROP ROLE IF EXISTS {role}",
            f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1",
            f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ),
    )
    limited_url = database_url.replace("postgres@", f"{role}@", 1)
    try:
        portal = await make_portal(database_url=limited_url, cache_enabled=False, db_pool_size=2)
        await portal.state.engine.dispose()  # the pool gives back the connection of the migrations
        holder = await asyncpg.connect(limited_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            login_body = {"account_number": account_number(HAPPY_PATH_APARTMENT), "password": DEMO_PASSWORD}
            response = await portal.client.post(f"{API}/auth/login", json=login_body)
            assert_error(response, 503, "database_unavailable")
            assert response.headers["retry-after"]
        finally:
            await holder.close()
        await portal.state.engine.dispose()
    finally:
        await asyncio.to_thread(
            asyncio.run,
            _pg_admin(
                database_url,
                f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
                f"DROP ROLE IF EXISTS {role}",
            ),
        )


async def test_nul_in_a_body_without_content_type_is_422(portal: Portal) -> None:
    raw = b'{"account_number": "35000\\u000012007", "password": "x"}'
    response = await portal.client.post(f"{API}/auth/login", content=raw, headers={"content-type": ""})
    refused = assert_error(response, 422, "nul_character")
    assert refused["field"] == "account_number" and "NUL" in refused["message"]


async def test_the_api_document_names_the_edge_answers(portal: Portal) -> None:
    document = (await portal.client.get(f"{API}/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "503" in responses, (method, path)
            assert "Retry-After" in responses["503"].get("headers", {}), (method, path)
            if "requestBody" in operation:
                for status in ("400", "413"):
                    assert "application/json" in responses[status]["content"], (method, path, status)


async def test_connections_the_server_dropped_cost_only_the_requests_under_way(
    make_portal: PortalFactory,
) -> None:
    """Without a ping per checkout: one request may meet a dropped connection (503), the next are served."""
    portal = await make_portal(cache_enabled=False)
    if portal.settings.is_sqlite:
        pytest.skip("PostgreSQL's connections")
    import asyncpg

    from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number

    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    assert (await portal.client.get(f"{API}/account", headers=headers)).status_code == 200
    admin = await asyncpg.connect(
        portal.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:  # this test's own database: only its portal's pooled connections are dropped
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert dropped >= 1
    first = await portal.client.get(f"{API}/account", headers=headers)
    assert first.status_code in (200, 503), first.text
    if first.status_code == 503:
        assert first.headers["retry-after"]
    for _ in range(3):
        assert (await portal.client.get(f"{API}/account", headers=headers)).status_code == 200
