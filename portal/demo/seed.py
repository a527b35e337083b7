"""A deterministic demo data set: one building of 60 apartments with 36 months of history.

Everything comes from one ``random.Random`` with a fixed seed and integer arithmetic, so the same anchor
date gives the same accounts, readings, charges and payments on every machine (only the password hashes
differ: each has its own random salt). The history is the 36 complete months before the anchor's month;
the anchor's own month has no readings (residents submit them in the demo) and no charges, only the
payments made before the anchor day for the last receipt.

Each meter also has one baseline reading (source ``import``) in the month before the history starts, so
the first receipt can print a previous reading.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import random
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.demo.accounts import (
    APARTMENTS,
    BUILDING_ADDRESS,
    CAPITAL_REPAIR_FUND_NAME,
    DEBTORS_STOPPED_MONTHS_AGO,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    EXPIRED_VERIFICATION_APARTMENT,
    ROLLOVER_APARTMENT,
    VERIFICATION_SOON_APARTMENT,
    account_number,
    capital_repair_number,
    demo_email,
    is_registered,
)
from portal.exchange.service import import_paths
from portal.kit.clock import BILLING_TZ, add_months, month_start
from portal.models import (
    Account,
    Meter,
    Payee,
    PaymentChannel,
    PaymentPurpose,
    Reading,
    ReadingSource,
    ReadingStatus,
    ServiceBasis,
    User,
    UserAccount,
)
from portal.money import multiply_to_kopecks
from portal.receipts.payees import DEMO_PAYEES

#: The fixed seed: the people and their habits do not depend on the anchor, only the dates do.
DEMO_SEED = 35_012
HISTORY_MONTHS = 36


class DemoAlreadySeeded(RuntimeError):
    """The database already has accounts; seeding again would duplicate them."""


@dataclass(frozen=True)
class _ServiceSpec:
    code: str
    name: str
    unit: str
    basis: ServiceBasis
    price_kopecks: int  # the tariff on the first July 1 of the history (then indexed every July 1)
    payee: Payee = Payee.BILLING_CENTER
    norm_per_resident: Decimal | None = None
    implausible_monthly_limit: Decimal | None = None


_SERVICES: tuple[_ServiceSpec, ...] = (
    _ServiceSpec("maintenance", "Содержание общего имущества", "м²", ServiceBasis.AREA, 2850),
    _ServiceSpec("heating", "Отопление", "м²", ServiceBasis.AREA, 5480),
    _ServiceSpec(
        "cold_water", "Холодное водоснабжение", "м³", ServiceBasis.METER, 4890,
        norm_per_resident=Decimal("4.9"), implausible_monthly_limit=Decimal(30),
    ),
    _ServiceSpec(
        "hot_water", "Горячее водоснабжение", "м³", ServiceBasis.METER, 26540,
        norm_per_resident=Decimal("3.5"), implausible_monthly_limit=Decimal(30),
    ),
    _ServiceSpec(
        "wastewater", "Водоотведение", "м³", ServiceBasis.DERIVED, 4210, norm_per_resident=Decimal("8.4")
    ),
    _ServiceSpec(
        "electricity", "Электроснабжение", "кВт·ч", ServiceBasis.METER, 641,
        norm_per_resident=Decimal(100), implausible_monthly_limit=Decimal(2000),
    ),
    _ServiceSpec("solid_waste", "Обращение с ТКО", "чел.", ServiceBasis.RESIDENTS, 15520),
    _ServiceSpec(
        "capital_repair", "Взнос на капитальный ремонт", "м²", ServiceBasis.AREA, 1280,
        payee=Payee.CAPITAL_REPAIR_FUND,
    ),
)  # fmt: skip

#: Seasonal consumption in percent of the yearly average, January first (more light and hot water in
#: winter, a little more cold water in summer). Integers keep the data identical on every platform.
_SEASON_PERCENT: dict[str, tuple[int, ...]] = {
    "cold_water": (95, 95, 97, 100, 103, 106, 108, 106, 102, 98, 95, 95),
    "hot_water": (115, 113, 108, 102, 95, 85, 80, 85, 95, 105, 110, 115),
    "electricity": (132, 122, 110, 96, 86, 78, 78, 82, 94, 108, 122, 134),
}

_SURNAMES = (
    ("Иванов", "Иванова"), ("Смирнов", "Смирнова"), ("Кузнецов", "Кузнецова"), ("Попов", "Попова"),
    ("Соколов", "Соколова"), ("Лебедев", "Лебедева"), ("Козлов", "Козлова"), ("Новиков", "Новикова"),
    ("Морозов", "Морозова"), ("Волков", "Волкова"), ("Соловьёв", "Соловьёва"), ("Васильев", "Васильева"),
    ("Зайцев", "Зайцева"), ("Павлов", "Павлова"), ("Семёнов", "Семёнова"), ("Голубев", "Голубева"),
    ("Виноградов", "Виноградова"), ("Богданов", "Богданова"), ("Воробьёв", "Воробьёва"),
    ("Фёдоров", "Фёдорова"), ("Михайлов", "Михайлова"), ("Беляев", "Беляева"), ("Тарасов", "Тарасова"),
    ("Белов", "Белова"), ("Комаров", "Комарова"), ("Орлов", "Орлова"), ("Киселёв", "Киселёва"),
    ("Макаров", "Макарова"), ("Андреев", "Андреева"), ("Ковалёв", "Ковалёва"),
)  # fmt: skip
_MALE_NAMES = ("Александр", "Сергей", "Андрей", "Дмитрий", "Алексей", "Николай", "Владимир", "Михаил",
               "Игорь", "Евгений", "Павел", "Виктор", "Юрий", "Олег")  # fmt: skip
_FEMALE_NAMES = ("Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Анна", "Мария",
                 "Галина", "Людмила", "Екатерина", "Надежда", "Валентина", "Юлия")  # fmt: skip
_PATRONYMICS = (
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Иванович", "Ивановна"),
    ("Николаевич", "Николаевна"), ("Владимирович", "Владимировна"), ("Петрович", "Петровна"),
    ("Михайлович", "Михайловна"), ("Викторович", "Викторовна"), ("Юрьевич", "Юрьевна"),
    ("Васильевич", "Васильевна"), ("Анатольевич", "Анатольевна"), ("Геннадьевич", "Геннадьевна"),
)  # fmt: skip

_CHANNELS = (PaymentChannel.BANK, PaymentChannel.POST, PaymentChannel.CASH_DESK)
_CHANNEL_WEIGHTS = (65, 15, 20)


@dataclass
class _MeterPlan:
    service_code: str
    serial_number: str
    integer_digits: int
    decimals: int
    installed_on: dt.date
    next_verification_on: dt.date
    #: (period, value) from the baseline month through the last history month.
    readings: list[tuple[dt.date, Decimal]] = field(default_factory=list)


@dataclass
class _ApartmentPlan:
    apartment: int
    owner_name: str
    area_m2: Decimal
    residents: int
    meters: list[_MeterPlan] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)  # service_id filled on insert
    payments: list[dict[str, Any]] = field(default_factory=list)
    registered_at: dt.datetime | None = None
    reading_rows: list[dict[str, Any]] = field(default_factory=list)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29 in a non-leap year
        return day.replace(year=day.year + years, day=28)


def _moment(day: dt.date, rng: random.Random) -> dt.datetime:
    """A daytime moment of ``day`` at the billing center, stored in UTC."""
    local = dt.datetime.combine(day, dt.time(rng.randint(8, 21), rng.randint(0, 59)), BILLING_TZ)
    return local.astimezone(dt.UTC)


def _tariff_schedule(rng: random.Random, months: Sequence[dt.date]) -> dict[str, list[tuple[dt.date, int]]]:
    """Tariffs per service from the July 1 before the history, indexed by 9–11 % every July 1."""
    first = months[0]
    start = dt.date(first.year if first.month >= 7 else first.year - 1, 7, 1)
    changes = [start]
    while _add_years(changes[-1], 1) <= months[-1]:
        changes.append(_add_years(changes[-1], 1))
    schedule: dict[str, list[tuple[dt.date, int]]] = {}
    for spec in _SERVICES:
        price = spec.price_kopecks
        steps = [(start, price)]
        for valid_from in changes[1:]:
            basis_points = rng.randint(900, 1100)
            price = (price * (10_000 + basis_points) + 5_000) // 10_000
            steps.append((valid_from, price))
        schedule[spec.code] = steps
    return schedule


def _price_on(steps: list[tuple[dt.date, int]], period: dt.date) -> int:
    return [price for valid_from, price in steps if valid_from <= period][-1]


def _quantize(milli_units: int, decimals: int) -> Decimal:
    """Thousandths of a unit rounded to the meter's number of decimals."""
    return Decimal(milli_units).scaleb(-3).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def _owner_name(rng: random.Random) -> str:
    female = rng.random() < 0.5
    surname = rng.choice(_SURNAMES)[int(female)]
    name = rng.choice(_FEMALE_NAMES if female else _MALE_NAMES)
    patronymic = rng.choice(_PATRONYMICS)[int(female)]
    return f"{surname} {name} {patronymic}"


