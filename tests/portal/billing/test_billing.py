"""Billing: the statement identity, receipt totals and the amount due, on hand-made and demo data."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from portal.billing import service as billing
from portal.demo import seed_demo
from portal.kit.db import Base, create_engine, create_sessionmaker
from portal.models import (
    Account,
    Charge,
    OpeningBalance,
    Payee,
    Payment,
    PaymentPurpose,
    Service,
    ServiceBasis,
)

U = PaymentPurpose.UTILITIES
CR = PaymentPurpose.CAPITAL_REPAIR
ANCHOR = dt.date(2026, 11, 25)


async def _engine(path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


# --- hand-made data: every expected number below is computed by hand --------------------------------


class Ledger:
    """Ids of the hand-made data set."""

    account: int
    other: int
    empty: int


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[tuple[AsyncSession, Ledger]]:
    engine = await _engine(tmp_path / "ledger.sqlite3")
    ids = Ledger()
    async with create_sessionmaker(engine)() as session:
        accounts = [
            {"number": n, "address": "a", "owner_name": "o", "area_m2": Decimal("50.00"), "residents": 2}
            for n in ("1000000001", "1000000002", "1000000003")
        ]
        ids.account, ids.other, ids.empty = (
            await session.execute(
                insert(Account).returning(Account.id, sort_by_parameter_order=True), accounts
            )
        ).scalars()
        service_rows = [
            ("heating", "Отопление", "м²", ServiceBasis.AREA, Payee.BILLING_CENTER, 20),
            ("cold_water", "Холодное водоснабжение", "м³", ServiceBasis.METER, Payee.BILLING_CENTER, 10),
            ("capital_repair", "Взнос на капремонт", "м²", ServiceBasis.AREA, Payee.CAPITAL_REPAIR_FUND, 90),
        ]
        heating, water, capital = (
            await session.execute(
                insert(Service).returning(Service.id, sort_by_parameter_order=True),
                [
                    {"code": c, "name": n, "unit": u, "basis": b.value, "payee": p.value, "sort_order": s}
                    for c, n, u, b, p, s in service_rows
                ],
            )
        ).scalars()

        def charge(
            account: int, service: int, period: dt.date, kopecks: int, recalc: int = 0
        ) -> dict[str, Any]:
            return {
                "account_id": account,
                "service_id": service,
                "period": period,
                "volume": Decimal("50"),
                "tariff_kopecks": kopecks // 50,
                "charged_kopecks": kopecks,
                "recalculation_kopecks": recalc,
            }

        jan, feb, mar = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
        await session.execute(
            insert(Charge),
            [
                charge(ids.account, heating, jan, 100_000),
                charge(ids.account, water, jan, 20_000),
                charge(ids.account, capital, jan, 50_000),
                charge(ids.account, heating, feb, 100_000, recalc=-10_000),
                charge(ids.account, water, feb, 25_000),
                charge(ids.account, capital, feb, 50_000),
                charge(ids.account, heating, mar, 110_000),
                charge(ids.account, water, mar, 30_000, recalc=5_000),
                charge(ids.account, capital, mar, 50_000),
                # Another account's charges and payments must never leak into the first one's numbers.
                charge(ids.other, heating, feb, 999_900),
            ],
        )

        def payment(account: int, day: dt.date, kopecks: int, purpose: PaymentPurpose) -> dict[str, Any]:
            return {
                "account_id": account,
                "paid_on": day,
                "amount_kopecks": kopecks,
                "channel": "bank",
                "purpose": purpose.value,
                "external_id": None,
            }

        await session.execute(
            insert(Payment),
            [
                payment(ids.account, dt.date(2026, 2, 15), 120_000, U),  # January's receipt in full
                payment(ids.account, dt.date(2026, 2, 16), 50_000, CR),
                payment(ids.account, dt.date(2026, 3, 31), 100_000, U),  # February's, 15 000 short
                payment(ids.account, dt.date(2026, 4, 10), 50_000, U),  # after March's receipt
                payment(ids.account, dt.date(2026, 4, 20), 200_000, U),  # after "today" in the tests
                payment(ids.other, dt.date(2026, 3, 1), 777_700, U),
            ],
        )
        await session.commit()
        yield session, ids
    await engine.dispose()


async def test_statement_month_by_month(ledger: tuple[AsyncSession, Ledger]) -> None:
    session, ids = ledger
    months = await billing.monthly_statement(
        session, ids.account, dt.date(2026, 1, 9), dt.date(2026, 4, 2), U
    )
    rows = [
        (
            m.period,
            m.opening_kopecks,
            m.charged_kopecks,
            m.recalculation_kopecks,
            m.paid_kopecks,
            m.closing_kopecks,
        )
        for m in months
    ]
    assert rows == [
        (dt.date(2026, 1, 1), 0, 120_000, 0, 0, 120_000),
        (dt.date(2026, 2, 1), 120_000, 125_000, -10_000, 120_000, 115_000),
        (dt.date(2026, 3, 1), 115_000, 140_000, 5_000, 100_000, 160_000),
        (dt.date(2026, 4, 1), 160_000, 0, 0, 250_000, -90_000),
    ]
    capital = await billing.monthly_statement(
        session, ids.account, dt.date(2026, 1, 1), dt.date(2026, 3, 1), CR
    )
    assert [(m.charged_kopecks, m.paid_kopecks, m.closing_kopecks) for m in capital] == [
        (50_000, 0, 50_000),
        (50_000, 50_000, 50_000),
        (50_000, 0, 100_000),
    ]


async def test_opening_balance_sums_all_earlier_history(ledger: tuple[AsyncSession, Ledger]) -> None:
    session, ids = ledger
    (march,) = await billing.monthly_statement(
        session, ids.account, dt.date(2026, 3, 5), dt.date(2026, 3, 5), U
    )
    assert march.opening_kopecks == 115_000
    assert march.closing_kopecks == 160_000
    (before,) = await billing.monthly_statement(
        session, ids.account, dt.date(2025, 6, 1), dt.date(2025, 6, 30), U
    )
    assert before == billing.StatementMonth(dt.date(2025, 6, 1), 0, 0, 0, 0, 0)


async def test_an_imported_opening_balance_replaces_the_history_before_it(
    ledger: tuple[AsyncSession, Ledger],
) -> None:
    """A billing center that sends one month: its opening balance, the month's charges with penalties."""
    session, ids = ledger
    heating, capital = (
        await session.execute(
            select(Service.id)
            .where(Service.code.in_(("heating", "capital_repair")))
            .order_by(Service.sort_order)
        )
    ).scalars()
    mar = dt.date(2026, 3, 1)
    await session.execute(
        insert(OpeningBalance),
        [
            {
                "account_id": ids.empty,
                "payee": Payee.BILLING_CENTER.value,
                "period": mar,
                "balance_kopecks": 80_000,
            },
            # The first account's March: the center says it owed 500 000, whatever the portal's history says.
            {
                "account_id": ids.account,
                "payee": Payee.BILLING_CENTER.value,
                "period": mar,
                "balance_kopecks": 500_000,
            },
        ],
    )
    await session.execute(
        insert(Charge),
        [
            {
                "account_id": ids.empty,
                "service_id": heating,
                "period": mar,
                "volume": Decimal("50"),
                "tariff_kopecks": 600,
                "charged_kopecks": 30_000,
                "recalculation_kopecks": -2_000,
                "penalties_kopecks": 1_500,
            },
            {
                "account_id": ids.empty,
                "service_id": capital,
                "period": mar,
                "volume": Decimal("50"),
                "tariff_kopecks": 100,
                "charged_kopecks": 5_000,
                "recalculation_kopecks": 0,
            },
        ],
    )
    # Paid in February, before the opening balance: the center's balance already counts it.
    await session.execute(
        insert(Payment),
        [
            {
                "account_id": ids.empty,
                "paid_on": dt.date(2026, 2, 20),
                "amount_kopecks": 9_000,
                "channel": "bank",
                "purpose": U.value,
                "external_id": "sb/1",
            },
            {
                "account_id": ids.empty,
                "paid_on": dt.date(2026, 3, 20),
                "amount_kopecks": 10_000,
                "channel": "bank",
                "purpose": U.value,
                "external_id": "sb/2",
            },
        ],
    )
    await session.commit()

    due = await billing.amount_due(session, ids.empty, dt.date(2026, 4, 5))
    assert (due.period, due.opening_kopecks, due.charged_kopecks, due.recalculation_kopecks) == (
        mar,
        80_000,
        30_000,
        -2_000,
    )
    assert due.penalties_kopecks == 1_500
    assert [line.penalties_kopecks for line in due.lines] == [1_500]
    # 80 000 + 30 000 − 2 000 + 1 500 − 10 000 paid in March.
    assert due.receipt_total_kopecks == 99_500 == await billing.receipt_total(session, ids.empty, mar)
    assert due.amount_due_kopecks == 99_500
    (march,) = await billing.monthly_statement(session, ids.empty, mar, mar, U)
    assert (march.opening_kopecks, march.penalties_kopecks, march.closing_kopecks) == (80_000, 1_500, 99_500)
    # The fund sent no opening balance: its history counts as before.
    assert (
        await billing.capital_repair_due(session, ids.empty, dt.date(2026, 4, 5))
    ).receipt_total_kopecks == 5_000

    # Within a longer statement the opening balance restarts the month; months before keep the history.
    months = await billing.monthly_statement(
        session, ids.account, dt.date(2026, 1, 1), dt.date(2026, 4, 1), U
    )
    assert [(m.opening_kopecks, m.closing_kopecks) for m in months] == [
        (0, 120_000),
        (120_000, 115_000),
        (500_000, 545_000),
        (545_000, 295_000),
    ]
    (april,) = await billing.monthly_statement(
        session, ids.account, dt.date(2026, 4, 1), dt.date(2026, 4, 1), U
    )
    assert april.opening_kopecks == 545_000


