"""The demo data set: deterministic, consistent with billing, and with the documented special accounts."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from portal.billing import service as billing
from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAlreadySeeded, describe_demo_accounts, seed_demo
from portal.demo.accounts import (
    DEBTORS_STOPPED_MONTHS_AGO,
    EXPIRED_VERIFICATION_APARTMENT,
    HAPPY_PATH_APARTMENT,
    ROLLOVER_APARTMENT,
    VERIFICATION_SOON_APARTMENT,
    account_number,
)
from portal.kit.clock import add_months
from portal.kit.db import Base, create_engine, create_sessionmaker
from portal.models import (
    Account,
    CapitalRepairAccount,
    Charge,
    Meter,
    Payment,
    PaymentPurpose,
    Reading,
    Service,
    Tariff,
    User,
)
from portal.money import multiply_to_kopecks

ANCHOR = dt.date(2026, 11, 25)
FIRST_MONTH = dt.date(2023, 11, 1)
LAST_MONTH = dt.date(2026, 10, 1)


async def _seeded_engine(path: Path, anchor: dt.date = ANCHOR) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with create_sessionmaker(engine)() as session:
        await seed_demo(session, anchor)
        await session.commit()
    return engine


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded file for the module: seeding hashes 30 passwords, so it is done once."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"

    async def seed() -> None:
        await (await _seeded_engine(path)).dispose()

    asyncio.run(seed())
    return path


@pytest.fixture
async def session(demo_db: Path) -> AsyncIterator[AsyncSession]:
    # Tests only read; whatever a test might write is rolled back when the session closes uncommitted.
    engine = create_engine(f"sqlite+aiosqlite:///{demo_db}")
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def _account_id(session: AsyncSession, apartment: int) -> int:
    stmt = select(Account.id).where(Account.number == account_number(apartment))
    return (await session.execute(stmt)).scalar_one()


async def _meters(session: AsyncSession, apartment: int) -> dict[str, Meter]:
    stmt = (
        select(Service.code, Meter)
        .join(Service, Service.id == Meter.service_id)
        .where(Meter.account_id == await _account_id(session, apartment))
    )
    return {code: meter for code, meter in (await session.execute(stmt)).tuples()}


async def _snapshot(session: AsyncSession) -> dict[str, Any]:
    """Everything the seed decides, without database ids and password hashes (salted)."""
    numbers = select(Account.number, Account.id).subquery()
    return {
        "accounts": (
            await session.execute(
                select(
                    Account.number, Account.owner_name, Account.area_m2, Account.residents, Account.address
                ).order_by(Account.number)
            )
        ).all(),
        "capital": (
            await session.execute(select(CapitalRepairAccount.number).order_by(CapitalRepairAccount.number))
        ).all(),
        "tariffs": (
            await session.execute(
                select(Service.code, Tariff.valid_from, Tariff.price_kopecks)
                .join(Service, Service.id == Tariff.service_id)
                .order_by(Service.code, Tariff.valid_from)
            )
        ).all(),
        "meters": (
            await session.execute(
                select(numbers.c.number, Meter.serial_number, Meter.decimals, Meter.next_verification_on)
                .join(numbers, numbers.c.id == Meter.account_id)
                .order_by(numbers.c.number, Meter.serial_number)
            )
        ).all(),
        "readings": (
            await session.execute(
                select(
                    Meter.serial_number, Reading.period, Reading.value, Reading.source, Reading.submitted_at
                )
                .join(Meter, Meter.id == Reading.meter_id)
                .order_by(Meter.serial_number, Reading.period)
            )
        ).all(),
        "charges": (
            await session.execute(
                select(
                    numbers.c.number,
                    Charge.period,
                    Charge.volume,
                    Charge.charged_kopecks,
                    Charge.recalculation_kopecks,
                )
                .join(numbers, numbers.c.id == Charge.account_id)
                .order_by(numbers.c.number, Charge.period, Charge.service_id)
            )
        ).all(),
        "payments": (
            await session.execute(
                select(
                    numbers.c.number,
                    Payment.paid_on,
                    Payment.amount_kopecks,
                    Payment.purpose,
                    Payment.channel,
                )
                .join(numbers, numbers.c.id == Payment.account_id)
                .order_by(numbers.c.number, Payment.paid_on, Payment.purpose)
            )
        ).all(),
        "users": (await session.execute(select(User.email, User.created_at).order_by(User.email))).all(),
        "described": await describe_demo_accounts(session),
    }


async def test_same_anchor_gives_identical_data(tmp_path: Path, session: AsyncSession) -> None:
    first = await _snapshot(session)
    engine = await _seeded_engine(tmp_path / "again.sqlite3")
    try:
        async with create_sessionmaker(engine)() as other:
            second = await _snapshot(other)
    finally:
        await engine.dispose()
    assert len(first["accounts"]) == 60
    assert len(first["readings"]) == 60 * 3 * 37  # 36 months plus the baseline reading
    assert len(first["charges"]) == 60 * 8 * 36
    for key in first:
        assert first[key] == second[key], key


async def test_seeding_twice_is_refused(session: AsyncSession) -> None:
    with pytest.raises(DemoAlreadySeeded):
        await seed_demo(session, ANCHOR)
    assert (await session.execute(select(func.count(Account.id)))).scalar_one() == 60


async def test_accounts_and_services(session: AsyncSession) -> None:
    accounts = (await session.execute(select(Account))).scalars().all()
    assert sorted(a.number for a in accounts) == [account_number(n) for n in range(1, 61)]
    for account in accounts:
        assert len(account.number) == 10 and account.number.isdigit()
        assert Decimal(30) <= account.area_m2 <= Decimal(90)
        assert account.area_m2 == account.area_m2.quantize(Decimal("0.01"))
        assert 1 <= account.residents <= 5
        assert account.address.startswith("г. Вологда, ул. Ленина, д. 12, кв. ")
    capital = (await session.execute(select(CapitalRepairAccount))).scalars().all()
    assert len({c.number for c in capital}) == 60
    assert all(len(c.number) == 12 and c.fund_name == "ФКР МКД ВО" for c in capital)

    services = {s.code: s for s in (await session.execute(select(Service))).scalars()}
    assert services["capital_repair"].payee == "capital_repair_fund"
    assert {s.payee for code, s in services.items() if code != "capital_repair"} == {"billing_center"}
    assert services["cold_water"].implausible_monthly_limit == Decimal(30)
    assert services["electricity"].implausible_monthly_limit == Decimal(2000)
    assert len({s.sort_order for s in services.values()}) == len(services)


async def test_tariffs_are_indexed_every_july(session: AsyncSession) -> None:
    rows = (await session.execute(select(Tariff).order_by(Tariff.service_id, Tariff.valid_from))).scalars()
    by_service: dict[int, list[Tariff]] = defaultdict(list)
    for tariff in rows:
        by_service[tariff.service_id].append(tariff)
    assert len(by_service) == 8
    for steps in by_service.values():
        assert [t.valid_from for t in steps] == [dt.date(y, 7, 1) for y in (2023, 2024, 2025, 2026)]
        for before, after in itertools.pairwise(steps):
            assert type(after.price_kopecks) is int
            growth = Decimal(after.price_kopecks) / before.price_kopecks
            assert Decimal("1.085") <= growth <= Decimal("1.115")


async def test_readings_respect_meters_and_periods(session: AsyncSession) -> None:
    meters = {m.id: m for m in (await session.execute(select(Meter))).scalars()}
    readings = (await session.execute(select(Reading).order_by(Reading.meter_id, Reading.period))).scalars()
    by_meter: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_meter[reading.meter_id].append(reading)
    assert set(by_meter) == set(meters)
    for meter_id, history in by_meter.items():
        meter = meters[meter_id]
        assert [r.period for r in history] == [add_months(FIRST_MONTH, k) for k in range(-1, 36)]
        assert all(r.status == "accepted" for r in history)
        values = [r.value for r in history]
        assert values == sorted(values)
        for value in values:
            assert value == value.quantize(Decimal(1).scaleb(-meter.decimals))
            assert 0 <= value < 10**meter.integer_digits
        for reading in history:
            assert 15 <= reading.submitted_at.day <= 26  # the 15th–25th in Moscow time (UTC may differ)
    # The anchor's own month is left for the residents to submit.
    assert not any(r.period >= dt.date(2026, 11, 1) for h in by_meter.values() for r in h)


async def test_charges_follow_readings_and_tariffs(session: AsyncSession) -> None:
    account_id = await _account_id(session, HAPPY_PATH_APARTMENT)
    account = await session.get(Account, account_id)
    assert account is not None
    meters = await _meters(session, HAPPY_PATH_APARTMENT)
    stmt = (
        select(Service.code, Charge)
        .join(Service, Service.id == Charge.service_id)
        .where(Charge.account_id == account_id, Charge.period == LAST_MONTH)
    )
    charges = {code: charge for code, charge in (await session.execute(stmt)).tuples()}
    assert len(charges) == 8

    async def consumption(code: str) -> Decimal:
        stmt = (
            select(Reading.value)
            .where(Reading.meter_id == meters[code].id)
            .order_by(Reading.period.desc())
            .limit(2)
        )
        current, previous = (await session.execute(stmt)).scalars().all()
        return current - previous

    for code in ("cold_water", "hot_water", "electricity"):
        assert charges[code].volume == await consumption(code)
    assert charges["wastewater"].volume == charges["cold_water"].volume + charges["hot_water"].volume
    assert charges["heating"].volume == account.area_m2
    assert charges["capital_repair"].volume == account.area_m2
    assert charges["solid_waste"].volume == account.residents
    for charge in charges.values():
        assert type(charge.charged_kopecks) is int
        assert charge.charged_kopecks == multiply_to_kopecks(charge.volume, charge.tariff_kopecks)

    # Hot water and electricity are seasonal: January uses more than July across the building.
    for code in ("hot_water", "electricity"):
        seasonal = (
            select(Charge.period, func.sum(Charge.volume))
            .join(Service, Service.id == Charge.service_id)
            .where(Service.code == code, Charge.period.in_([dt.date(2026, 1, 1), dt.date(2026, 7, 1)]))
            .group_by(Charge.period)
        )
        volumes = dict((await session.execute(seasonal)).tuples().all())
        assert volumes[dt.date(2026, 1, 1)] > volumes[dt.date(2026, 7, 1)] * Decimal("1.2")


async def test_recalculations_and_payments(session: AsyncSession) -> None:
    recalcs = (
        (await session.execute(select(Charge.recalculation_kopecks).where(Charge.recalculation_kopecks != 0)))
        .scalars()
        .all()
    )
    assert any(r < 0 for r in recalcs) and any(r > 0 for r in recalcs)
    assert len(recalcs) < 40  # a few, not everywhere

    payments = (await session.execute(select(Payment))).scalars().all()
    assert all(p.paid_on < ANCHOR and p.amount_kopecks > 0 for p in payments)
    assert all(type(p.amount_kopecks) is int for p in payments)
    assert {p.channel for p in payments} == {"bank", "post", "cash_desk"}
    assert {p.purpose for p in payments} == {"utilities", "capital_repair"}
    # Payments settle the previous month's receipt: none in the first month of the history.
    assert min(p.paid_on for p in payments) >= dt.date(2023, 12, 10)


async def test_special_meters(session: AsyncSession) -> None:
    meters = (await session.execute(select(Meter))).scalars().all()
    expired = [m for m in meters if m.next_verification_on < ANCHOR]
    soon = [m for m in meters if ANCHOR <= m.next_verification_on <= ANCHOR + dt.timedelta(days=60)]
    assert [m.account_id for m in expired] == [await _account_id(session, EXPIRED_VERIFICATION_APARTMENT)]
    assert [m.account_id for m in soon] == [await _account_id(session, VERIFICATION_SOON_APARTMENT)]

    # The expired meter's last reading was still taken before its verification date.
    last_reading = (
        (
            await session.execute(
                select(Reading.submitted_at)
                .where(Reading.meter_id == expired[0].id)
                .order_by(Reading.period.desc())
            )
        )
        .scalars()
        .first()
    )
    assert last_reading is not None and last_reading.date() < expired[0].next_verification_on

    electricity = (await _meters(session, ROLLOVER_APARTMENT))["electricity"]
    assert (electricity.integer_digits, electricity.decimals) == (6, 0)
    last_value = (
        (
            await session.execute(
                select(Reading.value)
                .where(Reading.meter_id == electricity.id)
                .order_by(Reading.period.desc())
            )
        )
        .scalars()
        .first()
    )
    assert last_value is not None and Decimal(999_900) <= last_value <= Decimal(999_999)
    assert {m.decimals for m in meters if m.integer_digits == 6} == {0, 1}


async def test_happy_path_account(session: AsyncSession) -> None:
    first_registered = next(d for d in DEMO_ACCOUNTS if d.password is not None)
    assert first_registered.apartment == HAPPY_PATH_APARTMENT
    assert first_registered.password == DEMO_PASSWORD
    assert len(DEMO_PASSWORD) >= 8

    account_id = await _account_id(session, HAPPY_PATH_APARTMENT)
    meters = await _meters(session, HAPPY_PATH_APARTMENT)
    assert set(meters) == {"cold_water", "hot_water", "electricity"}
    assert all(m.next_verification_on > ANCHOR + dt.timedelta(days=60) for m in meters.values())
    assert all(m.integer_digits == 6 or m.decimals == 3 for m in meters.values())

    user = (await session.execute(select(User).where(User.account_id == account_id))).scalar_one()
    assert user.email == "kv7@demo.kabinet.local"
    assert PasswordHasher().verify(user.password_hash, DEMO_PASSWORD)
    assert user.password_hash.startswith("$argon2id$")

    due = await billing.amount_due(session, account_id, ANCHOR)
    assert due.period == LAST_MONTH
    assert due.opening_kopecks == due.paid_in_period_kopecks  # paid September's receipt in full
    assert due.receipt_total_kopecks == due.charged_kopecks + due.recalculation_kopecks


async def test_registered_users(session: AsyncSession) -> None:
    users = (await session.execute(select(User))).scalars().all()
    assert 25 <= len(users) <= 35
    assert len({u.password_hash for u in users}) == len(users)  # each hash has its own salt
    assert all(u.email.startswith("kv") and u.email.endswith("@demo.kabinet.local") for u in users)


async def test_debtors_owe_more_than_a_month(session: AsyncSession) -> None:
    assert 3 <= len(DEBTORS_STOPPED_MONTHS_AGO) <= 4
    for apartment, months in DEBTORS_STOPPED_MONTHS_AGO.items():
        account_id = await _account_id(session, apartment)
        due = await billing.amount_due(session, account_id, ANCHOR)
        assert due.debt_kopecks > (months - 1) * due.charged_kopecks // 2
        assert due.amount_due_kopecks == due.debt_kopecks
        stopped = add_months(dt.date(2026, 11, 1), -months)
        paid_since = (
            await session.execute(
                select(func.count(Payment.id)).where(
                    Payment.account_id == account_id, Payment.paid_on >= stopped
                )
            )
        ).scalar_one()
        assert paid_since == 0


async def test_describe_demo_accounts(session: AsyncSession) -> None:
    described = await describe_demo_accounts(session)
    assert [d["account_number"] for d in described] == [d.account_number for d in DEMO_ACCOUNTS]
    assert described[0]["registered"] is True and described[0]["password"] == DEMO_PASSWORD
    unregistered = [d for d in described if not d["registered"]]
    assert len(unregistered) >= 2
    for entry in described:
        assert entry["purpose_ru"] and entry["purpose_en"]
        if entry["registered"]:
            assert entry["receipt_total"] is None
            continue
        assert entry["password"] is None
        assert entry["last_receipt_period"] == LAST_MONTH.isoformat()
        account_id = (
            await session.execute(select(Account.id).where(Account.number == entry["account_number"]))
        ).scalar_one()
        expected = await billing.receipt_total(session, account_id, LAST_MONTH)
        assert expected > 0
        assert entry["receipt_total_kopecks"] == expected
        assert isinstance(entry["receipt_total"], str)
        assert Decimal(entry["receipt_total"]) * 100 == expected
        # The registration total leaves the capital repair contribution out.
        (utilities,) = await billing.monthly_statement(
            session, account_id, LAST_MONTH, LAST_MONTH, PaymentPurpose.UTILITIES
        )
        assert expected == utilities.closing_kopecks
        assert await billing.capital_repair_total(session, account_id, LAST_MONTH) > 0


async def test_other_anchor_moves_the_history(tmp_path: Path) -> None:
    engine = await _seeded_engine(tmp_path / "march.sqlite3", dt.date(2025, 3, 3))
    try:
        async with create_sessionmaker(engine)() as session:
            account_id = await _account_id(session, HAPPY_PATH_APARTMENT)
            periods = await billing.receipt_periods(session, account_id)
            assert periods[0] == dt.date(2025, 2, 1) and periods[-1] == dt.date(2022, 3, 1)
            assert len(periods) == 36
            last_paid = (await session.execute(select(func.max(Payment.paid_on)))).scalar_one()
            assert last_paid < dt.date(2025, 3, 3)
    finally:
        await engine.dispose()
