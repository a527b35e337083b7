"""Card payments through A3 and PayMO (their sandbox twins): created once per key, credited once,
only on the payment service's word, and shown in the history and the balance."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.demo.accounts import (
    DEBTOR_APARTMENT,
    HAPPY_PATH_APARTMENT,
    UNREGISTERED_APARTMENT,
    account_number,
    capital_repair_number,
)
from portal.kit.errors import ApiError
from portal.kit.state import PortalState
from portal.models import Account, Payment, PaymentOrder, SandboxPayment
from portal.payments import service
from portal.payments.providers import ProviderPayment
from portal.payments.providers.paymo import SIGNATURE_HEADER, notification_signature
from tests.conftest import TEST_NOW, Portal, PortalFactory
from tests.support.http import json_object
from tests.support.payments import (
    API,
    create,
    created,
    notification,
    order_status,
    press,
    signed,
)

NOTIFY = f"{API}/payments/paymo/notify"
TODAY = "2026-11-20"


async def payments_of(
    portal: Portal, apartment: int = HAPPY_PATH_APARTMENT, channel: str | None = None
) -> list[Payment]:
    async with portal.state.sessionmaker() as session:
        account_id = await session.scalar(
            select(Account.id).where(Account.number == account_number(apartment))
        )
        stmt = select(Payment).where(
            Payment.account_id == account_id, Payment.paid_on == dt.date(2026, 11, 20)
        )
        if channel:
            stmt = stmt.where(Payment.channel == channel)
        return list((await session.scalars(stmt.order_by(Payment.id))).all())


async def november_history(portal: Portal, headers: dict[str, str]) -> dict[str, Any]:
    response = await portal.client.get(
        f"{API}/history/payments",
        params={"date_from": "2026-11-01", "date_to": "2026-11-30"},
        headers=headers,
    )
    assert response.status_code == 200
    return json_object(response)


async def balance(portal: Portal, headers: dict[str, str]) -> tuple[int, int]:
    summary = (await portal.client.get(f"{API}/account", headers=headers)).json()
    return summary["balance"]["debt_kopecks"], summary["capital_repair"]["debt_kopecks"]


# --- the whole path -------------------------------------------------------------------------------------


async def test_a3_full_path_credits_once_and_shows_in_history_and_balance(portal: Portal) -> None:
    headers = await portal.login_as()
    debt_before, _ = await balance(portal, headers)
    order = await created(portal, headers, provider="a3")
    assert order["status"] == "initiated" and order["sandbox"] is True and order["credited"] is False
    assert order["provider"] == "a3" and order["purpose"] == "utilities" and order["amount_kopecks"] == 102312
    assert order["id"].startswith("po_") and len(order["id"]) >= 35
    assert "/sandbox/a3/form/" in order["payment_url"]

    form = await portal.client.get(order["payment_url"])
    assert form.status_code == 200 and "text/html" in form.headers["content-type"]
    assert "1\u00a0023,12 ₽" in form.text and "/pay" in form.text and "/decline" in form.text

    # The resident's return from the form proves nothing: still nothing is credited before A3 says so.
    assert await payments_of(portal, channel="a3") == []
    paid = await press(portal, order, "pay")
    assert paid.status_code == 200
    assert await payments_of(portal, channel="a3") == []  # A3 is polled: nothing credited until then

    polled = await order_status(portal, headers, order["id"])
    assert polled["status"] == "success" and polled["credited"] is True
    again = await order_status(portal, headers, order["id"])
    assert again["credited"] is True
    rows = await payments_of(portal, channel="a3")
    assert [(r.amount_kopecks, r.purpose, r.external_id) for r in rows] == [
        (102312, "utilities", order["id"])
    ]

    history = await november_history(portal, headers)
    assert {"paid_on": TODAY, "amount_kopecks": 102312, "channel": "a3", "purpose": "utilities"} in history[
        "payments"
    ]
    debt_after, _ = await balance(portal, headers)
    assert debt_after == debt_before - 102312

    # Paying the same form twice is refused by the sandbox; nothing more is credited.
    assert (await press(portal, order, "pay")).status_code == 409
    await order_status(portal, headers, order["id"])
    assert len(await payments_of(portal, channel="a3")) == 1


async def test_paymo_full_path_by_signed_notification(portal: Portal) -> None:
    headers = await portal.login_as()
    _, fund_debt_before = await balance(portal, headers)
    order = await created(portal, headers, provider="paymo", purpose="capital_repair", amount=34560)
    assert order["amount_kopecks"] == 34560 and "/sandbox/paymo/checkout/" in order["payment_url"]
    assert (await portal.client.get(order["payment_url"])).status_code == 200

    assert (await press(portal, order, "pay")).status_code == 200
    # The sandbox delivered its signed notifications to the portal (no poll needed for PayMO).
    async with portal.state.sessionmaker() as session:
        stored = await session.get(PaymentOrder, order["id"])
        assert stored is not None and stored.status == "success" and stored.credited_payment_id is not None
    rows = await payments_of(portal, channel="paymo")
    assert [(r.amount_kopecks, r.purpose) for r in rows] == [(34560, "capital_repair")]
    status = await order_status(portal, headers, order["id"])
    assert status["status"] == "success" and status["credited"] is True

    history = await november_history(portal, headers)
    assert {
        "paid_on": TODAY,
        "amount_kopecks": 34560,
        "channel": "paymo",
        "purpose": "capital_repair",
    } in history["payments"]
    assert history["totals"]["capital_repair_kopecks"] >= 34560
    _, fund_debt_after = await balance(portal, headers)
    assert fund_debt_after == fund_debt_before - 34560
    statement = await portal.client.get(
        f"{API}/history/statement",
        params={"date_from": "2026-11-01", "date_to": "2026-11-30", "purpose": "capital_repair"},
        headers=headers,
    )
    assert statement.json()["months"][-1]["paid_kopecks"] >= 34560


@pytest.mark.parametrize("provider", ["a3", "paymo"])
@pytest.mark.parametrize(("action", "status"), [("decline", "failed"), ("cancel", "cancelled")])
async def test_declined_and_cancelled_payments_credit_nothing(
    portal: Portal, provider: str, action: str, status: str
) -> None:
    headers = await portal.login_as()
    order = await created(portal, headers, provider=provider)
    assert (await press(portal, order, action)).status_code == 200
    result = await order_status(portal, headers, order["id"])
    assert result["status"] == status and result["credited"] is False
    assert await payments_of(portal, channel=provider) == []
    assert (await press(portal, order, "pay")).status_code == 409


# --- notifications ----------------------------------------------------------------------------------------


async def test_forged_signature_is_refused_and_changes_nothing(portal: Portal) -> None:
    headers = await portal.login_as()
    order = await created(portal, headers, provider="paymo")
    raw, sig_headers = await notification(portal, order)
    forged = {**sig_headers, SIGNATURE_HEADER: notification_signature("not-the-secret", raw)}
    for attempt in (forged, {"Content-Type": "application/json"}):
        response = await portal.client.post(NOTIFY, content=raw, headers=attempt)
        assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    # The body changed after signing (amount raised): the signature no longer matches.
    tampered = raw.replace(b'"amount": 102312', b'"amount": 1')
    assert tampered != raw
    response = await portal.client.post(NOTIFY, content=tampered, headers=sig_headers)
    assert response.status_code == 403
    assert (await order_status(portal, headers, order["id"]))["status"] == "initiated"
    assert await payments_of(portal, channel="paymo") == []


async def test_repeated_and_replayed_notifications_are_ignored(portal: Portal) -> None:
    headers = await portal.login_as()
    order = await created(portal, headers, provider="paymo")
    raw, sig_headers = await notification(portal, order, event_id="evt_once")
    first = await portal.client.post(NOTIFY, content=raw, headers=sig_headers)
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    repeat = await portal.client.post(NOTIFY, content=raw, headers=sig_headers)
    assert repeat.status_code == 200 and repeat.json()["status"] == "duplicate"
    # Another event saying the same: no second credit.
    raw2, headers2 = await notification(portal, order, event_id="evt_twice")
    second = await portal.client.post(NOTIFY, content=raw2, headers=headers2)
    assert second.status_code == 200 and second.json()["status"] == "ignored"
    assert len(await payments_of(portal, channel="paymo")) == 1

    # A captured notification sent again much later (a new event id does not help: it is signed with the
    # old timestamp) is refused as stale.
    portal.clock.advance(dt.timedelta(minutes=20))
    order2 = await created(portal, headers, provider="paymo", key="key-0002")
    raw3, headers3 = await notification(portal, order2, event_id="evt_old")  # timestamp TEST_NOW
    stale = await portal.client.post(NOTIFY, content=raw3, headers=headers3)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_notification"
    assert (await order_status(portal, headers, order2["id"]))["credited"] is False


async def test_changed_amount_or_unknown_order_changes_nothing(portal: Portal) -> None:
    headers = await portal.login_as()
    order = await created(portal, headers, provider="paymo")
    raw, sig_headers = await notification(portal, order, amount=1)  # correctly signed, wrong amount
    response = await portal.client.post(NOTIFY, content=raw, headers=sig_headers)
    assert response.status_code == 409 and response.json()["code"] == "notification_mismatch"
    raw, sig_headers = await notification(portal, order, currency="USD", event_id="evt_usd")
    assert (await portal.client.post(NOTIFY, content=raw, headers=sig_headers)).status_code == 409
    raw, sig_headers = await notification(portal, order, order_id="po_" + "0" * 32, event_id="evt_unknown")
    response = await portal.client.post(NOTIFY, content=raw, headers=sig_headers)
    assert response.status_code == 404
    assert (await order_status(portal, headers, order["id"]))["status"] == "initiated"
    assert await payments_of(portal, channel="paymo") == []
    # The mismatching events were not stored: the real one still counts.
    raw, sig_headers = await notification(portal, order, event_id="evt_real")
    assert (await portal.client.post(NOTIFY, content=raw, headers=sig_headers)).json()["status"] == "accepted"
    assert len(await payments_of(portal, channel="paymo")) == 1


async def test_malformed_but_signed_notification(portal: Portal) -> None:
    raw, headers = signed({"hello": "world"}, portal.settings.paymo_notify_secret)
    response = await portal.client.post(NOTIFY, content=raw, headers=headers)
    assert response.status_code == 422


async def test_concurrent_notifications_credit_once(portal: Portal) -> None:
    headers = await portal.login_as()
    order = await created(portal, headers, provider="paymo")
    bodies = [await notification(portal, order, event_id=f"evt_c{i % 3}") for i in range(8)]
    responses = await asyncio.gather(*(portal.client.post(NOTIFY, content=r, headers=h) for r, h in bodies))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sorted(r.json()["status"] for r in responses).count("accepted") == 1
    assert len(await payments_of(portal, channel="paymo")) == 1


async def test_refund_after_success_records_a_storno(portal: Portal) -> None:
    headers = await portal.login_as()
    debt_before, _ = await balance(portal, headers)
    order = await created(portal, headers, provider="paymo")
    await press(portal, order, "pay")
    assert (await press(portal, order, "refund")).status_code == 200
    result = await order_status(portal, headers, order["id"])
    assert result["status"] == "refunded" and result["credited"] is True
    rows = await payments_of(portal, channel="paymo")
    assert sorted(r.amount_kopecks for r in rows) == [-102312, 102312]
    assert (await balance(portal, headers))[0] == debt_before


# --- creating ----------------------------------------------------------------------------------------------


async def test_same_key_same_order_other_body_422(portal: Portal) -> None:
    headers = await portal.login_as()
    first = await create(portal, headers, key="same-key")
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    repeat = await create(portal, headers, key="same-key")
    assert repeat.status_code == 201 and repeat.headers["idempotent-replayed"] == "true"
    assert repeat.json()["id"] == first.json()["id"]
    other = await create(portal, headers, key="same-key", amount=500)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    async with portal.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentOrder)) == 1
        assert await session.scalar(select(func.count()).select_from(SandboxPayment)) == 1
    missing = await portal.client.post(
        f"{API}/payments",
        json={"purpose": "utilities", "amount_kopecks": 100, "provider": "a3"},
        headers=headers,
    )
    assert missing.status_code == 422 and missing.json()["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "invalid_amount"),
        (-5, "invalid_amount"),
        (50_000_001, "invalid_amount"),
        # Kopecks are a JSON integer: no ruble string, no fraction, no ``true``, no text of digits.
        ("1023.12", "validation_error"),
        ("102312", "validation_error"),
        (1023.12, "validation_error"),
        (1023.5, "validation_error"),
        (True, "validation_error"),
        (None, "validation_error"),
    ],
)
async def test_amount_validation_names_the_field(portal: Portal, amount: object, code: str) -> None:
    headers = await portal.login_as()
    response = await create(portal, headers, amount=amount)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "amount_kopecks" and body["code"] == code
    assert "Сумма" in body["message"]


@pytest.mark.parametrize("amount", [1, 50_000_000, 1200, 1300.0])
async def test_amounts_at_the_limits_are_taken(portal: Portal, amount: object) -> None:
    headers = await portal.login_as()
    assert (await create(portal, headers, amount=amount, key=f"k-{amount}")).status_code == 201


async def test_other_residents_order_is_404(portal: Portal) -> None:
    owner = await portal.login_as()
    other = await portal.login_as(DEBTOR_APARTMENT)
    order = await created(portal, owner)
    response = await portal.client.get(f"{API}/payments/{order['id']}", headers=other)
    assert response.status_code == 404 and order["id"] not in response.text
    assert (await portal.client.get(f"{API}/payments/po_unknown", headers=owner)).status_code == 404
    assert (await portal.client.get(f"{API}/payments/{order['id']}")).status_code == 401
    # A logged-in order is not readable as a public one either.
    assert (await portal.client.get(f"{API}/public/payments/{order['id']}")).status_code == 404
    # Another resident using the same key gets an order of their own.
    mine = await created(portal, other, key="key-0001")
    assert mine["id"] != order["id"]


# --- the capital repair contribution without login ----------------------------------------------------


async def test_public_capital_repair_flow(portal: Portal) -> None:
    number = capital_repair_number(UNREGISTERED_APARTMENT)
    lookup = await portal.client.get(f"{API}/public/capital-repair/{number}")
    assert lookup.status_code == 200, lookup.text
    found = lookup.json()
    assert found["capital_repair_account"] == number and "кв. **" in found["address_masked"]
    assert isinstance(found["amount_due_kopecks"], int) and found["amount_due_kopecks"] >= 0

    body = {"capital_repair_account": number, "amount_kopecks": 25000, "provider": "a3"}
    key = {"Idempotency-Key": "public-key-1"}
    response = await portal.client.post(f"{API}/public/capital-repair/payments", json=body, headers=key)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["purpose"] == "capital_repair" and order["status"] == "initiated"
    replay = await portal.client.post(f"{API}/public/capital-repair/payments", json=body, headers=key)
    assert replay.json()["id"] == order["id"] and replay.headers["idempotent-replayed"] == "true"

    await press(portal, order, "pay")
    status = await portal.client.get(f"{API}/public/payments/{order['id']}")
    assert status.status_code == 200 and status.json()["status"] == "success" and status.json()["credited"]
    rows = await payments_of(portal, UNREGISTERED_APARTMENT, channel="a3")
    assert [(r.amount_kopecks, r.purpose) for r in rows] == [(25000, "capital_repair")]


async def test_public_capital_repair_unknown_number_is_404_and_throttled(make_portal: PortalFactory) -> None:
    portal = await make_portal(throttle_client_free_failures=3, throttle_free_failures=3)
    for number in ("999999999999", "352100120999", "abc"):
        response = await portal.client.get(f"{API}/public/capital-repair/{number}")
        assert response.status_code == 404
        assert response.json()["field"] == "capital_repair_account"
    body = {"capital_repair_account": "999999999998", "amount_kopecks": 100, "provider": "paymo"}
    response = await portal.client.post(
        f"{API}/public/capital-repair/payments", json=body, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 429
    # Even a real number waits out the client's cool-down.
    real = await portal.client.get(f"{API}/public/capital-repair/{capital_repair_number(7)}")
    assert real.status_code == 429


# --- A3's reconciliation ----------------------------------------------------------------------------


async def test_a3_reconciliation_credits_confirmed_payments_and_reports_discrepancies(portal: Portal) -> None:
    headers = await portal.login_as()
    paid = await created(portal, headers, provider="a3", key="r1")
    declined = await created(portal, headers, provider="a3", key="r2", amount=500)
    already = await created(portal, headers, provider="a3", key="r3", amount=700)
    await press(portal, paid, "pay")
    await press(portal, declined, "decline")
    await press(portal, already, "pay")
    await order_status(portal, headers, already["id"])  # credited by the poll
    # A payment A3 took for an order the portal does not know.
    async with portal.state.sessionmaker() as session:
        session.add(
            SandboxPayment(
                id="a3p_stray",
                provider="a3",
                merchant=portal.settings.a3_merchant,
                order_id="po_stray",
                amount_kopecks=100,
                description="?",
                status="success",
                created_at=TEST_NOW,
                updated_at=TEST_NOW,
                completed_at=TEST_NOW,
            )
        )
        await session.commit()
    assert len(await payments_of(portal, channel="a3")) == 1  # not yet the paid, unpolled one

    report = await service.reconcile_a3(portal.state, portal.app, dt.date(2026, 11, 20))
    outcomes = {line.order_id: line.outcome for line in report.lines}
    assert outcomes == {paid["id"]: "credited", already["id"]: "confirmed", "po_stray": "discrepancy"}
    assert report.credited == 1 and len(report.discrepancies) == 1
    rows = await payments_of(portal, channel="a3")
    assert sorted(r.amount_kopecks for r in rows) == [700, 102312]
    assert (await order_status(portal, headers, paid["id"]))["credited"] is True

    again = await service.reconcile_a3(portal.state, portal.app, dt.date(2026, 11, 20))
    assert again.credited == 0 and len(await payments_of(portal, channel="a3")) == 2
    empty = await service.reconcile_a3(portal.state, portal.app, dt.date(2026, 11, 19))
    assert empty.lines == []


def test_reconcile_a3_command(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from portal.cli import main

    for name in (
        "KABINET_DEMO",
        "KABINET_DATABASE_URL",
        "KABINET_DATA_DIR",
        "KABINET_READING_WINDOW_ALWAYS_OPEN",
    ):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    copy = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, copy)
    code = main(
        [
            "reconcile-a3",
            "--date",
            "2026-11-20",
            "--demo",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            f"sqlite+aiosqlite:///{copy}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2026-11-20" in out
    assert (
        main(
            [
                "reconcile-a3",
                "--date",
                "20.11.2026",
                "--demo",
                "--database-url",
                f"sqlite+aiosqlite:///{copy}",
            ]
        )
        == 2
    )


# --- review fixes: lost callbacks, booking dates, limits, closed notifications, digits ---------------------


def silence_paymo_callbacks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The sandbox's PayMO stops calling back (a lost callback); what it would have sent is recorded."""
    from portal.payments.sandbox import endpoints as sandbox

    lost: list[tuple[str, str]] = []

    async def dropped(app: object, state: PortalState, payment: SandboxPayment, status: str) -> None:
        lost.append((payment.id, status))

    monkeypatch.setattr(sandbox, "send_paymo_notification", dropped)
    return lost


