"""Detaching an account ends access through it on every worker of a real ``serve --workers 2``.

Two uvicorn workers on a PostgreSQL copy of the seeded demo, each with its own cache of sessions and
views. A session chooses an attached account and reads it over fresh connections (so both workers
cache it); another session of the login detaches the account; from then on no worker answers the
first session anything but 401.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bench.throttle_burst import serving
from portal.app import build_state
from portal.billing.service import last_receipt_period, receipt_total
from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, UNREGISTERED_APARTMENT, account_number
from portal.models import Account
from portal.settings import Settings
from tests.conftest import TEST_SECRET, pg_create_database, pg_database_name, pg_drop_database, pg_url
from tests.support.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

A = account_number(HAPPY_PATH_APARTMENT)
C = account_number(UNREGISTERED_APARTMENT)
#: Requests over fresh connections: the kernel spreads them over both workers.
SPREAD = 24


async def _receipt_total(url: str, number: str) -> int:
    state = build_state(Settings(database_url=url, demo=True, secret_key=TEST_SECRET))
    try:
        async with state.sessionmaker() as session:
            account_id = await session.scalar(select(Account.id).where(Account.number == number))
            assert account_id is not None
            period = await last_receipt_period(session, account_id)
            assert period is not None
            return await receipt_total(session, account_id, period)
    finally:
        await state.engine.dispose()


async def _statuses(base: str, headers: dict[str, str]) -> list[int]:
    """GET /account SPREAD times, each over a new connection; the account numbers or the statuses."""
    found: list[int] = []
    for _ in range(SPREAD):
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            found.append((await client.get("/account", headers=headers)).status_code)
    return found


async def _scenario(base: str, total: int) -> tuple[list[int], list[int], list[int]]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:

        async def login() -> dict[str, str]:
            response = await client.post("/auth/login", json={"account_number": A, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.text
            return {"Authorization": f"Bearer {response.json()['token']}"}

        detacher, on_c = await login(), await login()
        attached = await client.post(
            "/accounts/attach", json={"account_number": C, "receipt_total_kopecks": total}, headers=detacher
        )
        assert attached.status_code == 201, attached.text
        chosen = await client.post("/accounts/current", json={"account_number": C}, headers=on_c)
        assert chosen.status_code == 200, chosen.text
        summary = await client.get("/account", headers=on_c)
        assert summary.json()["account_number"] == C
        before = await _statuses(base, on_c)  # now cached by both workers
        detached = await client.delete(f"/accounts/{C}", headers=detacher)
        assert detached.status_code == 200, detached.text
        # The notification reaches the other worker with the commit; allow it a moment, no more.
        deadline = asyncio.get_running_loop().time() + 2.0
        first_after = await _statuses(base, on_c)
        while set(first_after) != {401} and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            first_after = await _statuses(base, on_c)
        after = await _statuses(base, on_c)
        return before, first_after, after


def test_detaching_ends_access_on_both_workers(pg_template: str, tmp_path: Path) -> None:
    assert pg_url() is not None
    name = pg_database_name("attached_workers")
    database = asyncio.run(pg_create_database(name, pg_template))
    try:
        total = asyncio.run(_receipt_total(database, C))
        with serving(database, 2, free_port(), tmp_path) as base:
            before, first_after, after = asyncio.run(_scenario(base, total))
    finally:
        asyncio.run(pg_drop_database(name))
    assert set(before) == {200}
    assert set(first_after) == {401}, first_after
    assert set(after) == {401}, after
