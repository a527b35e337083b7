"""Login latency against the number of sessions in the table (PostgreSQL): the expired-session sweep.

Every login deletes expired sessions. Before migration 0005 that was one ``DELETE … WHERE expires_at
< now`` over an unindexed column: a full scan of ``sessions`` on every login. Now the column is
indexed and a login deletes at most a bounded batch, oldest first.

For each size (``--sizes``, default 30 000 and 1 000 000 live sessions, plus ``--expired`` expired
ones) the bench fills ``sessions`` of its own database (``COPY``), starts the portal (uvicorn, one
worker) and times ``--logins`` sequential logins of demo residents; it prints the median and p90.
With ``--baseline-src DIR`` (e.g. ``git archive main | tar -x -C DIR``) the same logins are timed on
that tree's portal with migration 0005 undone in place (no index), in the same run. The machine is
shared: compare figures of one run only.

    .venv/bin/python bench/login_sessions.py [--sizes 30000,1000000] [--logins 40] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cold_reads import PG_SERVER, _admin, _seed_demo, read_layout, start_portal  # noqa: E402


async def fill_sessions(database: str, live: int, expired: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/{database}")
    try:
        await connection.execute("TRUNCATE sessions")
        accounts = [row[0] for row in await connection.fetch("SELECT id FROM accounts ORDER BY id")]
        now = dt.datetime.now(dt.UTC)
        batch = 100_000
        for start in range(0, live + expired, batch):
            rows = []
            for n in range(start, min(start + batch, live + expired)):
                is_expired = n >= live
                created = now - dt.timedelta(hours=13 if is_expired else 1)
                rows.append(
                    (
                        secrets.token_hex(32),
                        "session",
                        accounts[n % len(accounts)],
                        None,
                        created,
                        created,
                        created + dt.timedelta(hours=12),
                    )
                )
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
        await connection.execute("VACUUM (ANALYZE) sessions")
    finally:
        await connection.close()


def time_logins(port: int, count: int) -> list[float]:
    from portal.demo.accounts import APARTMENTS, DEMO_PASSWORD, account_number, is_registered

    registered = [account_number(n) for n in range(1, APARTMENTS + 1) if is_registered(n)]
    durations = []
    for index in range(count):
        body = json.dumps({"account_number": registered[index % len(registered)], "password": DEMO_PASSWORD})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            data=body.encode(),
            method="POST",
            headers={"content-type": "application/json"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        durations.append(time.perf_counter() - started)
    return durations[2:]  # the first ones warm the pool and the statement caches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="30000,1000000", help="live sessions in the table")
    parser.add_argument("--expired", type=int, default=1000, help="expired sessions besides them")
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--database", default="kabinet_login_sessions")
    parser.add_argument("--baseline-src", type=Path)
    args = parser.parse_args()

    database = args.database
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"CREATE DATABASE {database}"))
    figures: list[tuple[str, int, list[float]]] = []
    try:
        _seed_demo(database)
        indexed = True  # the seed migrates to the newest revision, 0005 included
        for size in (int(part) for part in args.sizes.split(",")):
            trees = [("this tree (0005: index, bounded sweep)", ROOT, True)]
            if args.baseline_src is not None:
                trees.append(("baseline (no 0005: full sweep)", args.baseline_src.resolve(), False))
            for label, source, with_index in trees:
                if with_index != indexed:
                    asyncio.run(read_layout(database, "upgrade" if with_index else "downgrade"))
                    indexed = with_index
                asyncio.run(fill_sessions(database, size, args.expired))
                server = start_portal(database, 32, source)
                try:
                    figures.append((label, size, time_logins(server.port, args.logins)))
                finally:
                    server.stop()
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))

    print(
        f"\nlogin latency, {args.logins - 2} sequential logins, one uvicorn worker, PostgreSQL "
        "(the machine is shared with other work)"
    )
    print(f"{'portal':<42} {'live sessions':>14} {'median ms':>10} {'p90 ms':>8}")
    for label, size, durations in figures:
        ordered = sorted(durations)
        p90 = ordered[int(len(ordered) * 0.9)]
        print(f"{label:<42} {size:>14,} {statistics.median(ordered) * 1000:>10.1f} {p90 * 1000:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
