"""The billing center's import at a region's scale, on PostgreSQL, beside the raw COPY of the same rows.

Generates a region as exchange files (docs/exchange.md; deterministic, any size: per account 3 meters,
8 charge lines, an opening balance, one payment and 3 readings), creates its own database, and runs
``kabinet-portal import`` on it three times in a subprocess: the first import, the same files again
(nothing changes: every kind is recognised as unchanged and left alone), and the same files with
``--no-skip`` (every line staged, checked and compared with the database; nothing is written). For
each it prints the wall time, rows per second and the importer's peak RSS. As
the baseline measured in the same run, the same files are loaded with plain ``COPY … FROM STDIN
(FORMAT csv)`` into unlogged text tables (no parsing, no checks, no merge): the floor of any import.

Issue 12's targets for 500 000 accounts on a 2-core machine: import < 5 min, repetition < 1 min,
importer memory < 300 MB. Prints figures, asserts nothing::

    .venv/bin/python bench/exchange.py --accounts 50000 [--url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, TextIO

ROOT = Path(__file__).resolve().parent.parent

SERVICES = (
    ("maintenance", "Содержание общего имущества", "м²", "area", "billing_center", 3135),
    ("heating", "Отопление", "м²", "area", "billing_center", 6028),
    ("cold_water", "Холодное водоснабжение", "м³", "meter", "billing_center", 5379),
    ("hot_water", "Горячее водоснабжение", "м³", "meter", "billing_center", 29194),
    ("wastewater", "Водоотведение", "м³", "derived", "billing_center", 4631),
    ("electricity", "Электроснабжение", "кВт·ч", "meter", "billing_center", 705),
    ("solid_waste", "Обращение с ТКО", "чел.", "residents", "billing_center", 17072),
    ("capital_repair", "Взнос на капитальный ремонт", "м²", "area", "capital_repair_fund", 1408),
)
MONTH = dt.date(2026, 10, 1)


def _rub(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    return f"{sign}{abs(kopecks) // 100},{abs(kopecks) % 100:02d}"


class RowWriter(Protocol):
    """What ``csv.writer`` gives: one row at a time."""

    def writerow(self, row: Iterable[object], /) -> object: ...


def _writer(path: Path, header: str) -> tuple[TextIO, RowWriter]:
    stream = path.open("w", encoding="utf-8", newline="")
    writer = csv.writer(stream, delimiter=";", lineterminator="\n")
    writer.writerow(header.split(";"))
    return stream, writer


def write_region(directory: Path, accounts: int, *, first_number: int = 7_000_000_000) -> dict[str, int]:
    """The region's files in ``directory``; returns the lines written per kind. Deterministic."""
    from portal.receipts.payees import DEMO_PAYEES

    directory.mkdir(parents=True, exist_ok=True)
    lines: dict[str, int] = {}
    stream, writer = _writer(
        directory / "payees.csv", "code;name;short_name;inn;kpp;account;bank;bic;correspondent_account"
    )
    for payee_code, p in DEMO_PAYEES.items():
        writer.writerow(
            (
                payee_code.value,
                p.name,
                p.short_name,
                p.inn,
                p.kpp,
                p.account,
                p.bank_name,
                p.bic,
                p.correspondent_account,
            )
        )
    stream.close()
    stream, writer = _writer(directory / "services.csv", "code;name;unit;basis;payee;sort_order")
    for position, (code, name, unit, basis, payee, _) in enumerate(SERVICES):
        writer.writerow((code, name, unit, basis, payee, (position + 1) * 10))
    stream.close()
    files = {
        kind: _writer(directory / f"{kind}.csv", header)
        for kind, header in (
            ("accounts", "account;address;apartment;area;residents;owner"),
            ("capital_repair", "account;fund_account;fund_name"),
            ("meters", "account;service;serial;digits;decimals;installed;verification"),
            ("balances", "account;month;payee;opening"),
            ("charges", "account;month;service;volume;tariff;charged;recalculation;penalties"),
            ("payments", "date;amount;account;purpose;collector;reference;channel"),
            ("readings", "account;serial;month;value;taken_at;source"),
        )
    }
    counts = dict.fromkeys(files, 0)
    month = f"{MONTH:%Y-%m}"
    for index in range(accounts):
        number = str(first_number + index)
        house, flat = divmod(index, 120)
        area_cents = 3_000 + (index * 7_919) % 6_000
        residents = 1 + index % 4
        w = {kind: writer for kind, (_, writer) in files.items()}
        w["accounts"].writerow(
            (
                number,
                f"г. Вологда, ул. Генеральная, д. {house + 1}",
                flat + 1,
                _rub(area_cents),
                residents,
                f"Жилец {index} Тестович",
            )
        )
        w["capital_repair"].writerow((number, f"35{number}", "ФКР МКД ВО"))
        w["balances"].writerow((number, month, "billing_center", _rub((index * 1_237) % 500_000 - 100_000)))
        volumes = {
            "cold_water": 3_000 + index % 5_000,
            "hot_water": 2_000 + index % 3_000,
            "electricity": 150_000 + index % 200_000,
        }
        for service, decimals, digits in (("cold_water", 3, 5), ("hot_water", 3, 5), ("electricity", 0, 6)):
            serial = f"{service[:1].upper()}{index:09d}"
            w["meters"].writerow((number, service, serial, digits, decimals, "15.03.2021", "15.03.2031"))
            value = 10_000 + (index * 31) % 80_000
            w["readings"].writerow(
                (
                    number,
                    serial,
                    month,
                    f"{value},{index % 1000:03d}" if decimals else str(value),
                    "24.10.2026 10:15",
                    "remote",
                )
            )
        total = 0
        for code, _, _, basis, _, price in SERVICES:
            if basis == "area":
                volume_milli = area_cents * 10
            elif basis == "residents":
                volume_milli = residents * 1000
            elif basis == "derived":
                volume_milli = volumes["cold_water"] + volumes["hot_water"]
            else:
                volume_milli = volumes[code]
            charged = (volume_milli * price + 500) // 1000
            total += charged
            volume = f"{volume_milli // 1000},{volume_milli % 1000:03d}"
            w["charges"].writerow((number, month, code, volume, _rub(price), _rub(charged), "0,00", "0,00"))
        w["payments"].writerow(
            ("12.10.2026", _rub(total), number, "utilities", "sberbank", f"SB{index:010d}", "bank")
        )
        counts["accounts"] += 1
        counts["capital_repair"] += 1
        counts["balances"] += 1
        counts["meters"] += 3
        counts["readings"] += 3
        counts["charges"] += len(SERVICES)
        counts["payments"] += 1
    for stream, _ in files.values():
        stream.close()
    lines.update(counts)
    return lines


