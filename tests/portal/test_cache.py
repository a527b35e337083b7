"""The caches of sessions and views stay coherent: within a process and across workers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number
from portal.kit.cache import ResidentCache
from tests.conftest import Portal, PortalFactory
from tests.support.mail import plain_text

HAPPY = account_number(HAPPY_PATH_APARTMENT)
HISTORY = "/api/v1/history/readings?date_from=2026-01-01&date_to=2026-12-31"


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> bool:
    """Other workers learn of a change through PostgreSQL's notifications: allow them a moment (long
    enough for a machine busy with the parallel suite; it returns as soon as ``check`` holds)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if await check():
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)


async def _submit_next_reading(portal: Portal, headers: dict[str, str]) -> tuple[int, str]:
    meters = (await portal.client.get("/api/v1/meters", headers=headers)).json()["meters"]
    meter = next(m for m in meters if m["accepts_readings"] and m["previous_reading"])
    value = str(Decimal(meter["previous_reading"]["value"]) + 1)
    response = await portal.client.post(
        "/api/v1/readings",
        headers=headers,
        json={"readings": [{"meter_id": meter["meter_id"], "value": value}]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "accepted"
    return meter["meter_id"], response.json()["results"][0]["reading"]["value"]


def _has_reading(body: dict[str, Any], meter_id: int, value: str) -> bool:
    return any(row["meter_id"] == meter_id and row["value"] == value for row in body["readings"])


async def test_a_new_reading_shows_in_the_cached_history_at_once(portal: Portal) -> None:
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    before = await portal.client.get(HISTORY, headers=headers)
    assert before.status_code == 200
    assert (await portal.client.get(HISTORY, headers=headers)).json() == before.json()  # served again
    meter_id, value = await _submit_next_reading(portal, headers)
    after = (await portal.client.get(HISTORY, headers=headers)).json()
    assert _has_reading(after, meter_id, value)
    assert not _has_reading(before.json(), meter_id, value)


def _needs_postgres(portal: Portal) -> None:
    # SQLite serves one process (serve refuses --workers with it): there is no other worker to tell.
    if portal.settings.is_sqlite:
        pytest.skip("several workers on one database need PostgreSQL")


async def test_another_worker_sees_a_new_reading(make_portal: PortalFactory) -> None:
    reader, writer = await make_portal(), await make_portal()  # two processes on one database
    _needs_postgres(reader)
    reader_headers = await reader.login(HAPPY, DEMO_PASSWORD)
    writer_headers = await writer.login(HAPPY, DEMO_PASSWORD)
    assert (await reader.client.get(HISTORY, headers=reader_headers)).status_code == 200  # now cached
    meter_id, value = await _submit_next_reading(writer, writer_headers)

    async def seen() -> bool:
        body = (await reader.client.get(HISTORY, headers=reader_headers)).json()
        return _has_reading(body, meter_id, value)

    assert await eventually(seen)


async def test_logout_in_one_worker_ends_the_session_in_another(make_portal: PortalFactory) -> None:
    first, second = await make_portal(), await make_portal()
    _needs_postgres(first)
    headers = await first.login(HAPPY, DEMO_PASSWORD)
    assert (await second.client.get("/api/v1/account", headers=headers)).status_code == 200  # cached there
    assert (await first.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204

    async def refused() -> bool:
        return (await second.client.get("/api/v1/account", headers=headers)).status_code == 401

    assert await eventually(refused)


async def test_logout_ends_a_cached_session_in_the_same_worker(portal: Portal) -> None:
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    assert (await portal.client.get("/api/v1/account", headers=headers)).status_code == 200
    assert (await portal.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await portal.client.get("/api/v1/account", headers=headers)).status_code == 401


async def test_password_recovery_ends_cached_sessions(portal: Portal) -> None:
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    assert (await portal.client.get("/api/v1/account", headers=headers)).status_code == 200
    email = f"kv{HAPPY_PATH_APARTMENT}@demo.kabinet.local"
    await portal.client.post("/api/v1/auth/recovery", json={"account_number": HAPPY, "email": email})
    letter = plain_text(portal.letters()[-1])
    found = re.search(r"^Код восстановления: (\d{3} \d{3})$", letter, re.MULTILINE)
    assert found is not None, letter
    token = found.group(1)
    response = await portal.client.post(
        "/api/v1/auth/recovery/confirm",
        json={
            "account_number": HAPPY,
            "code": token,
            "new_password": "Совсем-новый-пароль-1",
            "new_password_repeat": "Совсем-новый-пароль-1",
        },
    )
    assert response.status_code == 204, response.text
    assert (await portal.client.get("/api/v1/account", headers=headers)).status_code == 401


async def test_the_cache_can_be_switched_off(make_portal: PortalFactory) -> None:
    portal = await make_portal(cache_enabled=False)
    assert portal.state.cache.enabled is False
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    assert (await portal.client.get("/api/v1/account", headers=headers)).status_code == 200
    assert portal.state.cache.view(1, "summary") is None


def test_a_view_computed_during_a_change_is_not_kept() -> None:
    cache = ResidentCache(enabled=True)
    epoch = cache.epoch(7)
    cache.apply("account:7")  # the change lands while the view is being computed
    cache.remember_view(7, "summary", epoch, b"{}")
    assert cache.view(7, "summary") is None
    cache.remember_view(7, "summary", cache.epoch(7), b"{}")
    assert cache.view(7, "summary") == b"{}"
    cache.clear()
    assert cache.view(7, "summary") is None


def _fill(cache: ResidentCache, residents: int, body_bytes: int = 20_000) -> None:
    import datetime as dt

    from portal.auth.service import Principal
    from portal.kit.cache import CachedSession
    from portal.models import TokenKind

    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for account_id in range(residents):
        token_hmac = f"{account_id:064x}"
        principal = Principal(
            account_id, f"{account_id:010d}", account_id, account_id, TokenKind.SESSION, now
        )
        cache.remember_session(token_hmac, CachedSession(principal, now))
        for path in ("/api/v1/account", HISTORY):
            body = (str(account_id) * body_bytes)[:body_bytes].encode()  # a distinct object per view
            cache.remember_view(account_id, (path, dt.date(2026, 3, 1)), cache.epoch(account_id), body)


def test_the_cache_stays_within_its_bound_of_memory_under_many_residents() -> None:
    import gc
    import tracemalloc

    bound = 4 * 1024 * 1024
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = ResidentCache(enabled=True, max_bytes=bound)
        _fill(cache, residents=2_000)  # 2 000 residents × ~40 KB of views: ten times the bound
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.bytes <= bound
    assert held <= bound * 1.1, f"{held} bytes held for a bound of {bound}: the counted overheads are too low"
    assert held >= bound * 0.8  # and the bound is used, not wasted
    assert 150 <= len(cache) <= 400  # the most recent residents' views and sessions, not all of them


def test_the_least_recently_used_go_first_sessions_and_views_alike() -> None:
    import datetime as dt

    cache = ResidentCache(enabled=True, max_bytes=1024 * 1024)
    _fill(cache, residents=10)
    day = dt.date(2026, 3, 1)
    assert cache.view(0, ("/api/v1/account", day)) is not None  # resident 0 is now the most recent
    for account_id in range(10, 60):
        body = b"x" * 20_000
        cache.remember_view(account_id, ("/api/v1/account", day), cache.epoch(account_id), body)
    assert cache.view(0, ("/api/v1/account", day)) is not None
    assert cache.view(1, ("/api/v1/account", day)) is None  # used longest ago: evicted
    assert cache.session(f"{1:064x}") is None
    assert cache.bytes <= 1024 * 1024


def test_invalidations_still_hold_in_a_full_cache() -> None:
    import datetime as dt

    cache = ResidentCache(enabled=True, max_bytes=1024 * 1024)
    _fill(cache, residents=100)
    day = dt.date(2026, 3, 1)
    assert cache.view(99, ("/api/v1/account", day)) is not None
    assert cache.session(f"{99:064x}") is not None
    cache.apply("account:99")
    assert cache.view(99, ("/api/v1/account", day)) is None
    cache.apply("sessions:99")
    assert cache.session(f"{99:064x}") is None
    assert cache.session(f"{98:064x}") is not None
    cache.apply("session-id:98")
    assert cache.session(f"{98:064x}") is None
    # An invalidation for every account of a large region: epochs are bounded too, and a view
    # computed before any of them is still refused.
    epoch = cache.epoch(5)
    for account_id in range(100_000):
        cache.apply(f"account:{account_id}")
    cache.remember_view(5, ("/api/v1/account", day), epoch, b"{}")
    assert cache.view(5, ("/api/v1/account", day)) is None
    assert len(cache._epochs) * 120 <= cache.max_bytes // 4
    cache.remember_view(5, ("/api/v1/account", day), cache.epoch(5), b"{}")
    assert cache.view(5, ("/api/v1/account", day)) == b"{}"


async def test_the_bound_is_a_setting(make_portal: PortalFactory) -> None:
    portal = await make_portal(cache_max_bytes=2 * 1024 * 1024)
    assert portal.state.cache.max_bytes == 2 * 1024 * 1024


async def test_the_first_page_after_login_does_not_read_the_session_back(portal: Portal) -> None:
    from tests.support.statements import counted_statements

    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    with counted_statements(portal) as statements:
        assert (await portal.client.get("/api/v1/account", headers=headers)).status_code == 200
    assert statements and not any("FROM sessions" in statement for statement in statements), statements
    assert (await portal.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await portal.client.get("/api/v1/account", headers=headers)).status_code == 401
