"""Residents' first reads at a region's scale on PostgreSQL: pages per read, and req/s cold vs bare.

Builds a region in its own PostgreSQL database: the demo's 60 apartments (seeded by the portal itself)
cloned ``--accounts`` times over, loaded **month by month** the way a billing center's monthly loads
arrive, so that each account's charges, readings and payments of 36 months lie on 36 different heap
pages. Then, for residents picked across the whole region:

1. **pages per first read**: every SQL statement the portal runs for a resident's account summary,
   36-month reading history and 36-month statement (captured from the portal itself) is run again
   under ``EXPLAIN (ANALYZE, BUFFERS)``; the shared blocks (hit + read) of each request are summed.
   Measured twice on the same rows: with the indexes residents' reads had before migration 0005
   ("before 0005") and with its covering indexes ("0005 layout", with 0009's penalties, after
   ``VACUUM``), so the difference is the layout alone. (Other migrations follow 0005, so the bench
   applies 0005's and 0009's own ``downgrade`` and ``upgrade`` in place rather than asking alembic
   to step back.)
2. **req/s cold vs bare**: the portal (uvicorn, one worker, the cache on and bounded by
   ``--cache-mb``) is loaded with residents spread over the whole region, each resident's page read
   ``--repeats`` times, beside a bare FastAPI endpoint returning a constant measured in the same run
   under the same load. Target (issue 12): cold reads ≥ 0.2 × bare.

Figures are printed, never asserted; the machine is shared with other work, so rates vary by run.

    .venv/bin/python bench/cold_reads.py [--accounts 20000] [--database kabinet_cold_reads]
        [--clients 32] [--seconds 8] [--repeats 3] [--cache-mb 32] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.portal import (  # noqa: E402
    BENCH_SECRET,
    Server,
    free_port,
    http_request,
    load,
    start_bare,
    wait_until_up,
)

PG_SERVER = os.environ.get("KABINET_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test").rsplit(
    "/", 1
)[0]

#: Id strides of the clones (the demo has 60 accounts, a few hundred meters, a few thousand readings).
ACCOUNT_STRIDE = 1_000
METER_STRIDE = 10_000
READING_STRIDE = 100_000


def _env(database: str, cache_mb: int) -> dict[str, str]:
    return {
        **os.environ,
        "KABINET_DATABASE_URL": f"{PG_SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{database}",
        "KABINET_SECRET_KEY": BENCH_SECRET,
        "KABINET_CACHE_MAX_BYTES": str(cache_mb * 1024 * 1024),
    }


async def _admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


#: The migrations that hold the indexes of residents' reads, in the order they apply.
READ_LAYOUT = ("0005_read_layout", "0009_charges_cover_penalties")


async def read_layout(database: str, direction: str) -> None:
    """Apply the ``upgrade`` or ``downgrade`` of :data:`READ_LAYOUT` in place (alembic's revision stays).

    0005 holds the indexes of residents' reads (0009 adds penalties to one of them); later migrations
    came between, so alembic cannot undo those alone.
    """
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import Connection
    from sqlalchemy.ext.asyncio import create_async_engine

    migrations = [importlib.import_module(f"portal.migrations.versions.{name}") for name in READ_LAYOUT]
    if direction == "downgrade":
        migrations.reverse()

    def apply(connection: Connection) -> None:
        with Operations.context(MigrationContext.configure(connection)):
            for migration in migrations:
                getattr(migration, direction)()

    engine = create_async_engine(_env(database, 32)["KABINET_DATABASE_URL"])
    try:
        async with engine.begin() as connection:
            await connection.run_sync(apply)
    finally:
        await engine.dispose()


# --- the region ------------------------------------------------------------------------------------


def _seed_demo(database: str) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        subprocess.run(
            [sys.executable, "-m", "portal.cli", "seed-demo", "--data-dir", data_dir],
            cwd=ROOT,
            env=_env(database, 32),
            check=True,
            stdout=subprocess.DEVNULL,
        )


async def build_region(database: str, copies: int) -> None:
    """The demo seeded by the portal, then ``copies`` clones of it loaded month by month (before 0005)."""
    import asyncpg

    await _admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"CREATE DATABASE {database}")
    _seed_demo(database)
    await read_layout(database, "downgrade")  # the indexes residents' reads had before migration 0005
    connection = await asyncpg.connect(f"{PG_SERVER}/{database}")
    try:
        started = time.perf_counter()
        g = f"generate_series(1, {copies}) AS g"
        await connection.execute(f"""
            INSERT INTO accounts (id, number, address, owner_name, area_m2, residents, apartment)
            SELECT a.id + g * {ACCOUNT_STRIDE}, 'R' || (a.id + g * {ACCOUNT_STRIDE}), a.address, a.owner_name,
                   a.area_m2, a.residents, a.apartment
            FROM accounts a, {g} ORDER BY g, a.id;
            INSERT INTO capital_repair_accounts (id, account_id, number, fund_name)
            SELECT f.id + g * {ACCOUNT_STRIDE}, f.account_id + g * {ACCOUNT_STRIDE},
                   'F' || (f.id + g * {ACCOUNT_STRIDE}), f.fund_name
            FROM capital_repair_accounts f, {g} ORDER BY g, f.id;
            INSERT INTO meters (id, account_id, service_id, serial_number, integer_digits, decimals,
                                installed_on, next_verification_on, removed_on, lock_version)
            SELECT m.id + g * {METER_STRIDE}, m.account_id + g * {ACCOUNT_STRIDE}, m.service_id,
                   m.serial_number, m.integer_digits, m.decimals, m.installed_on, m.next_verification_on,
                   m.removed_on, 0
            FROM meters m, {g} ORDER BY g, m.id;
            INSERT INTO users (id, account_id, email, password_hash, created_at, password_changed_at)
            SELECT u.id + g * {ACCOUNT_STRIDE}, u.account_id + g * {ACCOUNT_STRIDE}, u.email, u.password_hash,
                   u.created_at, u.password_changed_at
            FROM users u, {g} ORDER BY g, u.id;
            INSERT INTO user_accounts (id, user_id, account_id, attached_at)
            SELECT ua.id + g * {ACCOUNT_STRIDE}, ua.user_id + g * {ACCOUNT_STRIDE},
                   ua.account_id + g * {ACCOUNT_STRIDE}, ua.attached_at
            FROM user_accounts ua, {g} ORDER BY g, ua.id;
        """)
        months = [
            row[0]
            for row in await connection.fetch(
                "SELECT period FROM charges UNION SELECT period FROM readings"
                " UNION SELECT date_trunc('month', paid_on)::date FROM payments ORDER BY 1"
            )
        ]
        for month in months:  # one monthly load after another, every account in each
            await connection.execute(
                f"""
                INSERT INTO charges (account_id, service_id, period, volume, tariff_kopecks, charged_kopecks,
                                     recalculation_kopecks, penalties_kopecks)
                SELECT c.account_id + g * {ACCOUNT_STRIDE}, c.service_id, c.period, c.volume,
                       c.tariff_kopecks, c.charged_kopecks, c.recalculation_kopecks, c.penalties_kopecks
                FROM charges c, {g} WHERE c.period = $1 ORDER BY g, c.account_id, c.service_id
                """,
                month,
            )
            await connection.execute(
                f"""
                INSERT INTO readings (id, meter_id, period, value, submitted_at, source, status,
                                      replaced_by_id, rollover, needs_review)
                SELECT r.id + g * {READING_STRIDE}, r.meter_id + g * {METER_STRIDE}, r.period, r.value,
                       r.submitted_at, r.source, r.status, r.replaced_by_id + g * {READING_STRIDE},
                       r.rollover, r.needs_review
                FROM readings r, {g} WHERE r.period = $1 ORDER BY g, r.meter_id, r.id
                """,
                month,
            )
            await connection.execute(
                f"""
                INSERT INTO payments (account_id, paid_on, amount_kopecks, channel, purpose, external_id,
                                      paid_at)
                SELECT p.account_id + g * {ACCOUNT_STRIDE}, p.paid_on, p.amount_kopecks, p.channel, p.purpose,
                       p.external_id || '-' || g, p.paid_at
                FROM payments p, {g} WHERE date_trunc('month', p.paid_on)::date = $1 ORDER BY g, p.account_id
                """,
                month,
            )
        for table in ("accounts", "capital_repair_accounts", "meters", "users", "user_accounts", "readings"):
            await connection.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        accounts = await connection.fetchval("SELECT count(*) FROM accounts")
        size = await connection.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(
            f"region: {accounts} accounts × {len(months)} months loaded month by month in "
            f"{time.perf_counter() - started:.0f} s; database {size}",
            flush=True,
        )
    finally:
        await connection.close()
    await _vacuum(database)


async def _vacuum(database: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/{database}")
    try:
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()


async def residents(database: str, count: int) -> list[tuple[int, str]]:
    """``count`` residents spread evenly over the region, each with a fresh session (account id, token)."""
    import asyncpg

    from portal.security.tokens import TokenDigest

    connection = await asyncpg.connect(f"{PG_SERVER}/{database}")
    try:
        users = await connection.fetch("SELECT id, account_id FROM users ORDER BY account_id")
        step = max(1, len(users) // count)
        picked = users[::step][:count]
        digest = TokenDigest(BENCH_SECRET)
        now = dt.datetime.now(dt.UTC)
        await connection.execute("DELETE FROM sessions")
        rows = [
            (
                digest.digest(f"bench-{user['account_id']}"),
                "session",
                user["account_id"],
                user["id"],
                now,
                now,
                now + dt.timedelta(hours=12),
            )
            for user in picked
        ]
        await connection.copy_records_to_table(
            "sessions",
            records=rows,
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
        return [(user["account_id"], f"bench-{user['account_id']}") for user in picked]
    finally:
        await connection.close()


# --- pages per first read --------------------------------------------------------------------------


def _paths() -> dict[str, str]:
    today = dt.date.today()
    first = today.replace(day=1).replace(year=today.year - 3)
    span = f"date_from={first}&date_to={today}"
    return {
        "account summary": "/api/v1/account",
        "reading history (36 months)": f"/api/v1/history/readings?{span}",
        "statement (36 months)": f"/api/v1/history/statement?{span}",
    }


async def pages_per_read(database: str, sample: list[tuple[int, str]]) -> dict[str, tuple[float, float]]:
    """For each read: (statements, shared blocks hit + read) per request, averaged over ``sample``."""
    import asyncpg
    import httpx
    from sqlalchemy import event

    from portal.app import create_app
    from portal.settings import Settings

    settings = Settings(
        database_url=_env(database, 32)["KABINET_DATABASE_URL"], secret_key=BENCH_SECRET, cache_enabled=False
    )
    app = create_app(settings, prepare_database=False)
    captured: list[tuple[str, Any]] = []
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    engine = app.state.portal.engine

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "pg_notify" not in statement:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    # Residents' reads on PostgreSQL go to the driver without SQLAlchemy (portal.kit.db.read_rows).
    from portal.kit import db

    def capture_read(statement: str, arguments: Sequence[Any]) -> None:
        captured.append((statement, tuple(arguments)))

    db.driver_read_listeners.append(capture_read)
    explain = await asyncpg.connect(f"{PG_SERVER}/{database}")
    totals: dict[str, tuple[float, float]] = {}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for name, path in _paths().items():
                statements = blocks = 0
                for _account_id, token in sample:
                    captured.clear()
                    response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 200, response.text
                    for statement, parameters in captured:
                        if statement.strip() in ("SELECT 1", ";"):
                            continue  # the pool's ping
                        plan = await explain.fetchval(
                            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", *(parameters or ())
                        )
                        top = json.loads(plan)[0]["Plan"]
                        statements += 1
                        blocks += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                totals[name] = (statements / len(sample), blocks / len(sample))
    finally:
        await explain.close()
        db.driver_read_listeners.remove(capture_read)
        await lifespan.__aexit__(None, None, None)
    return totals


# --- req/s -----------------------------------------------------------------------------------------


def start_portal(database: str, cache_mb: int, source: Path = ROOT) -> Server:
    """The portal of ``source``: this tree, or another (``git archive main``) for the same run's baseline."""
    port = free_port()
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
        cwd=source,
        env={**_env(database, cache_mb), "PYTHONPATH": str(source)},
        stdout=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{port}/api/v1/health")
    return Server(process, port)


async def rates(
    database: str,
    people: list[tuple[int, str]],
    args: argparse.Namespace,
    source: Path = ROOT,
    label: str = "portal",
) -> list[Any]:
    """Each client walks its own share of the residents, reading each one's page ``repeats`` times."""
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/{database}")
    try:  # as if every one of them had just logged in (no touch of last_used_at during the run)
        await connection.execute("UPDATE sessions SET last_used_at = now()")
    finally:
        await connection.close()
    server = start_portal(database, args.cache_mb, source)
    results = []
    try:
        share = len(people) // args.clients
        for index, (name, path) in enumerate(_paths().items()):
            # Other residents for each page (a third of each client's share), so no session is warm.
            requests = [
                http_request("GET", path, {"Authorization": f"Bearer {token}"}) for _a, token in people
            ]
            start = [client * share + index * (share // 3) for client in range(args.clients)]
            sent = [0] * args.clients  # the warm-up's requests count too: nobody is read twice as new

            def make(
                client: int,
                _n: int,
                requests: list[bytes] = requests,
                start: list[int] = start,
                sent: list[int] = sent,
            ) -> bytes:
                sent[client] += 1
                return requests[(start[client] + (sent[client] - 1) // args.repeats) % len(requests)]

            results.append(
                await load(f"{label}: {name}, cold", server.port, make, args.clients, args.seconds)
            )
    finally:
        server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000, help="accounts in the region (approximately)")
    parser.add_argument("--database", default="kabinet_cold_reads", help="dropped and created for the run")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3, help="reads of each resident's page")
    parser.add_argument(
        "--residents", type=int, default=12_000, help="residents with a session, spread evenly"
    )
    parser.add_argument("--sample", type=int, default=20, help="residents whose reads are EXPLAINed")
    parser.add_argument("--cache-mb", type=int, default=32, help="KABINET_CACHE_MAX_BYTES of the portal, MiB")
    parser.add_argument("--keep", action="store_true", help="keep the database after the run")
    parser.add_argument(
        "--reuse", action="store_true", help="use the region a --keep run left (0005 layout only)"
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="also load the portal of this source tree (`git archive main | tar -x -C DIR`) in the same run",
    )
    args = parser.parse_args()

    if not args.reuse:
        asyncio.run(build_region(args.database, max(1, args.accounts // 60 - 1)))
    try:
        people = asyncio.run(residents(args.database, args.residents))
        sample = people[:: max(1, len(people) // args.sample)][: args.sample]
        before = {} if args.reuse else asyncio.run(pages_per_read(args.database, sample))
        if not args.reuse:
            asyncio.run(read_layout(args.database, "upgrade"))
            asyncio.run(_vacuum(args.database))
        after = asyncio.run(pages_per_read(args.database, sample))

        bare = start_bare()
        try:
            baseline = asyncio.run(
                load(
                    "bare FastAPI constant",
                    bare.port,
                    lambda _i, _n: http_request("GET", "/const"),
                    args.clients,
                    args.seconds,
                )
            )
        finally:
            bare.stop()
        results = asyncio.run(rates(args.database, people, args))
        if args.baseline_src is not None:
            people = asyncio.run(residents(args.database, args.residents))  # sessions nobody has used yet
            results += asyncio.run(
                rates(args.database, people, args, args.baseline_src.resolve(), "baseline")
            )
    finally:
        if not args.keep:
            asyncio.run(_admin(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)"))

    print(
        "\npages (shared blocks hit + read) per first read, "
        f"mean of {len(sample)} residents spread over the region"
    )
    print(f"{'read':<30} {'statements':>10} {'before 0005':>12} {'0005 layout':>12}")
    for name, (statements, blocks) in after.items():
        old = f"{before[name][1]:>12.1f}" if name in before else f"{'-':>12}"
        print(f"{name:<30} {statements:>10.1f} {old} {blocks:>12.1f}")
    print(
        f"\n{args.clients} clients, {args.seconds:.0f} s per read, one uvicorn worker, 0005 layout, "
        f"{len(people)} residents spread over the region, each page read {args.repeats}×, "
        f"cache bounded at {args.cache_mb} MiB"
    )
    print(f"{'scenario':<52} {'req/s':>8} {'× bare':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for result in [baseline, *results]:
        print(
            f"{result.name:<52} {result.rate:8.0f} {result.rate / baseline.rate:7.2f} {result.p50_ms:8.1f} "
            f"{result.p99_ms:8.1f}  {dict(sorted(result.statuses.items()))}"
        )
    print("\ntarget: cold reads ≥ 0.20 × bare; the machine is shared with other work (rates vary by run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
