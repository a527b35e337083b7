"""Several accounts under one login: attach by the receipt's proof, list with amounts, choose, detach,
log in by any attached number, pay all, and registration of an attached account told to its owner.

A is the happy-path resident (registered); C an unregistered account A attaches; B a registered one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from portal.demo.accounts import (
    DEBTOR_APARTMENT,
    DEMO_PASSWORD,
    HAPPY_PATH_APARTMENT,
    UNREGISTERED_APARTMENT,
    UNREGISTERED_DEBTOR_APARTMENT,
    account_number,
    demo_email,
)
from portal.models import Account, UserAccount
from tests.conftest import Portal, PortalFactory
from tests.portal.test_cache import eventually
from tests.support.mail import plain_text
from tests.support.registration import expected_total, form

API = "/api/v1"
A = account_number(HAPPY_PATH_APARTMENT)
B = account_number(DEBTOR_APARTMENT)
C = account_number(UNREGISTERED_APARTMENT)
D = account_number(UNREGISTERED_DEBTOR_APARTMENT)


async def attach(
    portal: Portal, headers: dict[str, str], number: str, total: int | None = None
) -> httpx.Response:
    if total is None:
        total = await expected_total(portal, number)
    return await portal.client.post(
        f"{API}/accounts/attach",
        json={"account_number": number, "receipt_total_kopecks": total},
        headers=headers,
    )


async def choose(portal: Portal, headers: dict[str, str], number: str) -> httpx.Response:
    return await portal.client.post(
        f"{API}/accounts/current", json={"account_number": number}, headers=headers
    )


async def listed(portal: Portal, headers: dict[str, str]) -> dict[str, Any]:
    response = await portal.client.get(f"{API}/accounts", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_attach_with_the_right_proof_lists_both_with_their_amounts_due(portal: Portal) -> None:
    headers = await portal.login(A, DEMO_PASSWORD)
    alone = await listed(portal, headers)
    assert [(a["account_number"], a["own"], a["current"]) for a in alone["accounts"]] == [(A, True, True)]

    response = await attach(portal, headers, D)
    assert response.status_code == 201, response.text
    body = response.json()
    assert [(a["account_number"], a["own"], a["current"]) for a in body["accounts"]] == [
        (A, True, True),
        (D, False, False),
    ]
    assert body == await listed(portal, headers)
    # Each amount is the one the account's own summary shows; the debtor owes something.
    for row in body["accounts"]:
        assert (await choose(portal, headers, row["account_number"])).status_code == 200
        summary = (await portal.client.get(f"{API}/account", headers=headers)).json()
        assert summary["account_number"] == row["account_number"]
        assert row["amount_due_kopecks"] == summary["balance"]["amount_due_kopecks"]
        assert row["capital_repair_amount_due_kopecks"] == summary["capital_repair"]["amount_due_kopecks"]
        assert row["period"] == summary["balance"]["breakdown"]["period"]
        assert isinstance(row["amount_due_kopecks"], int)
    assert body["accounts"][1]["amount_due_kopecks"] > 0
    assert body["total_due_kopecks"] == sum(a["amount_due_kopecks"] for a in body["accounts"])
    # Attaching it again is answered as attached (nothing to prove, nothing counted).
    again = await attach(portal, headers, D, total=1)
    assert again.status_code == 201
    assert [a["account_number"] for a in again.json()["accounts"]] == [A, D]


async def test_a_wrong_total_an_unknown_account_and_another_logins_account_fail_alike(portal: Portal) -> None:
    headers = await portal.login(A, DEMO_PASSWORD)
    wrong_total = await attach(portal, headers, C, total=(await expected_total(portal, C)) + 1)
    unknown = await attach(portal, headers, "3599999999", total=100)
    registered_wrong = await attach(portal, headers, B, total=(await expected_total(portal, B)) + 1)
    registered_right = await attach(portal, headers, B)
    answers = [wrong_total, unknown, registered_wrong, registered_right]
    assert {(r.status_code, r.text) for r in answers} == {(wrong_total.status_code, wrong_total.text)}
    assert wrong_total.status_code == 409
    assert wrong_total.json()["code"] == "attach_data_mismatch"
    assert [a["account_number"] for a in (await listed(portal, headers))["accounts"]] == [A]
    # Only the attempt with B's right total is told to B's owner.
    letters = portal.letters()
    assert [letter["To"] for letter in letters] == [demo_email(DEBTOR_APARTMENT)]
    assert B in plain_text(letters[0])


async def test_attaching_is_throttled_like_registration(portal: Portal) -> None:
    headers = await portal.login(A, DEMO_PASSWORD)
    right = await expected_total(portal, C)
    statuses = [(await attach(portal, headers, C, total=right + 1 + i)).status_code for i in range(8)]
    assert statuses[:5] == [409] * 5
    assert 429 in statuses
    refused = await attach(portal, headers, C)  # even the right total waits for the cool-down
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    # Registration step 2 shares the budget: the same client's guesses there are refused too.
    registration = await portal.client.post(f"{API}/registration", json=form(C, right))
    assert registration.status_code == 429


async def test_choosing_an_account_switches_every_endpoint_and_refuses_others(portal: Portal) -> None:
    headers = await portal.login(A, DEMO_PASSWORD)
    assert (await attach(portal, headers, C)).status_code == 201
    chosen = await choose(portal, headers, C)
    assert chosen.status_code == 200
    assert [(a["account_number"], a["current"]) for a in chosen.json()["accounts"]] == [(A, False), (C, True)]
    assert (await portal.client.get(f"{API}/account", headers=headers)).json()["account_number"] == C
    assert (await portal.client.get(f"{API}/meters", headers=headers)).json()["account_number"] == C
    assert (await portal.client.get(f"{API}/auth/session", headers=headers)).json()["account_number"] == C
    # Another login's account (and an unknown one) cannot be chosen; the session stays on C.
    for number in (B, "3599999999"):
        refused = await choose(portal, headers, number)
        assert refused.status_code == 404 and refused.json()["code"] == "account_not_attached"
    assert (await portal.client.get(f"{API}/account", headers=headers)).json()["account_number"] == C
    # Each session chooses for itself: a new login by A's number works on A.
    other = await portal.login(A, DEMO_PASSWORD)
    assert (await portal.client.get(f"{API}/account", headers=other)).json()["account_number"] == A


async def test_detaching_ends_access_at_once(portal: Portal) -> None:
    detacher = await portal.login(A, DEMO_PASSWORD)
    assert (await attach(portal, detacher, C)).status_code == 201
    elsewhere = await portal.login(A, DEMO_PASSWORD)
    assert (await choose(portal, elsewhere, C)).status_code == 200
    assert (await portal.client.get(f"{API}/account", headers=elsewhere)).status_code == 200  # cached now
    assert (await choose(portal, detacher, C)).status_code == 200

    own = await portal.client.delete(f"{API}/accounts/{A}", headers=detacher)
    assert own.status_code == 409 and own.json()["code"] == "own_account_not_detachable"
    foreign = await portal.client.delete(f"{API}/accounts/{B}", headers=detacher)
    assert foreign.status_code == 404 and foreign.json()["code"] == "account_not_attached"

    response = await portal.client.delete(f"{API}/accounts/{C}", headers=detacher)
    assert response.status_code == 200, response.text
    assert [(a["account_number"], a["current"]) for a in response.json()["accounts"]] == [(A, True)]
    # This session moved to the login's own account; the other session on C ended.
    assert (await portal.client.get(f"{API}/account", headers=detacher)).json()["account_number"] == A
    assert (await portal.client.get(f"{API}/account", headers=elsewhere)).status_code == 401
    assert (await choose(portal, detacher, C)).status_code == 404
    # Detached, the account can be attached again by its proof (here or by another login).
    assert (await attach(portal, detacher, C)).status_code == 201


async def test_detaching_in_one_worker_ends_access_in_another(make_portal: PortalFactory) -> None:
    first, second = await make_portal(), await make_portal()  # two processes on one database
    if first.settings.is_sqlite:
        pytest.skip("several workers on one database need PostgreSQL")
    headers = await first.login(A, DEMO_PASSWORD)
    assert (await attach(first, headers, C)).status_code == 201
    on_c = await second.login(A, DEMO_PASSWORD)
    assert (await choose(second, on_c, C)).status_code == 200
    assert (await second.client.get(f"{API}/account", headers=on_c)).json()["account_number"] == C  # cached
    assert (await first.client.delete(f"{API}/accounts/{C}", headers=headers)).status_code == 200

    async def refused() -> bool:
        return (await second.client.get(f"{API}/account", headers=on_c)).status_code == 401

    assert await eventually(refused)


async def test_login_by_any_attached_number_with_the_logins_password(portal: Portal) -> None:
    before = await portal.client.post(
        f"{API}/auth/login", json={"account_number": C, "password": DEMO_PASSWORD}
    )
    assert before.status_code == 401
    headers = await portal.login(A, DEMO_PASSWORD)
    assert (await attach(portal, headers, C)).status_code == 201
    by_c = await portal.login(C, DEMO_PASSWORD)
    assert (await portal.client.get(f"{API}/account", headers=by_c)).json()["account_number"] == C
    assert [(a["account_number"], a["current"]) for a in (await listed(portal, by_c))["accounts"]] == [
        (A, False),
        (C, True),
    ]
    wrong = await portal.client.post(f"{API}/auth/login", json={"account_number": C, "password": "не тот"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "login_failed"


async def test_a_new_password_ends_the_sessions_on_attached_accounts(portal: Portal) -> None:
    headers = await portal.login(A, DEMO_PASSWORD)
    assert (await attach(portal, headers, C)).status_code == 201
    by_c = await portal.login(C, DEMO_PASSWORD)
    assert (await portal.client.get(f"{API}/account", headers=by_c)).status_code == 200  # cached now
    # Recovery by the attached account's number reaches the login's e-mail.
    email = demo_email(HAPPY_PATH_APARTMENT)
    await portal.client.post(f"{API}/auth/recovery", json={"account_number": C, "email": email})
    letter = portal.letters()[-1]
    assert letter["To"] == email
    found = re.search(r"^Код восстановления: (\d{3} \d{3})$", plain_text(letter), re.M)
    assert found is not None
    new_password = "Совсем-новый-пароль-1"
    confirmed = await portal.client.post(
        f"{API}/auth/recovery/confirm",
        json={
            "account_number": C,
            "code": found.group(1),
            "new_password": new_password,
            "new_password_repeat": new_password,
        },
    )
    assert confirmed.status_code == 204, confirmed.text
    for session in (headers, by_c):
        assert (await portal.client.get(f"{API}/account", headers=session)).status_code == 401
    assert (
        await portal.client.get(f"{API}/accounts", headers=await portal.login(A, new_password))
    ).status_code == 200


async def test_registering_an_attached_account_tells_its_owner(portal: Portal) -> None:
    headers = await portal.login(A, DEMO_PASSWORD)
    assert (await attach(portal, headers, C)).status_code == 201
    response = await portal.client.post(f"{API}/registration", json=form(C, await expected_total(portal, C)))
    assert response.status_code == 409 and response.json()["code"] == "registration_data_mismatch"
    letters = portal.letters()
    assert [letter["To"] for letter in letters] == [demo_email(HAPPY_PATH_APARTMENT)]
    assert C in plain_text(letters[0])


async def test_pay_all_makes_one_order_per_account_and_replays_them(portal: Portal) -> None:
    headers = await portal.login(A, DEMO_PASSWORD)
    assert (await attach(portal, headers, D)).status_code == 201
    accounts = (await listed(portal, headers))["accounts"]
    due = {a["account_number"]: a["amount_due_kopecks"] for a in accounts if a["amount_due_kopecks"] > 0}
    assert D in due
    key = {"Idempotency-Key": "pay-all-0001"}
    body = {"purpose": "utilities", "provider": "a3"}
    first = await portal.client.post(f"{API}/accounts/payments", json=body, headers={**headers, **key})
    assert first.status_code == 201, first.text
    made = first.json()["payments"]
    assert {p["account_number"]: p["order"]["amount_kopecks"] for p in made} == due
    assert not any(p["replayed"] for p in made)
    assert first.json()["total_kopecks"] == sum(due.values())
    # Each order is the account's own: the session on A reads only A's order.
    for payment in made:
        own = await portal.client.get(f"{API}/payments/{payment['order']['id']}", headers=headers)
        assert own.status_code == (200 if payment["account_number"] == A else 404)
    again = await portal.client.post(f"{API}/accounts/payments", json=body, headers={**headers, **key})
    assert again.status_code == 201
    assert [p["order"]["id"] for p in again.json()["payments"]] == [p["order"]["id"] for p in made]
    assert all(p["replayed"] for p in again.json()["payments"])


async def test_a_pay_all_order_of_any_account_of_the_login_is_read_with_its_status(portal: Portal) -> None:
    """The session works on A, yet reads how D's order is going; another login reads none of them, and a
    detached account's order is no longer the login's."""
    headers = await portal.login(A, DEMO_PASSWORD)
    assert (await attach(portal, headers, D)).status_code == 201
    body = {"purpose": "utilities", "provider": "a3"}
    key = {"Idempotency-Key": "pay-all-status"}
    made = await portal.client.post(f"{API}/accounts/payments", json=body, headers={**headers, **key})
    orders = {p["account_number"]: p["order"] for p in made.json()["payments"]}
    assert D in orders

    def read(order: dict[str, Any], as_: dict[str, str]) -> Any:
        return portal.client.get(f"{API}/accounts/payments/{order['id']}", headers=as_)

    for order in orders.values():
        answer = await read(order, headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == order["id"] and answer.json()["status"] == "initiated"
    # Paid on the service's page, D's order is a success at the next question (A3 is asked again once
    # its 5 seconds have passed).
    assert (await portal.client.post(f"{orders[D]['payment_url']}/pay")).status_code == 200
    portal.state.clock.advance(dt.timedelta(seconds=6))
    paid = (await read(orders[D], headers)).json()
    assert paid["status"] == "success" and paid["credited"] is True
    stranger = await portal.login(B, DEMO_PASSWORD)
    for order in orders.values():
        refused = await read(order, stranger)
        assert refused.status_code == 404 and refused.json()["code"] == "payment_not_found"
    response = await portal.client.delete(f"{API}/accounts/{D}", headers=headers)
    assert response.status_code == 200
    assert (await read(orders[D], headers)).status_code == 404
    if A in orders:
        assert (await read(orders[A], headers)).status_code == 200


async def test_choosing_in_one_worker_is_seen_by_another(make_portal: PortalFactory) -> None:
    first, second = await make_portal(), await make_portal()
    if first.settings.is_sqlite:
        pytest.skip("several workers on one database need PostgreSQL")
    headers = await first.login(A, DEMO_PASSWORD)
    assert (await attach(first, headers, C)).status_code == 201
    assert (await second.client.get(f"{API}/account", headers=headers)).json()[
        "account_number"
    ] == A  # cached
    assert (await choose(first, headers, C)).status_code == 200

    async def switched() -> bool:
        body = (await second.client.get(f"{API}/account", headers=headers)).json()
        return bool(body["account_number"] == C)

    assert await eventually(switched)


async def test_two_logins_attaching_one_account_at_once_one_wins(make_portal: PortalFactory) -> None:
    first, second = await make_portal(), await make_portal()  # on PostgreSQL: two processes, one database
    a_headers = await first.login(A, DEMO_PASSWORD)
    b_headers = await second.login(B, DEMO_PASSWORD)
    total = await expected_total(first, C)
    registration = second.client.post(f"{API}/registration", json=form(C, total))
    answers = await asyncio.gather(
        attach(first, a_headers, C, total), attach(second, b_headers, C, total), registration
    )
    statuses = sorted(response.status_code for response in answers)
    assert statuses.count(409) == 2 and (201 in statuses or 202 in statuses), statuses
    async with first.state.sessionmaker() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(UserAccount)
            .join(Account, Account.id == UserAccount.account_id)
            .where(Account.number == C)
        )
    assert rows == 1