async def test_paymo_payment_whose_callback_is_lost_is_credited_by_polling_once(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = silence_paymo_callbacks(monkeypatch)
    headers = await portal.login_as()
    order = await created(portal, headers, provider="paymo")
    assert (await press(portal, order, "pay")).status_code == 200
    assert lost and await payments_of(portal, channel="paymo") == []
    polled = await order_status(portal, headers, order["id"])
    assert polled["status"] == "success" and polled["credited"] is True
    for _ in range(3):
        await order_status(portal, headers, order["id"])
        await portal.client.get(f"{API}/public/payments/{order['id']}")
    rows = await payments_of(portal, channel="paymo")
    assert [(r.amount_kopecks, r.external_id) for r in rows] == [(102312, order["id"])]


async def test_a_late_but_signed_paymo_notification_is_checked_with_paymo_and_credited(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    silence_paymo_callbacks(monkeypatch)
    headers = await portal.login_as()
    order = await created(portal, headers, provider="paymo")
    await press(portal, order, "pay")
    raw, sig_headers = await notification(portal, order, event_id="evt_late")  # timestamp TEST_NOW
    portal.clock.advance(dt.timedelta(minutes=45))  # delivered 45 minutes late
    late = await portal.client.post(NOTIFY, content=raw, headers=sig_headers)
    assert late.status_code == 200, late.text
    assert late.json()["status"] == "accepted"
    again = await portal.client.post(NOTIFY, content=raw, headers=sig_headers)
    assert again.status_code == 200 and again.json()["status"] in {"duplicate", "ignored"}
    rows = await payments_of(portal, channel="paymo")
    assert [(r.amount_kopecks, r.external_id) for r in rows] == [(102312, order["id"])]


async def test_a3_payment_credited_late_is_booked_on_the_day_a3_completed_it(portal: Portal) -> None:
    # Paid at 23:50 in Moscow on 30 November; the portal learns it at 00:10 on 1 December.
    portal.clock.set(dt.datetime(2026, 11, 30, 20, 50, tzinfo=dt.UTC))
    headers = await portal.login_as()
    order = await created(portal, headers, provider="a3")
    await press(portal, order, "pay")
    portal.clock.advance(dt.timedelta(minutes=20))
    assert (await order_status(portal, headers, order["id"]))["credited"] is True
    async with portal.state.sessionmaker() as session:
        paid_on = await session.scalar(select(Payment.paid_on).where(Payment.external_id == order["id"]))
    assert paid_on == dt.date(2026, 11, 30)
    # The nightly reconciliation of either day agrees with that.
    report = await service.reconcile_a3(portal.state, portal.app, dt.date(2026, 11, 30))
    assert [(line.order_id, line.outcome) for line in report.lines] == [(order["id"], "confirmed")]
    assert (await service.reconcile_a3(portal.state, portal.app, dt.date(2026, 12, 1))).lines == []


async def test_reconciliation_reports_a_credited_payment_whose_report_line_differs(portal: Portal) -> None:
    headers = await portal.login_as()
    order = await created(portal, headers, provider="a3")
    await press(portal, order, "pay")
    assert (await order_status(portal, headers, order["id"]))["credited"] is True
    async with portal.state.sessionmaker() as session:
        sandbox = await session.scalar(select(SandboxPayment).where(SandboxPayment.order_id == order["id"]))
        assert sandbox is not None
        sandbox.amount_kopecks = 100  # A3's report now says another amount than the portal credited
        await session.commit()
    report = await service.reconcile_a3(portal.state, portal.app, dt.date(2026, 11, 20))
    lines = [line for line in report.lines if line.order_id == order["id"]]
    assert [line.outcome for line in lines] == ["discrepancy"] and "сумма" in lines[0].detail
    assert len(await payments_of(portal, channel="a3")) == 1


async def test_public_lookups_and_payments_are_limited_per_client_address(make_portal: PortalFactory) -> None:
    portal = await make_portal(public_lookups_per_window=3, public_payments_per_window=2)
    number = capital_repair_number(UNREGISTERED_APARTMENT)
    for _ in range(3):  # found numbers count too
        assert (await portal.client.get(f"{API}/public/capital-repair/{number}")).status_code == 200
    refused = await portal.client.get(f"{API}/public/capital-repair/{number}")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600

    body = {"capital_repair_account": number, "amount_kopecks": 1000, "provider": "a3"}
    url = f"{API}/public/capital-repair/payments"
    for i in range(2):
        made = await portal.client.post(url, json=body, headers={"Idempotency-Key": f"pk-{i}"})
        assert made.status_code == 201, made.text
    third = await portal.client.post(url, json=body, headers={"Idempotency-Key": "pk-3"})
    assert third.status_code == 429 and "Retry-After" in third.headers

    portal.clock.advance(dt.timedelta(minutes=10, seconds=1))
    assert (await portal.client.get(f"{API}/public/capital-repair/{number}")).status_code == 200
    made = await portal.client.post(url, json=body, headers={"Idempotency-Key": "pk-4"})
    assert made.status_code == 201


def test_public_limits_are_generous_by_default() -> None:
    from portal.settings import Settings

    settings = Settings(demo=True)
    assert settings.public_lookups_per_window >= 30 and settings.public_payments_per_window >= 10
    assert settings.public_payment_window_seconds == 600 and settings.payment_poll_interval_seconds == 5


async def _public_a3_order_with_counted_polls(
    portal: Portal, monkeypatch: pytest.MonkeyPatch, key: str
) -> tuple[dict[str, Any], list[str]]:
    """A public А3 order for the capital repair contribution, and the questions А3 gets about it."""
    from portal.payments.providers import A3Provider

    asked: list[str] = []
    original = A3Provider.status

    async def counting(self: A3Provider, provider_payment_id: str) -> ProviderPayment:
        asked.append(provider_payment_id)
        return await original(self, provider_payment_id)

    monkeypatch.setattr(A3Provider, "status", counting)
    number = capital_repair_number(UNREGISTERED_APARTMENT)
    body = {"capital_repair_account": number, "amount_kopecks": 1000, "provider": "a3"}
    made = await portal.client.post(
        f"{API}/public/capital-repair/payments", json=body, headers={"Idempotency-Key": key}
    )
    return made.json(), asked


async def test_status_polls_are_limited_per_order(
    make_portal: PortalFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = await make_portal()
    order, asked = await _public_a3_order_with_counted_polls(portal, monkeypatch, "poll-1")
    for _ in range(5):
        response = await portal.client.get(f"{API}/public/payments/{order['id']}")
        assert response.status_code == 200 and response.json()["status"] == "initiated"
    assert len(asked) == 1
    portal.clock.advance(dt.timedelta(seconds=5))
    await press(portal, order, "pay")
    assert (await portal.client.get(f"{API}/public/payments/{order['id']}")).json()["credited"] is True
    assert len(asked) == 2


async def test_a_new_orders_status_may_be_asked_every_second_then_less_often(
    make_portal: PortalFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the resident is paying (a new order) the service is asked once a second, later once per 5 s;
    the gate is in the shared database, so every worker keeps it."""
    portal = await make_portal()
    order, asked = await _public_a3_order_with_counted_polls(portal, monkeypatch, "poll-quick")

    async def ask_after(seconds: float) -> int:
        portal.clock.advance(dt.timedelta(seconds=seconds))
        response = await portal.client.get(f"{API}/public/payments/{order['id']}")
        assert response.status_code == 200
        return len(asked)

    assert await ask_after(0) == 1
    assert await ask_after(0.5) == 1  # a flood is still refused
    assert await ask_after(0.5) == 2  # the resident paid a second ago: the service is asked at once
    assert await ask_after(200) == 3  # long after the order was new: back to one question per 5 s
    assert await ask_after(1.5) == 3
    assert await ask_after(3.5) == 4


async def test_paymo_notifications_are_closed_when_paymo_is_off_with_the_default_secret(
    make_portal: PortalFactory,
) -> None:
    from portal.settings import DEFAULT_PAYMENT_SECRET

    portal = await make_portal(payments_sandbox=False)
    raw, headers = signed(
        {
            "event_id": "evt_x",
            "invoice_id": "inv_x",
            "order_id": "po_" + "1" * 32,
            "amount": 100,
            "currency": "RUB",
            "status": "deposited",
            "timestamp": TEST_NOW.isoformat(),
        },
        DEFAULT_PAYMENT_SECRET,
    )
    response = await portal.client.post(NOTIFY, content=raw, headers=headers)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_default_notify_secret_is_refused_outside_demo_when_paymo_is_enabled() -> None:
    from portal.settings import Settings

    secret = "kq3V9x-ZtP7mWc2LrB8nYd4HsF6jAe1Gu0Qo5TiXvKw"
    for enabled in (
        {"payments_sandbox": True},
        {"paymo_url": "https://paymo.example", "paymo_secret": secret},
    ):
        settings = Settings(demo=False, secret_key=secret, **enabled)
        with pytest.raises(SystemExit, match="NOTIFY_SECRET"):
            settings.check_production_safety()
        Settings(
            demo=False, secret_key=secret, paymo_notify_secret=secret, **enabled
        ).check_production_safety()
    Settings(demo=False, secret_key=secret).check_production_safety()  # PayMO off: starts
    Settings(demo=True, payments_sandbox=True).check_production_safety()


@pytest.mark.parametrize("kopecks", [0, -1, 50_000_001])
def test_amounts_out_of_range_are_refused(kopecks: int) -> None:
    with pytest.raises(ApiError) as caught:
        service.check_amount(kopecks)
    assert caught.value.status_code == 422 and caught.value.field == "amount_kopecks"