def _plan_meters(
    rng: random.Random, apartment: int, residents: int, anchor: dt.date, periods: Sequence[dt.date]
) -> tuple[list[_MeterPlan], dict[str, list[Decimal]]]:
    """The apartment's three meters with their readings, and each metered service's monthly volumes."""
    meters: list[_MeterPlan] = []
    consumption: dict[str, list[Decimal]] = {}
    for code in ("cold_water", "hot_water", "electricity"):
        if code == "electricity":
            digits = 6
            decimals = 0 if apartment == ROLLOVER_APARTMENT or rng.random() < 0.5 else 1
            installed = anchor - dt.timedelta(days=rng.randint(1_220, 4_400))
            next_verification = _add_years(installed, 16)
            serial = f"{rng.randint(10**10, 10**11 - 1)}"
            monthly_milli = (60 + residents * rng.randint(35, 60)) * 1_000
            baseline_milli = rng.randint(1_000, 60_000) * 1_000
        else:
            digits, decimals = 5, 3
            # Installed before the history; the 6-year verification then falls at least half a year
            # after the anchor, so only the special cases below warn or refuse.
            installed = anchor - dt.timedelta(days=rng.randint(1_220, 2_000))
            next_verification = _add_years(installed, 6)
            serial = f"{installed.year % 100:02d}-{rng.randint(100_000, 999_999)}"
            per_resident = rng.randint(2_300, 3_600) if code == "cold_water" else rng.randint(1_500, 2_600)
            monthly_milli = per_resident * residents
            baseline_milli = rng.randint(50_000, 900_000)

        if apartment == EXPIRED_VERIFICATION_APARTMENT and code == "hot_water":
            # Expired after the last reading (taken by the 25th) and before the anchor's month.
            next_verification = periods[-1].replace(day=26)
            installed = _add_years(next_verification, -6)
        if apartment == VERIFICATION_SOON_APARTMENT and code == "cold_water":
            next_verification = anchor + dt.timedelta(days=40)
            installed = _add_years(next_verification, -6)

        volumes = [
            _quantize(
                monthly_milli * _SEASON_PERCENT[code][period.month - 1] * rng.randint(88, 112) // 10_000,
                decimals,
            )
            for period in periods[1:]
        ]
        baseline = _quantize(baseline_milli, decimals)
        if apartment == ROLLOVER_APARTMENT and code == "electricity":
            # The last accepted reading lands at 999 9xx: the next one wraps past 999 999.
            baseline = Decimal(999_900 + rng.randint(10, 80)) - sum(volumes, Decimal(0))
        values = [baseline]
        for volume in volumes:
            values.append(values[-1] + volume)
        meters.append(
            _MeterPlan(
                code,
                serial,
                digits,
                decimals,
                installed,
                next_verification,
                list(zip(periods, values, strict=True)),
            )
        )
        consumption[code] = volumes
    return meters, consumption