async def test_receipt_total_is_utilities_closing_without_capital_repair(
    ledger: tuple[AsyncSession, Ledger],
) -> None:
    session, ids = ledger
    assert await billing.receipt_total(session, ids.account, dt.date(2026, 1, 1)) == 120_000
    assert await billing.receipt_total(session, ids.account, dt.date(2026, 3, 20)) == 160_000
    assert await billing.capital_repair_total(session, ids.account, dt.date(2026, 3, 1)) == 100_000
    # April is prepaid: a receipt never asks for a negative amount.
    assert await billing.receipt_total(session, ids.account, dt.date(2026, 4, 1)) == 0
    assert await billing.receipt_total(session, ids.other, dt.date(2026, 2, 1)) == 999_900


async def test_receipt_periods(ledger: tuple[AsyncSession, Ledger]) -> None:
    session, ids = ledger
    assert await billing.last_receipt_period(session, ids.account) == dt.date(2026, 3, 1)
    assert await billing.receipt_periods(session, ids.account) == [
        dt.date(2026, 3, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 1, 1),
    ]
    assert await billing.last_receipt_period(session, ids.empty) is None
    assert await billing.receipt_periods(session, ids.empty) == []


async def test_amount_due_counts_payments_after_the_receipt_up_to_today(
    ledger: tuple[AsyncSession, Ledger],
) -> None:
    session, ids = ledger
    due = await billing.amount_due(session, ids.account, dt.date(2026, 4, 15))
    assert due.period == dt.date(2026, 3, 1)
    assert (due.opening_kopecks, due.charged_kopecks, due.recalculation_kopecks) == (115_000, 140_000, 5_000)
    assert due.paid_in_period_kopecks == 100_000
    assert due.receipt_total_kopecks == 160_000
    assert due.paid_since_kopecks == 50_000  # the 20 April payment is after "today"
    assert due.amount_due_kopecks == 110_000
    assert due.debt_kopecks == 110_000
    assert [line.service_code for line in due.lines] == ["cold_water", "heating"]  # sort_order
    assert [line.total_kopecks for line in due.lines] == [35_000, 110_000]

    later = await billing.amount_due(session, ids.account, dt.date(2026, 4, 30))
    assert later.amount_due_kopecks == 0
    assert later.debt_kopecks == -90_000  # prepaid

    capital = await billing.capital_repair_due(session, ids.account, dt.date(2026, 4, 15))
    assert capital.receipt_total_kopecks == 100_000
    assert capital.amount_due_kopecks == 100_000
    assert [line.service_code for line in capital.lines] == ["capital_repair"]


