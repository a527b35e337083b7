"""The billing center's import at a region's scale, on PostgreSQL, beside the raw COPY of the same rows.

Generates a region as exchange files (docs/exchange.md; deterministic, any size: per account 3 meters,
8 charge lines, an opening balance, one payment and 3 readings), creates its own database, and runs
``kabinet-portal import`` on it three times in a subprocess: the first import, the same files again
(nothing changes: every kind is recognised as unchanged and left alone), and the same files with
``--no-skip`` (every line staged, checked and compared with the database; nothing is written). For
each it prints the wall time, rows per second and the importer's peak RSS. As
the baseline measured in the same run, the same files are loaded with plain ``COPY … FROM STDIN
(FORMAT csv)`` into unlogged text tables (no parsing, no checks, no merge): the floor of any import.

Then residents read while an import runs: 2 000 residents get a session, the portal's app is served by
uvicorn on the same database (its cache off: every read is the database's), and clients read account
summaries and statements for ``--read-seconds`` with no import, then for as long as the next month's
files (new charges, readings, payments and balances for every account) take to import; it prints p50,
p99 and the slowest read of both, and the locks the import's transaction was seen to hold.

Issue 12's targets for 500 000 accounts on a 2-core machine: import < 5 min, repetition < 1 min,
importer memory < 300 MB, residents' p99 < 100 ms during an import. Prints figures, asserts nothing::

    .venv/bin/python bench/exchange.py --accounts 50000 [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--database NAME] [--no-reads] [--read-clients 4] [--read-pause 0.02] [--read-seconds 20]
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

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


def write_region(
    directory: Path, accounts: int, *, first_number: int = 7_000_000_000, month_start: dt.date = MONTH
) -> dict[str, int]:
    """The region's files in ``directory`` for ``month_start``'s month (accounts, meters and the rest
    are the same whatever the month); returns the lines written per kind. Deterministic."""
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
    month = f"{month_start:%Y-%m}"
    shift = (month_start.year - MONTH.year) * 12 + month_start.month - MONTH.month
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
            value = 10_000 + (index * 31) % 80_000 + shift * 100
            w["readings"].writerow(
                (
                    number,
                    serial,
                    month,
                    f"{value},{index % 1000:03d}" if decimals else str(value),
                    f"24.{month_start:%m.%Y} 10:15",
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
            (
                f"12.{month_start:%m.%Y}",
                _rub(total),
                number,
                "utilities",
                "sberbank",
                f"SB{index:010d}" if not shift else f"SB{month_start:%Y%m}-{index:010d}",
                "bank",
            )
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


# --- residents reading while an import runs -------------------------------------------------------------


async def _residents(url: str, count: int) -> list[str]:
    """``count`` residents spread over the region, each a user with a fresh session: their tokens."""
    import asyncpg

    from bench.portal import BENCH_SECRET
    from portal.security.tokens import TokenDigest

    connection = await asyncpg.connect(url)
    try:
        total = await connection.fetchval("SELECT count(*) FROM accounts")
        step = max(1, total // count)
        now = dt.datetime.now(dt.UTC)
        picked = await connection.fetch(
            "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM accounts) a "
            "WHERE n % $1 = 0 LIMIT $2",
            step,
            count,
        )
        ids = [row["id"] for row in picked]
        await connection.executemany(
            "INSERT INTO users (account_id, email, password_hash, created_at, password_changed_at) "
            "VALUES ($1, $2, 'bench', $3, $3)",
            [(account_id, f"r{account_id}@bench.invalid", now) for account_id in ids],
        )
        await connection.execute(
            "INSERT INTO user_accounts (user_id, account_id, attached_at) "
            "SELECT id, account_id, created_at FROM users WHERE password_hash = 'bench'"
        )
        digest = TokenDigest(BENCH_SECRET)
        users = await connection.fetch("SELECT id, account_id FROM users WHERE password_hash = 'bench'")
        await connection.copy_records_to_table(
            "sessions",
            records=[
                (
                    digest.digest(f"bench-{u['account_id']}"),
                    "session",
                    u["account_id"],
                    u["id"],
                    now,
                    now,
                    now + dt.timedelta(hours=12),
                )
                for u in users
            ],
            columns=[
                "token_hmac",
                "kind",
                "account_id",
                "user_id",
                "created_at",
                "last_used_at",
                "expires_at",
            ],
        )
        return [f"bench-{u['account_id']}" for u in users]
    finally:
        await connection.close()


def _start_portal(sa_url: str) -> Any:
    """``kabinet-portal serve``'s app under uvicorn (one worker), its cache off: every read is the
    database's."""
    from bench.portal import BENCH_SECRET, Server, free_port, wait_until_up

    port = free_port()
    env = {
        **os.environ,
        "KABINET_DATABASE_URL": sa_url,
        "KABINET_SECRET_KEY": BENCH_SECRET,
        "KABINET_CACHE_ENABLED": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "portal.cli:app_from_env",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{port}/api/v1/health")
    return Server(process, port)


@dataclass
class Reads:
    latencies: list[float]
    statuses: dict[int, int]
    seconds: float

    def line(self, name: str) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        worst = ordered[-1] * 1000
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        return (
            f"{name:<40} {len(self.latencies):>7} {rate:>7.1f} {p50:>8.1f} {p99:>8.1f} {worst:>8.1f}  "
            f"{dict(sorted(self.statuses.items()))}"
        )


async def _read_load(port: int, tokens: list[str], clients: int, pause: float, until: Any) -> Reads:
    """Residents reading their account summary and statement (each client its own residents, a pause
    between requests) until ``until()`` says stop."""
    from bench.portal import http_request

    today = dt.date.today()
    statement = f"/api/v1/history/statement?date_from={MONTH.replace(year=MONTH.year - 1)}&date_to={today}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def client(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        count = 0
        try:
            while not until():
                token = tokens[(index + count * clients) % len(tokens)]
                path = "/api/v1/account" if count % 2 == 0 else statement
                count += 1
                started = time.perf_counter()
                writer.write(http_request("GET", path, {"Authorization": f"Bearer {token}"}))
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                status = int(head.split(b" ", 2)[1])
                statuses[status] = statuses.get(status, 0) + 1
                await asyncio.sleep(pause)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return Reads(latencies, statuses, time.perf_counter() - started)


async def _locks_of(url: str, done: Any) -> set[tuple[str, str]]:
    """What the import's backend (the one holding the imports' advisory lock) holds, sampled every half
    second: (relation or lock type, mode)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    seen: set[tuple[str, str]] = set()
    try:
        while not done():
            for row in await connection.fetch(
                "SELECT COALESCE(c.relname, CASE WHEN l.locktype = 'relation' "
                "THEN '(its own staging tables)' "
                "ELSE l.locktype END) || CASE WHEN l.locktype IN ('relation', 'advisory') THEN '' "
                "ELSE ' (' || l.locktype || ')' END AS what, l.mode FROM pg_locks l "
                "LEFT JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted) "
                "AND l.granted AND (c.relname IS NULL OR (c.relname NOT LIKE 'pg_%' "
                "AND c.relnamespace = 'public'::regnamespace))"
            ):
                if row["what"] not in ("virtualxid", "transactionid"):
                    seen.add((row["what"], row["mode"]))
            await asyncio.sleep(0.5)
    finally:
        await connection.close()
    return seen


def reads_during_import(url: str, sa_url: str, directory: Path, args: argparse.Namespace) -> None:
    """The next month's files imported while residents read, beside the same reads with no import."""
    tokens = asyncio.run(_residents(url, args.residents))
    server = _start_portal(sa_url)
    try:
        quiet_until = time.perf_counter() + args.read_seconds
        quiet = asyncio.run(
            _read_load(
                server.port,
                tokens,
                args.read_clients,
                args.read_pause,
                lambda: time.perf_counter() > quiet_until,
            )
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portal.cli",
                "import",
                "--database-url",
                sa_url,
                "--operator",
                "bench",
                str(directory),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started = time.perf_counter()

        async def both() -> tuple[Reads, set[tuple[str, str]]]:
            def done() -> bool:
                return process.poll() is not None

            return await asyncio.gather(
                _read_load(server.port, tokens, args.read_clients, args.read_pause, done),
                _locks_of(url, done),
            )

        during, locks = asyncio.run(both())
        took = time.perf_counter() - started
        out, err = process.communicate()
        if process.returncode != 0:
            print(out, err[-3000:], file=sys.stderr)
            raise SystemExit(f"the month's import failed with {process.returncode}")
    finally:
        server.stop()
    print(
        f"\nresidents' reads (account summary and a year's statement, cache off; "
        f"{args.read_clients} clients, "
        f"{args.read_pause * 1000:.0f} ms between a client's requests, {len(tokens)} residents), "
        f"the next month's files imported meanwhile in {took:.1f} s [{out.strip().splitlines()[0]}]"
    )
    print(f"{'':<40} {'reads':>7} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
    print(quiet.line("no import"))
    print(during.line("during the month's import"))
    print("target: p99 < 100 ms during an import")
    print("locks the import's transaction held (sampled every 0.5 s):")
    for what, mode in sorted(locks):
        print(f"  {what:<40} {mode}")


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
    parser.add_argument(
        "--database", default=f"kabinet_bench_exchange_{os.getpid()}", help="created and dropped for the run"
    )
    parser.add_argument("--residents", type=int, default=2_000, help="residents reading during an import")
    parser.add_argument("--read-clients", type=int, default=4, help="concurrent residents' clients")
    parser.add_argument("--read-pause", type=float, default=0.02, help="seconds between a client's requests")
    parser.add_argument("--read-seconds", type=float, default=20.0, help="the reads with no import")
    parser.add_argument("--no-reads", action="store_true", help="skip the reads during the month's import")
    args = parser.parse_args()
    name = args.database
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
            if not args.no_reads:
                month = directory / "next-month"
                write_region(month, args.accounts, month_start=dt.date(MONTH.year, MONTH.month + 1, 1))
                reads_during_import(url, sa_url, month, args)
        finally:
            if not args.keep:
                asyncio.run(_admin(args.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
