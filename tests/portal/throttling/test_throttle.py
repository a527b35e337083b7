"""Throttles under concurrency and against lockout by others (issue 9, items 2–4).

Bursts are fired with ``asyncio.gather`` on both backends: the attempts are reserved in the database
before anything is checked, so no more than the free attempts are checked however they interleave.
Another client's guesses never block the resident's right answer from their own address.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from portal.demo.accounts import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    HAPPY_PATH_APARTMENT,
    UNREGISTERED_APARTMENT,
    account_number,
    capital_repair_number,
    demo_email,
)
from portal.models import Account, User
from tests.conftest import BASE_URL, Portal, PortalFactory
from tests.support.readings import previous_values, ru
from tests.support.registration import expected_total, form

API = "/api/v1"
LOGIN = f"{API}/auth/login"
REGISTER = f"{API}/registration"
REG_LOOKUP = f"{API}/registration/lookup"
READINGS_LOOKUP = f"{API}/public/readings/lookup"
CHECK = f"{API}/public/readings/check"
RECOVERY = f"{API}/auth/recovery"
CONFIRM = f"{API}/auth/recovery/confirm"
HAPPY = account_number(HAPPY_PATH_APARTMENT)
UNREGISTERED = account_number(UNREGISTERED_APARTMENT)
RESIDENT = next(demo for demo in DEMO_ACCOUNTS if demo.password == DEMO_PASSWORD)
BURST = 48


@contextlib.asynccontextmanager
async def client_at(portal: Portal, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same portal app from another address."""
    transport = httpx.ASGITransport(app=portal.app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


def checked(responses: list[httpx.Response]) -> int:
    """How many attempts got past the throttle (anything but 429)."""
    assert all(r.status_code < 500 for r in responses), [r.text for r in responses if r.status_code >= 500]
    return sum(1 for r in responses if r.status_code != 429)


async def burst(client: httpx.AsyncClient, url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.post(url, json=body) for body in bodies)))


def wrong_readings(values: dict[int, Decimal], i: int) -> dict[str, Any]:
    return {
        "account_number": UNREGISTERED,
        "previous_readings": [
            {"meter_id": meter_id, "value": ru(value + i + 1)} for meter_id, value in values.items()
        ],
    }


def confirm_body(code: str) -> dict[str, str]:
    password = "Frost-Birch-Lantern-42"
    return {
        "account_number": RESIDENT.account_number,
        "code": code,
        "new_password": password,
        "new_password_repeat": password,
    }


# --- item 2: concurrent bursts check no more than the free attempts ----------------------------------


async def test_a_burst_of_wrong_passwords_checks_only_the_free_attempts(portal: Portal) -> None:
    free = portal.settings.throttle_free_failures
    bodies = [{"account_number": HAPPY, "password": f"wrong-{i}"} for i in range(BURST)]
    responses = await burst(portal.client, LOGIN, bodies)
    assert checked(responses) == free
    assert {r.status_code for r in responses} == {401, 429}
    assert all(int(r.headers["Retry-After"]) > 0 for r in responses if r.status_code == 429)


async def test_a_burst_of_registrations_checks_only_the_free_attempts(portal: Portal) -> None:
    free = portal.settings.throttle_free_failures
    right = await expected_total(portal, UNREGISTERED)
    totals = [right + 1 + i for i in range(BURST - 1)] + [right]
    bodies = [form(UNREGISTERED, total, email="attacker@example.ru") for total in totals]
    responses = await burst(portal.client, REGISTER, bodies)
    assert checked(responses) <= free


async def test_a_burst_of_readings_checks_checks_only_the_free_attempts(portal: Portal) -> None:
    free = portal.settings.throttle_free_failures
    values = await previous_values(portal, UNREGISTERED_APARTMENT)
    responses = await burst(portal.client, CHECK, [wrong_readings(values, i) for i in range(BURST)])
    assert checked(responses) == free
    assert {r.status_code for r in responses} == {409, 429}


async def test_a_burst_of_recovery_codes_checks_only_the_free_attempts(portal: Portal) -> None:
    free = portal.settings.throttle_free_failures
    responses = await burst(portal.client, CONFIRM, [confirm_body(f"guess-{i}") for i in range(BURST)])
    assert checked(responses) == free


async def test_a_burst_of_recovery_requests_sends_only_the_free_letters(portal: Portal) -> None:
    free = portal.settings.throttle_free_failures
    body = {"account_number": RESIDENT.account_number, "email": demo_email(RESIDENT.apartment)}
    responses = await burst(portal.client, RECOVERY, [body] * BURST)
    assert checked(responses) == free
    await asyncio.sleep(0)
    assert len(portal.letters()) == free