async def test_amount_due_without_charges(ledger: tuple[AsyncSession, Ledger]) -> None:
    session, ids = ledger
    due = await billing.amount_due(session, ids.empty, dt.date(2026, 4, 15))
    assert due.period is None
    assert (due.receipt_total_kopecks, due.amount_due_kopecks, due.debt_kopecks, due.lines) == (0, 0, 0, ())


async def test_amount_due_without_charges_counts_payments_as_a_prepayment(
    ledger: tuple[AsyncSession, Ledger],
) -> None:
    session, ids = ledger
    await session.execute(
        insert(Payment),
        [
            {"account_id": ids.empty, "paid_on": day, "amount_kopecks": kopecks, "channel": "bank",
             "purpose": purpose.value, "external_id": None}
            for day, kopecks, purpose in (
                (dt.date(2026, 4, 1), 30_000, U),
                (dt.date(2026, 4, 16), 10_000, U),  # after "today"
                (dt.date(2026, 4, 2), 5_000, CR),
            )
        ],
    )  # fmt: skip
    dues = await billing.amounts_due(session, ids.empty, dt.date(2026, 4, 15))
    utilities, capital = dues[U], dues[CR]
    assert (utilities.period, utilities.paid_since_kopecks, utilities.debt_kopecks) == (None, 30_000, -30_000)
    assert (utilities.receipt_total_kopecks, utilities.amount_due_kopecks, utilities.lines) == (0, 0, ())
    assert (capital.period, capital.paid_since_kopecks, capital.debt_kopecks) == (None, 5_000, -5_000)
    await session.rollback()


