"""The readings export of a region at scale, beside a raw ``COPY (SELECT …) TO STDOUT`` of the same rows.

Issue 12's target: the month's readings of 500 000 accounts (1.5 million meters) exported in under a
minute, streamed (memory flat whatever the region's size). The script builds the region directly in
its own PostgreSQL database with ``INSERT … SELECT generate_series`` (three meters per account, the
exported month and the month before it, one meter in fifty with a replaced reading in the month), then,
in the same run:

- **raw COPY**: ``COPY (<the export's own SELECT>) TO STDOUT`` into a file through asyncpg — what the
  database alone costs to read, join, sort and hand over the rows;
- **export**: ``portal.exports.service.export_chunks`` (what ``kabinet-portal export readings`` and the
  operator API run) into a file: the same rows, formatted, with the control line.

Prints seconds, rows/s and the process's peak RSS after each step (the build runs in the server, so
the peak before the steps is the interpreter's own), asserts nothing::

    .venv/bin/python bench/export.py [--accounts 100000] [--url postgresql+asyncpg://postgres@127.0.0.1:5432]
    [--keep] (keep the database for another run: the build is skipped when it has the same size)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from portal.exports.repository import readings_query  # noqa: E402
from portal.exports.service import ExportKind, ExportRequest, ExportTotals, export_chunks  # noqa: E402
from portal.kit.db import create_engine, create_sessionmaker  # noqa: E402
from portal.migrations import upgrade  # noqa: E402

DATABASE = "x_export_bench"
PERIOD = dt.date(2026, 10, 1)

BUILD = [
    "TRUNCATE readings, meters, accounts, services RESTART IDENTITY CASCADE",
    """INSERT INTO services (id, code, name, unit, basis, payee, sort_order) VALUES
       (1, 'cold_water', 'Холодное водоснабжение', 'м³', 'meter', 'billing_center', 1),
       (2, 'hot_water', 'Горячее водоснабжение', 'м³', 'meter', 'billing_center', 2),
       (3, 'electricity', 'Электроснабжение', 'кВт·ч', 'meter', 'billing_center', 3)""",
    """INSERT INTO accounts (id, number, address, owner_name, area_m2, residents)
       SELECT g, (3500000000 + g)::text,
              'г. Энск, ул. Длинная, д. ' || (g / 200 + 1) || ', кв. ' || (g % 200 + 1),
              'Житель ' || g, 30 + g % 70, 1 + g % 4
       FROM generate_series(1, $1) AS g""",
    """INSERT INTO meters (id, account_id, service_id, serial_number, integer_digits, decimals, installed_on,
                           next_verification_on, lock_version)
       SELECT (a - 1) * 3 + s, a, s,
              lpad(((a::bigint * 7919 + s * 104729) % 100000000)::text, 8, '0') || '-' || s,
              CASE WHEN s = 3 THEN 6 ELSE 5 END, CASE WHEN s = 3 THEN 0 ELSE 3 END,
              DATE '2020-01-15', DATE '2030-01-15', 0
       FROM generate_series(1, $1) AS a, generate_series(1, 3) AS s""",
    # The month before (accepted), the exported month (accepted), and for one meter in fifty an earlier
    # reading of the exported month that the later one replaced.
    """INSERT INTO readings (meter_id, period, value, submitted_at, source, status, rollover, needs_review)
       SELECT m, p.period, (m % 9000) + p.k * 7.125,
              p.period + interval '20 days' + (m % 600) * interval '1 minute',
              CASE m % 3 WHEN 0 THEN 'resident' WHEN 1 THEN 'without_login' ELSE 'inspector' END,
              'accepted', false, false
       FROM generate_series(1, $1 * 3) AS m,
            (VALUES (DATE '2026-09-01', 0), (DATE '2026-10-01', 1)) AS p(period, k)""",
    """INSERT INTO readings (meter_id, period, value, submitted_at, source, status, rollover, needs_review)
       SELECT m, DATE '2026-10-01', (m % 9000) + 5, TIMESTAMPTZ '2026-10-16 09:00+03', 'resident', 'replaced',
              false, false
       FROM generate_series(1, $1 * 3, 50) AS m""",
    "ANALYZE",
]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://") + "/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def build(url: str, accounts: int) -> None:
    engine = create_engine(f"{url}/{DATABASE}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(f"{url}/{DATABASE}".replace("postgresql+asyncpg://", "postgresql://"))
    try:
        count = await connection.fetchval("SELECT count(*) FROM accounts")
        if count == accounts:
            print(f"region of {accounts} accounts already built")
            return
        started = time.perf_counter()
        for statement in BUILD:
            if "$1" in statement:
                await connection.execute(statement, accounts)
            else:
                await connection.execute(statement)
        rows = await connection.fetchval("SELECT count(*) FROM readings WHERE period = $1", PERIOD)
        print(
            f"built {accounts} accounts, {accounts * 3} meters, {rows} readings of {PERIOD:%Y-%m} "
            f"in {time.perf_counter() - started:.1f} s"
        )
    finally:
        await connection.close()


async def raw_copy(url: str, target: Path) -> tuple[float, int]:
    compiled = readings_query().compile(dialect=postgresql.asyncpg.dialect())
    sql = str(compiled).replace("$1::DATE", f"DATE '{PERIOD.isoformat()}'")
    connection = await asyncpg.connect(f"{url}/{DATABASE}".replace("postgresql+asyncpg://", "postgresql://"))
    try:
        started = time.perf_counter()
        await connection.copy_from_query(sql, output=str(target), format="csv", delimiter=";")
        seconds = time.perf_counter() - started
    finally:
        await connection.close()
    with target.open("rb") as handle:
        rows = sum(1 for _ in handle)
    return seconds, rows


async def export(url: str, target: Path) -> tuple[float, ExportTotals]:
    engine = create_engine(f"{url}/{DATABASE}")
    totals = ExportTotals()
    try:
        maker = create_sessionmaker(engine)
        started = time.perf_counter()
        async with maker() as session:
            with target.open("wb") as sink:
                async for chunk in export_chunks(session, ExportRequest(ExportKind.READINGS, PERIOD), totals):
                    sink.write(chunk)
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    return seconds, totals


async def main(args: argparse.Namespace) -> None:
    url = args.url.rstrip("/")
    if not args.reuse:
        await admin(url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}")
    try:
        await build(url, args.accounts)
        print(f"peak RSS before the exports: {peak_rss_mib():.0f} MiB")
        with tempfile.TemporaryDirectory() as folder:
            raw_seconds, raw_rows = await raw_copy(url, Path(folder) / "raw.csv")
            print(
                f"raw COPY TO STDOUT : {raw_seconds:6.2f} s  {raw_rows / raw_seconds:10.0f} rows/s  "
                f"{raw_rows} rows  peak RSS {peak_rss_mib():.0f} MiB"
            )
            seconds, totals = await export(url, Path(folder) / "export.csv")
            size = (Path(folder) / "export.csv").stat().st_size
            print(
                f"export readings    : {seconds:6.2f} s  {totals.records / seconds:10.0f} rows/s  "
                f"{totals.records} rows  peak RSS {peak_rss_mib():.0f} MiB  {size / 2**20:.0f} MiB file"
            )
            print(
                f"export / raw COPY  : {seconds / raw_seconds:.1f}×; target: under 60 s at 500 000 accounts"
            )
    finally:
        if not args.keep:
            await admin(url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    asyncio.run(main(parser.parse_args()))