async def test_guessing_across_accounts_from_one_address_is_limited(portal: Portal) -> None:
    per_client = portal.settings.throttle_client_free_failures
    numbers = [account_number(apartment) for apartment in range(1, 60)]
    bodies = [{"account_number": number, "password": "wrong-password"} for number in numbers]
    responses = await burst(portal.client, LOGIN, bodies)
    assert checked(responses) == per_client


async def test_only_one_of_concurrent_right_registrations_wins(portal: Portal) -> None:
    """The step-2 check and the write are one step: the account is registered once, to one e-mail."""
    right = await expected_total(portal, UNREGISTERED)
    emails = [f"claimant{i}@example.ru" for i in range(6)]

    async def claim(i: int) -> httpx.Response:
        async with client_at(portal, f"203.0.113.{10 + i}") as client:
            return await client.post(REGISTER, json=form(UNREGISTERED, right, email=emails[i]))

    responses = list(await asyncio.gather(*(claim(i) for i in range(len(emails)))))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] + [409] * (len(emails) - 1), [r.text for r in responses]
    refusals = {(r.json()["code"], r.json()["message"]) for r in responses if r.status_code == 409}
    assert len(refusals) == 1  # the losers fail uniformly
    winner = emails[[r.status_code for r in responses].index(202)]
    async with portal.state.sessionmaker() as session:
        stored = (
            await session.scalars(select(User.email).join(Account).where(Account.number == UNREGISTERED))
        ).all()
    assert stored == [winner]
    await asyncio.sleep(0)
    passwords = [letter for letter in portal.letters() if "Пароль:" in letter.get_content()]
    assert [letter["To"] for letter in passwords] == [winner]


# --- item 3: someone else's guesses do not lock the resident out -------------------------------------


async def test_the_right_password_from_another_address_gets_in_while_the_account_is_hammered(
    portal: Portal,
) -> None:
    bodies = [{"account_number": HAPPY, "password": f"wrong-{i}"} for i in range(BURST)]
    responses = await burst(portal.client, LOGIN, bodies)
    assert checked(responses) == portal.settings.throttle_free_failures
    # The attacker is blocked, even with the right password …
    blocked = await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    assert blocked.status_code == 429
    # … the resident from their own address is not.
    async with client_at(portal, "203.0.113.50") as resident:
        allowed = await resident.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    assert allowed.status_code == 200, allowed.text
    # A blocked request does not prolong the attacker's cool-down ("renewable with one request").
    retry_after = int(blocked.headers["Retry-After"])
    portal.clock.advance(dt.timedelta(seconds=retry_after - 1))
    assert (
        await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "x" * 9})
    ).status_code == 429
    portal.clock.advance(dt.timedelta(seconds=2))
    assert (
        await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "x" * 9})
    ).status_code == 401


async def test_a_resident_asks_for_a_recovery_code_while_others_hammer_the_account(portal: Portal) -> None:
    body = {"account_number": RESIDENT.account_number, "email": "attacker@example.ru"}
    await burst(portal.client, RECOVERY, [body] * BURST)
    async with client_at(portal, "203.0.113.51") as resident:
        own = {"account_number": RESIDENT.account_number, "email": demo_email(RESIDENT.apartment)}
        response = await resident.post(RECOVERY, json=own)
    assert response.status_code == 202
    await asyncio.sleep(0)
    assert [letter["To"] for letter in portal.letters()] == [demo_email(RESIDENT.apartment)]