@pytest.mark.parametrize("today", [dt.date(2026, 3, 20), dt.date(2026, 4, 15), dt.date(2026, 5, 1)])
async def test_amounts_due_take_two_queries_and_agree_with_the_statement(
    ledger: tuple[AsyncSession, Ledger], today: dt.date
) -> None:
    """Both payees at once, in two queries; the receipt month's numbers are the statement's row.

    On 20 March the payment of 31 March is already printed on March's statement (it is dated within
    the month) although it is after today; payments after the month count only up to today.
    """
    session, ids = ledger
    period = await billing.last_receipt_period(session, ids.account)
    assert period == dt.date(2026, 3, 1)
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        dues = await billing.amounts_due_for_receipt(session, ids.account, period, today)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 2, statements

    for purpose in (U, CR):
        (month,) = await billing.monthly_statement(session, ids.account, period, period, purpose)
        due = dues[purpose]
        assert due == await (billing.amount_due if purpose is U else billing.capital_repair_due)(
            session, ids.account, today
        )
        assert (
            due.opening_kopecks,
            due.charged_kopecks,
            due.recalculation_kopecks,
            due.paid_in_period_kopecks,
        ) == (
            month.opening_kopecks,
            month.charged_kopecks,
            month.recalculation_kopecks,
            month.paid_kopecks,
        )
        assert due.receipt_total_kopecks == max(0, month.closing_kopecks)
        assert due.debt_kopecks == month.closing_kopecks - due.paid_since_kopecks
    expected_since = {dt.date(2026, 3, 20): 0, dt.date(2026, 4, 15): 50_000, dt.date(2026, 5, 1): 250_000}
    assert dues[U].paid_since_kopecks == expected_since[today]
    assert dues[U].paid_in_period_kopecks == 100_000  # the 31 March payment, whatever today is