def _plan_charges(
    rng: random.Random,
    plan: _ApartmentPlan,
    months: Sequence[dt.date],
    consumption: dict[str, list[Decimal]],
    tariffs: dict[str, list[tuple[dt.date, int]]],
) -> None:
    """Monthly charges of every service, and a recalculation for about a quarter of the apartments."""
    recalculation: tuple[int, str, int] | None = None
    if rng.random() < 0.3:
        # Heating and hot water are corrected downwards (quality, annual heat adjustment); maintenance
        # and cold water upwards (works approved by the owners, a faulty meter replaced).
        code = rng.choice(("heating", "hot_water", "maintenance", "cold_water"))
        sign = -1 if code in ("heating", "hot_water") else 1
        recalculation = (rng.randrange(len(months)), code, sign * rng.randint(5, 30))
    for index, period in enumerate(months):
        volumes = {
            "maintenance": plan.area_m2,
            "heating": plan.area_m2,
            "cold_water": consumption["cold_water"][index],
            "hot_water": consumption["hot_water"][index],
            "wastewater": consumption["cold_water"][index] + consumption["hot_water"][index],
            "electricity": consumption["electricity"][index],
            "solid_waste": Decimal(plan.residents),
            "capital_repair": plan.area_m2,
        }
        for spec in _SERVICES:
            price = _price_on(tariffs[spec.code], period)
            charged = multiply_to_kopecks(volumes[spec.code], price)
            recalc = 0
            if recalculation is not None and recalculation[:2] == (index, spec.code):
                recalc = charged * recalculation[2] // 100
            plan.charges.append(
                {
                    "service_code": spec.code,
                    "period": period,
                    "volume": volumes[spec.code],
                    "tariff_kopecks": price,
                    "charged_kopecks": charged,
                    "recalculation_kopecks": recalc,
                }
            )