async def test_many_addresses_are_bounded_by_the_account_ceiling_without_locking_the_resident_out(
    make_portal: PortalFactory,
) -> None:
    ceiling, free = 12, 3
    portal = await make_portal(throttle_account_ceiling=ceiling, throttle_free_failures=free)
    attempts = 0
    for host in range(10):  # ten addresses, three wrong passwords each: the ceiling is crossed
        async with client_at(portal, f"192.0.2.{host}") as attacker:
            for i in range(free + 2):
                response = await attacker.post(LOGIN, json={"account_number": HAPPY, "password": f"w{i}"})
                attempts += response.status_code != 429
    # Four addresses use their free attempts up to the ceiling, then each of the other six gets one.
    assert attempts == ceiling + (10 - ceiling // free)
    # An address that already failed gets nothing more, not even after its cool-down …
    portal.clock.advance(dt.timedelta(seconds=portal.settings.throttle_max_cooldown_seconds + 1))
    async with client_at(portal, "192.0.2.9") as attacker:
        response = await attacker.post(LOGIN, json={"account_number": HAPPY, "password": "w-late"})
        assert response.status_code == 429
    # … while a fresh address (the resident's) still gets its attempt in.
    async with client_at(portal, "203.0.113.52") as resident:
        allowed = await resident.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    assert allowed.status_code == 200
    # A quiet day ends the guarded state.
    portal.clock.advance(dt.timedelta(hours=24, seconds=1))
    async with client_at(portal, "192.0.2.9") as attacker:
        for i in range(free):
            response = await attacker.post(LOGIN, json={"account_number": HAPPY, "password": f"d{i}"})
            assert response.status_code == 401


async def test_a_right_answer_gives_the_attempt_back(portal: Portal) -> None:
    free = portal.settings.throttle_free_failures
    for i in range(free - 1):
        await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": f"wrong-{i}"})
    assert (
        await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    ).status_code == 200
    for i in range(free):  # the earlier failures of this address on the account are forgiven
        response = await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": f"again-{i}"})
        assert response.status_code == 401


# --- item 4 and the public limits: per client, in the database ----------------------------------------


async def test_registration_lookups_are_limited_per_client(make_portal: PortalFactory) -> None:
    portal = await make_portal(public_lookups_per_window=7)
    bodies = [{"account_number": str(1_000_000 + i)} for i in range(BURST)]
    responses = await burst(portal.client, REG_LOOKUP, bodies)
    assert checked(responses) == 7
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["code"] == "too_many_attempts" and 1 <= int(refused.headers["Retry-After"]) <= 600
    async with client_at(portal, "203.0.113.60") as other:
        assert (await other.post(REG_LOOKUP, json={"account_number": UNREGISTERED})).status_code == 200
    portal.clock.advance(dt.timedelta(seconds=portal.settings.public_payment_window_seconds + 1))
    assert (await portal.client.post(REG_LOOKUP, json={"account_number": UNREGISTERED})).status_code == 200


async def test_readings_lookups_are_limited_per_client(make_portal: PortalFactory) -> None:
    portal = await make_portal(public_lookups_per_window=7)
    bodies = [{"account_number": str(1_000_000 + i)} for i in range(BURST)]
    responses = await burst(portal.client, READINGS_LOOKUP, bodies)
    assert checked(responses) == 7
    async with client_at(portal, "203.0.113.61") as other:
        assert (await other.post(READINGS_LOOKUP, json={"account_number": UNREGISTERED})).status_code == 200


async def test_public_limits_are_shared_by_every_worker(
    make_portal: PortalFactory, database_url: str
) -> None:
    """Two portal apps on one database (two workers) grant the window once between them."""
    if database_url.startswith("sqlite"):
        import pytest

        pytest.skip("SQLite serves one process only")
    first = await make_portal(public_lookups_per_window=10)
    second = await make_portal(public_lookups_per_window=10)
    url = f"{API}/public/capital-repair/"
    responses = await asyncio.gather(
        *((first if i % 2 else second).client.get(f"{url}{9_000_000 + i}") for i in range(40))
    )
    assert checked(list(responses)) == 10
    assert (await first.client.get(url + capital_repair_number(UNREGISTERED_APARTMENT))).status_code == 429
    logins = await asyncio.gather(
        *(
            (first if i % 2 else second).client.post(
                LOGIN, json={"account_number": HAPPY, "password": f"wrong-{i}"}
            )
            for i in range(BURST)
        )
    )
    assert checked(list(logins)) == first.settings.throttle_free_failures


async def test_counters_quiet_for_a_day_are_purged(portal: Portal) -> None:
    from sqlalchemy import func

    from portal.models import FailureCounter
    from portal.throttling.repository import FailureCounterRepository

    await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "wrong-old"})
    portal.clock.advance(dt.timedelta(hours=25))
    await portal.client.post(LOGIN, json={"account_number": UNREGISTERED, "password": "wrong-new"})
    now = portal.clock.now()
    async with portal.state.sessionmaker() as session:
        await FailureCounterRepository(session).purge(now - dt.timedelta(hours=24), now)
        await session.commit()
        subjects = set((await session.scalars(select(FailureCounter.subject))).all())
        assert await session.scalar(select(func.count()).select_from(FailureCounter)) == len(subjects)
    assert not any(HAPPY in subject for subject in subjects)
    assert any(UNREGISTERED in subject for subject in subjects)
    assert "client:198.51.100.7" in subjects  # touched again by the new attempt
