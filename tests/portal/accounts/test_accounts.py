"""The account summary and the list of receipts: values agree with billing and with the statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from portal.billing import service as billing
from portal.demo.accounts import (
    CAPITAL_REPAIR_FUND_NAME,
    DEBTOR_APARTMENT,
    DEMO_PASSWORD,
    EXPIRED_VERIFICATION_APARTMENT,
    HAPPY_PATH_APARTMENT,
    VERIFICATION_SOON_APARTMENT,
    account_number,
    capital_repair_number,
)
from portal.meter_verification import VerificationState, verification_state
from portal.models import Account, Meter, Payment, Service
from portal.reading_window import reading_window
from portal.settings import Settings
from tests.conftest import TEST_ANCHOR, Portal, PortalFactory
from tests.support.statements import counted_statements

TODAY = TEST_ANCHOR  # 20 November 2026 in Moscow
LAST_RECEIPT = dt.date(2026, 10, 1)


async def _summary(portal: Portal, apartment: int) -> dict[str, Any]:
    headers = await portal.login(account_number(apartment), DEMO_PASSWORD)
    response = await portal.client.get("/api/v1/account", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_summary_of_the_happy_path_account(portal: Portal) -> None:
    body = await _summary(portal, HAPPY_PATH_APARTMENT)
    account_id = await portal.account_id(HAPPY_PATH_APARTMENT)
    async with portal.state.sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        utilities = await billing.amount_due(session, account_id, TODAY)
        fund = await billing.capital_repair_due(session, account_id, TODAY)
        receipt_total = await billing.receipt_total(session, account_id, LAST_RECEIPT)
        last_payment = await session.scalar(
            select(Payment)
            .where(Payment.account_id == account_id)
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
            .limit(1)
        )
    assert last_payment is not None

    assert body["account_number"] == account_number(HAPPY_PATH_APARTMENT)
    assert body["address"].endswith(f"кв. {HAPPY_PATH_APARTMENT}")
    assert body["owner_name"] == account.owner_name
    assert isinstance(body["area_m2"], str) and Decimal(body["area_m2"]) == account.area_m2
    assert body["residents"] == account.residents

    balance = body["balance"]
    breakdown = balance["breakdown"]
    assert breakdown["period"] == f"{LAST_RECEIPT:%Y-%m}"
    assert breakdown["receipt_total_kopecks"] == receipt_total == utilities.receipt_total_kopecks
    assert balance["amount_due_kopecks"] == utilities.amount_due_kopecks
    assert balance["debt_kopecks"] == utilities.debt_kopecks
    # The amount due is the last receipt's total minus what was paid after it.
    assert balance["amount_due_kopecks"] == max(0, receipt_total - breakdown["payments_since_kopecks"])
    # The receipt total follows from the receipt month's own numbers.
    assert receipt_total == max(
        0,
        breakdown["opening_balance_kopecks"]
        + breakdown["charged_kopecks"]
        + breakdown["recalculation_kopecks"]
        - breakdown["paid_in_period_kopecks"],
    )
    lines = breakdown["lines"]
    assert [line["service_code"] for line in lines] == [
        "maintenance",
        "heating",
        "cold_water",
        "hot_water",
        "wastewater",
        "electricity",
        "solid_waste",
    ]
    assert sum(line["charged_kopecks"] for line in lines) == breakdown["charged_kopecks"]
    assert sum(line["recalculation_kopecks"] for line in lines) == breakdown["recalculation_kopecks"]
    for line in lines:
        assert isinstance(line["volume"], str)
        assert line["tariff_kopecks"] > 0

    capital = body["capital_repair"]
    assert capital == {
        "account_number": capital_repair_number(HAPPY_PATH_APARTMENT),
        "fund_name": CAPITAL_REPAIR_FUND_NAME,
        "period": f"{LAST_RECEIPT:%Y-%m}",
        "receipt_total_kopecks": fund.receipt_total_kopecks,
        "amount_due_kopecks": fund.amount_due_kopecks,
        "debt_kopecks": fund.debt_kopecks,
    }
    assert capital["receipt_total_kopecks"] > 0  # a regular payer still gets the October contribution

    assert body["reading_window"] == {
        "open": True,
        "period": "2026-11",
        "always_open": True,
        "start_day": None,
        "end_day": None,
        "closes_on": None,
        "opens_on": None,
        "message": "Показания принимаются в любой день месяца.",
    }
    assert body["warnings"] == []
    assert body["last_payment"] == {
        "paid_on": last_payment.paid_on.isoformat(),
        "amount_kopecks": last_payment.amount_kopecks,
        "channel": last_payment.channel,
        "purpose": last_payment.purpose,
    }


async def test_summary_agrees_with_the_statement(portal: Portal) -> None:
    """Receipt total = the receipt month's closing; debt = today's closing (payments since included)."""
    headers = await portal.login(account_number(DEBTOR_APARTMENT), DEMO_PASSWORD)
    summary = (await portal.client.get("/api/v1/account", headers=headers)).json()
    for purpose, block in (
        ("utilities", summary["balance"]),
        ("capital_repair", summary["capital_repair"]),
    ):
        response = await portal.client.get(
            "/api/v1/history/statement",
            params={"date_from": "2026-10-01", "date_to": TODAY.isoformat(), "purpose": purpose},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        october, november = response.json()["months"]
        if purpose == "utilities":
            breakdown = block["breakdown"]
            assert breakdown["receipt_total_kopecks"] == max(0, october["closing_kopecks"])
            assert breakdown["opening_balance_kopecks"] == october["opening_kopecks"]
            assert breakdown["payments_since_kopecks"] == november["paid_kopecks"]
        else:
            assert block["receipt_total_kopecks"] == max(0, october["closing_kopecks"])
        assert block["debt_kopecks"] == november["closing_kopecks"]

    # The debtor stopped paying eight months ago: the debt is the whole receipt and nothing came since.
    balance = summary["balance"]
    assert balance["debt_kopecks"] > 0
    assert balance["breakdown"]["payments_since_kopecks"] == 0
    assert balance["amount_due_kopecks"] == balance["breakdown"]["receipt_total_kopecks"]
    assert balance["debt_kopecks"] == balance["amount_due_kopecks"]
    assert balance["breakdown"]["opening_balance_kopecks"] > balance["breakdown"]["charged_kopecks"]


async def test_warning_for_an_expired_verification(portal: Portal) -> None:
    body = await _summary(portal, EXPIRED_VERIFICATION_APARTMENT)
    account_id = await portal.account_id(EXPIRED_VERIFICATION_APARTMENT)
    async with portal.state.sessionmaker() as session:
        meter = (
            await session.execute(
                select(Meter)
                .join(Service, Service.id == Meter.service_id)
                .where(Meter.account_id == account_id, Service.code == "hot_water")
            )
        ).scalar_one()
    assert body["warnings"] == [
        {
            "code": "verification_expired",
            "meter_id": meter.id,
            "service_name": "Горячее водоснабжение",
            "serial_number": meter.serial_number,
            "date": "2026-10-26",
            "message": body["warnings"][0]["message"],
        }
    ]
    message = body["warnings"][0]["message"]
    assert "истёк 26.10.2026" in message and meter.serial_number in message
    assert "не принимаются" in message


async def test_warning_for_a_verification_due_soon(portal: Portal) -> None:
    body = await _summary(portal, VERIFICATION_SOON_APARTMENT)
    (warning,) = body["warnings"]
    assert warning["code"] == "verification_due"
    assert warning["service_name"] == "Холодное водоснабжение"
    assert warning["date"] == (TODAY + dt.timedelta(days=40)).isoformat()
    assert "истекает 30.12.2026" in warning["message"]


async def test_summary_reading_window_follows_the_clock(make_portal: PortalFactory) -> None:
    portal: Portal = await make_portal(reading_window_always_open=False)

    async def window() -> dict[str, Any]:
        # A new session at each moment: a session idle for days has rightly expired.
        headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
        response = await portal.client.get("/api/v1/account", headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["reading_window"]
        return result

    opened = await window()  # 20 November: inside 15–25
    assert opened["open"] is True
    assert opened["closes_on"] == "2026-11-25" and opened["opens_on"] is None
    assert opened["message"] == "Приём показаний с 15 по 25 число. Приём открыт до 25 ноября."

    portal.clock.set(dt.datetime(2026, 11, 25, 20, 59, tzinfo=dt.UTC))  # 23:59 in Moscow: still open
    assert (await window())["open"] is True
    portal.clock.set(dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.UTC))  # 26 November in Moscow
    closed = await window()
    assert closed == {
        "open": False,
        "period": "2026-11",
        "always_open": False,
        "start_day": 15,
        "end_day": 25,
        "closes_on": None,
        "opens_on": "2026-12-15",
        "message": "Приём показаний с 15 по 25 число. Следующий приём откроется 15 декабря.",
    }


def _settings(**overrides: Any) -> Settings:
    return Settings(database_url="sqlite+aiosqlite://", **overrides)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 3, 14), (False, None, dt.date(2026, 3, 15))),
        (dt.date(2026, 3, 15), (True, dt.date(2026, 3, 25), None)),
        (dt.date(2026, 3, 25), (True, dt.date(2026, 3, 25), None)),
        (dt.date(2026, 3, 26), (False, None, dt.date(2026, 4, 15))),
        (dt.date(2026, 12, 31), (False, None, dt.date(2027, 1, 15))),
    ],
)
def test_reading_window_rule(today: dt.date, expected: tuple[Any, ...]) -> None:
    window = reading_window(_settings(), today)
    assert (window.open, window.closes_on, window.opens_on) == expected
    assert window.period == today.replace(day=1)


def test_reading_window_end_day_past_the_end_of_a_short_month() -> None:
    settings = _settings(reading_window_start_day=20, reading_window_end_day=31)
    assert reading_window(settings, dt.date(2027, 2, 28)).closes_on == dt.date(2027, 2, 28)
    assert reading_window(settings, dt.date(2027, 1, 31)).open is True
    assert reading_window(settings, dt.date(2027, 2, 19)).opens_on == dt.date(2027, 2, 20)
    always = reading_window(_settings(reading_window_always_open=True), dt.date(2027, 2, 1))
    assert always.open and always.closes_on is None and always.opens_on is None


def test_reading_window_over_the_end_of_the_month() -> None:
    settings = _settings(reading_window_start_day=25, reading_window_end_day=5)
    late = reading_window(settings, dt.date(2026, 12, 28))
    assert (late.open, late.closes_on, late.period) == (True, dt.date(2027, 1, 5), dt.date(2026, 12, 1))
    assert late.message.endswith("Приём открыт до 5 января 2027.")
    early = reading_window(settings, dt.date(2027, 1, 5))
    assert (early.open, early.closes_on) == (True, dt.date(2027, 1, 5))
    closed = reading_window(settings, dt.date(2027, 1, 6))
    assert (closed.open, closed.opens_on) == (False, dt.date(2027, 1, 25))


def test_verification_rule_boundaries() -> None:
    due = dt.date(2027, 3, 1)
    assert verification_state(due, due + dt.timedelta(days=1)) is VerificationState.EXPIRED
    assert verification_state(due, due) is VerificationState.DUE  # the date itself is still valid
    assert verification_state(due, due - dt.timedelta(days=60)) is VerificationState.DUE
    assert verification_state(due, due - dt.timedelta(days=61)) is VerificationState.VALID


async def test_receipts_list_matches_billing(portal: Portal) -> None:
    headers = await portal.login(account_number(DEBTOR_APARTMENT), DEMO_PASSWORD)
    response = await portal.client.get("/api/v1/receipts", headers=headers)
    assert response.status_code == 200, response.text
    receipts = response.json()["receipts"]
    periods = [dt.date.fromisoformat(r["period"] + "-01") for r in receipts]
    assert len(periods) == 36
    assert periods[0] == LAST_RECEIPT and periods[-1] == dt.date(2023, 11, 1)
    assert periods == sorted(periods, reverse=True)

    account_id = await portal.account_id(DEBTOR_APARTMENT)
    async with portal.state.sessionmaker() as session:
        for receipt, period in zip(receipts, periods, strict=True):
            assert receipt["total_kopecks"] == await billing.receipt_total(session, account_id, period)
            assert receipt["capital_repair_kopecks"] == await billing.capital_repair_total(
                session, account_id, period
            )
    # A debtor's receipts grow once the payments stop.
    assert receipts[0]["total_kopecks"] > receipts[6]["total_kopecks"] > 0


@pytest.mark.parametrize("path", ["/api/v1/account", "/api/v1/receipts"])
async def test_resident_resources_need_a_session(portal: Portal, path: str) -> None:
    missing = await portal.client.get(path)
    assert missing.status_code == 401
    assert missing.json()["code"] == "not_authenticated"
    assert missing.headers["www-authenticate"] == "Bearer"

    forged = await portal.client.get(path, headers={"Authorization": "Bearer not-a-real-token"})
    assert forged.status_code == 401
    assert forged.json()["code"] == "not_authenticated"

    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    assert (await portal.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    after_logout = await portal.client.get(path, headers=headers)
    assert after_logout.status_code == 401


async def test_summary_sends_a_fixed_number_of_statements(make_portal: PortalFactory) -> None:
    """The session check and three queries, whatever the account's history or number of meters."""
    portal: Portal = await make_portal(cache_enabled=False)
    for apartment in (HAPPY_PATH_APARTMENT, DEBTOR_APARTMENT, EXPIRED_VERIFICATION_APARTMENT):
        headers = await portal.login(account_number(apartment), DEMO_PASSWORD)
        first = await portal.client.get("/api/v1/account", headers=headers)
        with counted_statements(portal) as statements:
            again = await portal.client.get("/api/v1/account", headers=headers)
        assert again.status_code == 200, again.text
        assert again.content == first.content  # computed again (no cache), the same answer
        assert len(statements) == 1 + 3, statements


async def test_receipts_send_a_fixed_number_of_statements(make_portal: PortalFactory) -> None:
    portal: Portal = await make_portal(cache_enabled=False)
    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    with counted_statements(portal) as statements:
        response = await portal.client.get("/api/v1/receipts", headers=headers)
    assert response.status_code == 200, response.text
    assert len(response.json()["receipts"]) == 36
    # The session check, the periods, and one statement (one query) per payee.
    assert len(statements) == 1 + 1 + 2 * 1, statements