def _plan_payments(
    rng: random.Random, plan: _ApartmentPlan, months: Sequence[dt.date], anchor: dt.date
) -> None:
    """Payments month by month: each month pays (or not) the previous month's receipt.

    Receipt totals are tracked with the same identity as :func:`portal.billing.service.monthly_statement`
    (closing = opening + charged + recalculation − paid), so "paid in full" really settles the receipt.
    """
    capital_codes = {s.code for s in _SERVICES if s.payee is Payee.CAPITAL_REPAIR_FUND}
    month_charges: dict[tuple[dt.date, bool], int] = {}
    for charge in plan.charges:
        key = (charge["period"], charge["service_code"] in capital_codes)
        month_charges[key] = (
            month_charges.get(key, 0) + charge["charged_kopecks"] + charge["recalculation_kopecks"]
        )

    # The documented accounts other than the debtors pay on time, so each shows only its own story.
    special = {demo.apartment for demo in DEMO_ACCOUNTS} - set(DEBTORS_STOPPED_MONTHS_AGO)
    if plan.apartment in DEBTORS_STOPPED_MONTHS_AGO:
        habit = "debtor"
    elif plan.apartment in special:
        habit = "regular"
    else:
        habit = rng.choices(("regular", "late", "partial", "round_up"), (55, 20, 12, 13))[0]
    capital_habit = (
        "regular"
        if plan.apartment in special
        else rng.choices(("regular", "irregular", "never"), (75, 15, 10))[0]
    )
    anchor_month = month_start(anchor)
    stopped = add_months(anchor_month, -DEBTORS_STOPPED_MONTHS_AGO.get(plan.apartment, 0))

    balances = {False: 0, True: 0}  # by "is capital repair"
    skipped = False
    for period in [*months, anchor_month]:
        if period == months[0]:
            paid = {False: 0, True: 0}  # no earlier receipt to pay
        else:
            due = {capital: max(0, balance) for capital, balance in balances.items()}
            day = period.replace(day=rng.randint(10, 25))
            paid = {False: 0, True: 0}
            if not (habit == "debtor" and period >= stopped):
                if habit == "late" and not skipped and rng.random() < 0.15:
                    skipped = True  # pays double next month: the next receipt includes this one
                elif habit == "partial" and rng.random() < 0.6:
                    paid[False] = due[False] * rng.randint(50, 90) // 100 // 100 * 100
                elif habit == "round_up":
                    paid[False] = -(-due[False] // 10_000) * 10_000  # up to whole hundreds of rubles
                else:
                    skipped = False
                    paid[False] = due[False]
                if capital_habit == "regular" or (capital_habit == "irregular" and rng.random() < 0.35):
                    paid[True] = due[True]
            channel = rng.choices(_CHANNELS, _CHANNEL_WEIGHTS)[0]
            for capital, amount in paid.items():
                # Payments on or after the anchor day have not happened yet.
                if amount <= 0 or day >= anchor:
                    paid[capital] = 0
                    continue
                plan.payments.append(
                    {
                        "paid_on": day,
                        "amount_kopecks": amount,
                        "channel": channel.value,
                        "purpose": (
                            PaymentPurpose.CAPITAL_REPAIR if capital else PaymentPurpose.UTILITIES
                        ).value,
                        "external_id": None,
                    }
                )
        for capital in (False, True):
            balances[capital] += month_charges.get((period, capital), 0) - paid[capital]


def _plan_apartment(
    rng: random.Random,
    apartment: int,
    anchor: dt.date,
    months: Sequence[dt.date],
    tariffs: dict[str, list[tuple[dt.date, int]]],
) -> _ApartmentPlan:
    area = Decimal(rng.randint(3_000, 9_000)).scaleb(-2)
    residents = rng.randint(1, min(5, 1 + int(area) // 20))
    plan = _ApartmentPlan(apartment, _owner_name(rng), area, residents)
    periods = [add_months(months[0], -1), *months]  # the baseline reading's month first
    plan.meters, consumption = _plan_meters(rng, apartment, residents, anchor, periods)
    _plan_charges(rng, plan, months, consumption, tariffs)
    _plan_payments(rng, plan, months, anchor)
    if is_registered(apartment):
        plan.registered_at = _moment(anchor - dt.timedelta(days=rng.randint(30, 700)), rng)
    return plan


def _reading_rows(rng: random.Random, plan: _ApartmentPlan) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for meter in plan.meters:
        for position, (period, value) in enumerate(meter.readings):
            submitted_at = _moment(period.replace(day=rng.randint(15, 25)), rng)
            if position == 0:
                source = ReadingSource.IMPORT  # the baseline, loaded from the previous system
            elif plan.registered_at is not None and submitted_at >= plan.registered_at:
                source = rng.choices((ReadingSource.RESIDENT, ReadingSource.IMPORT), (75, 25))[0]
            else:
                source = rng.choices(
                    (ReadingSource.IMPORT, ReadingSource.WITHOUT_LOGIN, ReadingSource.INSPECTOR),
                    (60, 28, 12),
                )[0]
            rows.append(
                {
                    "serial": meter.serial_number,
                    "period": period,
                    "value": value,
                    "submitted_at": submitted_at,
                    "source": source.value,
                    "status": ReadingStatus.ACCEPTED.value,
                    "replaced_by_id": None,
                    "rollover": False,
                    "needs_review": False,
                }
            )
    return rows


_PORTAL_SOURCES = {ReadingSource.RESIDENT.value, ReadingSource.WITHOUT_LOGIN.value}
_COLLECTORS = {
    PaymentChannel.BANK.value: "demo_bank",
    PaymentChannel.POST.value: "russian_post",
    PaymentChannel.CASH_DESK.value: "cash_desk",
}


def _rubles(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    return f"{sign}{rubles},{kop:02d}"


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f").replace(".", ",")


def _write(path: Path, header: str, lines: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        writer.writerow(header.split(";"))
        writer.writerows(lines)


def _write_region(
    directory: Path, plans: Sequence[_ApartmentPlan], tariffs: dict[str, list[tuple[dt.date, int]]]
) -> None:
    """The demo building as the billing center's files (docs/exchange.md)."""
    _write(
        directory / "payees.csv",
        "code;name;short_name;inn;kpp;account;bank;bic;correspondent_account;address;phone",
        [
            (
                code.value,
                p.name,
                p.short_name,
                p.inn,
                p.kpp,
                p.account,
                p.bank_name,
                p.bic,
                p.correspondent_account,
                p.address,
                p.phone,
            )
            for code, p in DEMO_PAYEES.items()
        ],
    )
    _write(
        directory / "services.csv",
        "code;name;unit;basis;payee;norm_per_resident;implausible_limit;sort_order",
        [
            (
                spec.code,
                spec.name,
                spec.unit,
                spec.basis.value,
                spec.payee.value,
                _number(spec.norm_per_resident),
                _number(spec.implausible_monthly_limit),
                (position + 1) * 10,
            )
            for position, spec in enumerate(_SERVICES)
        ],
    )
    _write(
        directory / "tariffs.csv",
        "service;valid_from;price",
        [
            (code, f"{valid_from:%d.%m.%Y}", _rubles(price))
            for code, steps in tariffs.items()
            for valid_from, price in steps
        ],
    )
    _write(
        directory / "accounts.csv",
        "account;address;apartment;area;residents;owner",
        [
            (
                account_number(plan.apartment),
                BUILDING_ADDRESS,
                plan.apartment,
                _number(plan.area_m2),
                plan.residents,
                plan.owner_name,
            )
            for plan in plans
        ],
    )
    _write(
        directory / "capital_repair.csv",
        "account;fund_account;fund_name",
        [
            (account_number(plan.apartment), capital_repair_number(plan.apartment), CAPITAL_REPAIR_FUND_NAME)
            for plan in plans
        ],
    )
    _write(
        directory / "meters.csv",
        "account;service;serial;digits;decimals;installed;verification",
        [
            (
                account_number(plan.apartment),
                meter.service_code,
                meter.serial_number,
                meter.integer_digits,
                meter.decimals,
                f"{meter.installed_on:%d.%m.%Y}",
                f"{meter.next_verification_on:%d.%m.%Y}",
            )
            for plan in plans
            for meter in plan.meters
        ],
    )
    _write(
        directory / "charges.csv",
        "account;month;service;volume;tariff;charged;recalculation",
        [
            (
                account_number(plan.apartment),
                f"{charge['period']:%Y-%m}",
                charge["service_code"],
                _number(charge["volume"]),
                _rubles(charge["tariff_kopecks"]),
                _rubles(charge["charged_kopecks"]),
                _rubles(charge["recalculation_kopecks"]),
            )
            for plan in plans
            for charge in plan.charges
        ],
    )
    _write(
        directory / "payments.csv",
        "date;amount;account;purpose;collector;reference;channel",
        [
            (
                f"{payment['paid_on']:%d.%m.%Y}",
                _rubles(payment["amount_kopecks"]),
                capital_repair_number(plan.apartment) if capital else account_number(plan.apartment),
                payment["purpose"],
                _COLLECTORS[payment["channel"]],
                f"{account_number(plan.apartment)}-{payment['paid_on']:%Y%m%d}-{'k' if capital else 'u'}",
                payment["channel"],
            )
            for plan in plans
            for payment in plan.payments
            for capital in [payment["purpose"] == PaymentPurpose.CAPITAL_REPAIR.value]
        ],
    )
    _write(
        directory / "readings.csv",
        "account;serial;month;value;taken_at;source",
        [
            (
                account_number(plan.apartment),
                row["serial"],
                f"{row['period']:%Y-%m}",
                _number(row["value"]),
                row["submitted_at"].isoformat(),
                "controller" if row["source"] == "inspector" else row["source"],
            )
            for plan in plans
            for row in plan.reading_rows
            if row["source"] not in _PORTAL_SOURCES
        ],
    )


async def seed_demo(
    session: AsyncSession, anchor: dt.date, *, password_hasher: PasswordHasher | None = None
) -> None:
    """Fill an empty database with the demo building; the caller commits.

    ``anchor`` is the demo's "today": the history is the 36 months before its month. Raises
    :class:`DemoAlreadySeeded` when accounts exist. ``password_hasher`` defaults to argon2id at the
    portal's cost; the registered accounts' password is :data:`portal.demo.accounts.DEMO_PASSWORD`.
    """
    if (await session.execute(select(Account.id).limit(1))).first() is not None:
        raise DemoAlreadySeeded("The database already has accounts: the demo data is seeded only once.")
    rng = random.Random(DEMO_SEED)
    anchor_month = month_start(anchor)
    months = [add_months(anchor_month, offset) for offset in range(-HISTORY_MONTHS, 0)]
    tariffs = _tariff_schedule(rng, months)
    plans = [_plan_apartment(rng, n, anchor, months, tariffs) for n in range(1, APARTMENTS + 1)]
    for plan in plans:
        plan.reading_rows = _reading_rows(rng, plan)

    with tempfile.TemporaryDirectory(prefix="kabinet-demo-") as directory:
        _write_region(Path(directory), plans, tariffs)
        report = await import_paths(session, [Path(directory)], operator="demo-seed")
    if report.status != "imported":  # pragma: no cover - the demo's own files are always valid
        raise RuntimeError("the demo's files were refused: " + "; ".join(map(str, report.errors[:5])))

    numbers = [account_number(plan.apartment) for plan in plans]
    found = await session.execute(select(Account.number, Account.id).where(Account.number.in_(numbers)))
    account_by_number = {number: account_id for number, account_id in found.tuples()}
    account_ids = [account_by_number[number] for number in numbers]
    meter_by_key = {
        (account_id, serial): meter_id
        for meter_id, account_id, serial in (
            await session.execute(
                select(Meter.id, Meter.account_id, Meter.serial_number).where(
                    Meter.account_id.in_(account_ids)
                )
            )
        ).tuples()
    }
    # Readings the residents submitted through the portal are the portal's own data, not the billing
    # center's: they are written directly. The others went through the import's readings file.
    portal_readings: list[dict[str, Any]] = []
    for plan, account_id in zip(plans, account_ids, strict=True):
        for row in plan.reading_rows:
            if row["source"] in _PORTAL_SOURCES:
                meter_id = meter_by_key[(account_id, row["serial"])]
                portal_readings.append(
                    {key: value for key, value in row.items() if key != "serial"} | {"meter_id": meter_id}
                )
    if portal_readings:
        await session.execute(insert(Reading), portal_readings)

    registered = [
        (plan, account_id) for plan, account_id in zip(plans, account_ids, strict=True) if plan.registered_at
    ]
    hasher = password_hasher or PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
    # argon2 takes ~20 ms a hash: run them in a thread so the event loop is not held for a second.
    hashes = await asyncio.to_thread(lambda: [hasher.hash(DEMO_PASSWORD) for _ in registered])
    await session.execute(
        insert(User),
        [
            {
                "account_id": account_id,
                "email": demo_email(plan.apartment),
                "password_hash": password_hash,
                "created_at": plan.registered_at,
                "password_changed_at": plan.registered_at,
            }
            for (plan, account_id), password_hash in zip(registered, hashes, strict=True)
        ],
    )
    # Every login works on its own account (portal.models.UserAccount).
    await session.execute(
        insert(UserAccount).from_select(
            ["user_id", "account_id", "attached_at"], select(User.id, User.account_id, User.created_at)
        )
    )
    await session.flush()