async def test_statement_range_must_be_ordered(ledger: tuple[AsyncSession, Ledger]) -> None:
    session, ids = ledger
    with pytest.raises(ValueError):
        await billing.monthly_statement(session, ids.account, dt.date(2026, 3, 1), dt.date(2026, 2, 28), U)


# --- the demo building: identities over every account ------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo building, seeded once for the module (seeding hashes 30 passwords)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"

    async def seed() -> None:
        engine = await _engine(path)
        async with create_sessionmaker(engine)() as session:
            await seed_demo(session, ANCHOR)
            await session.commit()
        await engine.dispose()

    asyncio.run(seed())
    return path


@pytest.fixture
async def demo_engine(demo_db: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{demo_db}")
    yield engine
    await engine.dispose()


async def test_statement_identity_and_receipt_totals_on_demo_data(demo_engine: AsyncEngine) -> None:
    async with create_sessionmaker(demo_engine)() as session:
        account_ids = list((await session.execute(select(Account.id).order_by(Account.id))).scalars())
        assert len(account_ids) == 60
        for account_id in account_ids:
            statements = {
                purpose: await billing.monthly_statement(
                    session, account_id, dt.date(2023, 11, 1), dt.date(2026, 10, 31), purpose
                )
                for purpose in (U, CR)
            }
            for months in statements.values():
                assert len(months) == 36
                assert months[0].opening_kopecks == 0  # nothing before the history
                for month in months:
                    values = (
                        month.opening_kopecks,
                        month.charged_kopecks,
                        month.recalculation_kopecks,
                        month.paid_kopecks,
                        month.closing_kopecks,
                    )
                    assert all(type(v) is int for v in values)
                    assert month.charged_kopecks > 0
                    assert month.closing_kopecks == (
                        month.opening_kopecks
                        + month.charged_kopecks
                        + month.recalculation_kopecks
                        - month.paid_kopecks
                    )
                for previous, following in itertools.pairwise(months):
                    assert following.opening_kopecks == previous.closing_kopecks

            last = statements[U][-1]
            total = await billing.receipt_total(session, account_id, last.period)
            assert total == max(0, last.closing_kopecks)
            capital_total = await billing.capital_repair_total(session, account_id, last.period)
            assert capital_total == max(0, statements[CR][-1].closing_kopecks)

            # A statement for one month alone opens with the same balance (SQL sums of the history).
            (alone,) = await billing.monthly_statement(session, account_id, last.period, last.period, U)
            assert alone == last

            due = await billing.amount_due(session, account_id, ANCHOR)
            assert due.period == dt.date(2026, 10, 1)
            assert due.receipt_total_kopecks == total
            assert (
                sum(line.total_kopecks for line in due.lines)
                == last.charged_kopecks + last.recalculation_kopecks
            )
            assert all(line.service_code != "capital_repair" for line in due.lines)
            assert due.debt_kopecks == last.closing_kopecks - due.paid_since_kopecks


async def test_statement_costs_one_query_whatever_the_range(demo_engine: AsyncEngine) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async with create_sessionmaker(demo_engine)() as session:
        account_id = (await session.execute(select(Account.id).limit(1))).scalar_one()
        event.listen(demo_engine.sync_engine, "before_cursor_execute", count)
        try:
            months = await billing.monthly_statement(session, account_id, dt.date(2024, 1, 1), ANCHOR, U)
        finally:
            event.remove(demo_engine.sync_engine, "before_cursor_execute", count)
    assert len(months) == 35
    assert len(statements) == 1