def _run_import(url: str, directory: Path, *extra: str) -> tuple[float, float, str]:
    """Wall seconds, the importer's peak RSS (MB), its last output line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "import",
            "--database-url",
            url,
            "--operator",
            "bench",
            *extra,
            str(directory),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        print(done.stdout, done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"import failed with {done.returncode}")
    # ru_maxrss of children is the largest of any child so far: only the first import is exact.
    return elapsed, max(peak, before) / 1024, done.stdout.strip().splitlines()[0]


async def _raw_copy(url: str, directory: Path, kinds: list[str]) -> float:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for kind in kinds:
            path = directory / f"{kind}.csv"
            with path.open(encoding="utf-8") as stream:
                header = stream.readline().strip().split(";")
            table = f"raw_{kind}"
            columns = ", ".join(f'"{c}" text' for c in header)
            await connection.execute(
                f"DROP TABLE IF EXISTS {table}; CREATE UNLOGGED TABLE {table} ({columns})"
            )
            await connection.copy_to_table(
                table, source=str(path), format="csv", delimiter=";", header=True, encoding="utf-8"
            )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument(
        "--url", default="postgresql://postgres@127.0.0.1:5432/postgres", help="an admin database"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    name = f"kabinet_bench_exchange_{os.getpid()}"
    base = args.url.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    sa_url = url.replace("postgresql://", "postgresql+asyncpg://")
    with tempfile.TemporaryDirectory(prefix="kabinet-exchange-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        lines = write_region(directory, args.accounts)
        total = sum(lines.values()) + 2 + len(SERVICES)
        size = sum(p.stat().st_size for p in directory.iterdir()) / 1e6
        print(
            f"region: {args.accounts} accounts, {total} lines, {size:.0f} MB of files "
            f"(generated in {time.perf_counter() - started:.1f} s)"
        )
        print("  " + ", ".join(f"{kind} {count}" for kind, count in lines.items()))
        asyncio.run(_admin(args.url, f"DROP DATABASE IF EXISTS {name}"))
        asyncio.run(_admin(args.url, f"CREATE DATABASE {name}"))
        try:
            subprocess.run(
                [sys.executable, "-m", "portal.cli", "migrate", "--database-url", sa_url],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            raw = asyncio.run(_raw_copy(url, directory, list(lines)))
            print(f"raw COPY of the same lines (text, no checks): {raw:6.1f} s  {total / raw:>9,.0f} rows/s")
            first, rss, summary = _run_import(sa_url, directory)
            print(
                f"import (empty database):                  {first:6.1f} s  {total / first:>9,.0f} rows/s"
                f"  peak RSS {rss:.0f} MB   ({first / raw:.1f}× raw COPY)   [{summary}]"
            )
            again, rss2, summary = _run_import(sa_url, directory)
            print(
                f"repeated import (nothing changes):        {again:6.1f} s  {total / again:>9,.0f} rows/s"
                f"  peak RSS ≤ {rss2:.0f} MB ({again / raw:.1f}× raw COPY)   [{summary}]"
            )
            forced, rss3, summary = _run_import(sa_url, directory, "--no-skip")
            print(
                f"repeated, merged in full (--no-skip):     {forced:6.1f} s  {total / forced:>9,.0f} rows/s"
                f"  peak RSS ≤ {rss3:.0f} MB ({forced / raw:.1f}× raw COPY)   [{summary}]"
            )
            print("targets at 500 000 accounts: import < 300 s, repetition < 60 s, memory < 300 MB")
        finally:
            if not args.keep:
                asyncio.run(_admin(args.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
