"""Fire 64 concurrent wrong attempts per flow at a multi-worker portal; print how many got checked.

"Checked" is every answer but 429: the attempt reached the secret (or the lookup was answered). The
limits are per client address and hold across workers and hosts because every attempt is reserved in
the database before it is checked (portal/throttling). After the bursts, the resident logs in with the
right password from another address (X-Forwarded-For behind a trusted proxy): that must still work.

    .venv/bin/python bench/throttle_burst.py [--workers 2,4] [--attempts 64] [--port 18480]

Each worker count gets its own database, seeded by ``kabinet-portal serve --demo``. PostgreSQL at
``KABINET_BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.demo.accounts import (  # noqa: E402
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    HAPPY_PATH_APARTMENT,
    UNREGISTERED_APARTMENT,
    account_number,
    capital_repair_number,
)
from portal.settings import Settings  # noqa: E402

PG_ADMIN_URL = os.environ.get("KABINET_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
HAPPY = account_number(HAPPY_PATH_APARTMENT)
UNREGISTERED = account_number(UNREGISTERED_APARTMENT)
RESIDENT = next(demo for demo in DEMO_ACCOUNTS if demo.password == DEMO_PASSWORD).account_number
RESIDENT_ADDRESS = "203.0.113.77"
NEW_PASSWORD = "Frost-Birch-Lantern-42"


@dataclass(frozen=True)
class Flow:
    name: str
    method: str
    path: Callable[[int], str]
    body: Callable[[int], dict[str, Any] | None]
    #: The documented number of checked attempts of one client (defaults of Settings).
    limit: Callable[[Settings], int]
    headers: Callable[[int], dict[str, str]] = lambda i: {}


def _free(settings: Settings) -> int:
    return settings.throttle_free_failures


FLOWS = [
    Flow(
        "login (wrong passwords)",
        "POST",
        lambda i: "/auth/login",
        lambda i: {"account_number": HAPPY, "password": f"wrong-password-{i}"},
        _free,
    ),
    Flow(
        "registration step 2 (wrong totals)",
        "POST",
        lambda i: "/registration",
        lambda i: {
            "account_number": UNREGISTERED,
            "receipt_total_kopecks": i + 1,
            "email": "attacker@example.ru",
            "email_repeat": "attacker@example.ru",
            "accept_terms": True,
        },
        _free,
    ),
    Flow(
        "readings without login: check",
        "POST",
        lambda i: "/public/readings/check",
        lambda i: {"account_number": UNREGISTERED, "previous_readings": [{"meter_id": 1, "value": str(i)}]},
        _free,
    ),
    Flow(
        "recovery confirm (wrong codes)",
        "POST",
        lambda i: "/auth/recovery/confirm",
        lambda i: {
            "account_number": RESIDENT,
            "code": f"guess-{i}",
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
        },
        _free,
    ),
    Flow(
        "recovery request",
        "POST",
        lambda i: "/auth/recovery",
        lambda i: {"account_number": RESIDENT, "email": "attacker@example.ru"},
        _free,
    ),
    Flow(
        "registration lookup",
        "POST",
        lambda i: "/registration/lookup",
        lambda i: {"account_number": str(7_000_000 + i)},
        lambda s: s.public_lookups_per_window,
    ),
    Flow(
        "readings without login: lookup",
        "POST",
        lambda i: "/public/readings/lookup",
        lambda i: {"account_number": str(7_000_000 + i)},
        lambda s: s.public_lookups_per_window,
    ),
    Flow(
        "capital repair lookup (known number)",
        "GET",
        lambda i: f"/public/capital-repair/{capital_repair_number(UNREGISTERED_APARTMENT)}",
        lambda i: None,
        lambda s: s.public_lookups_per_window,
    ),
    Flow(
        "capital repair payment (unknown numbers)",
        "POST",
        lambda i: "/public/capital-repair/payments",
        lambda i: {"capital_repair_account": str(8_000_000 + i), "amount_kopecks": 1000, "provider": "a3"},
        lambda s: min(s.public_payments_per_window, s.throttle_client_free_failures),
        lambda i: {"Idempotency-Key": f"burst-{i}"},
    ),
]


async def fire(client: httpx.AsyncClient, flow: Flow, attempts: int) -> tuple[int, dict[int, int]]:
    """All attempts of the flow at once; how many were checked, and the count of each status."""

    async def one(i: int) -> int:
        response = await client.request(flow.method, flow.path(i), json=flow.body(i), headers=flow.headers(i))
        return response.status_code

    statuses = await asyncio.gather(*(one(i) for i in range(attempts)))
    counts: dict[int, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return sum(n for status, n in counts.items() if status != 429), counts


async def run_bursts(base_url: str, attempts: int) -> tuple[list[tuple[Flow, int, dict[int, int]]], int]:
    """Every flow's burst (one after another), then the resident's login from another address."""
    # No keep-alive: a connection the server closes as idle between two bursts would be reused just as it
    # closes, and the request fail with "Server disconnected" (seen once in a full run).
    limits = httpx.Limits(max_connections=attempts, max_keepalive_connections=0)
    results = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        for flow in FLOWS:
            checked, counts = await fire(client, flow, attempts)
            results.append((flow, checked, counts))
        resident = await client.post(
            "/auth/login",
            json={"account_number": HAPPY, "password": DEMO_PASSWORD},
            headers={"X-Forwarded-For": RESIDENT_ADDRESS},
        )
    return results, resident.status_code


def _admin(*statements: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the portal exited")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def serving(database_url: str, workers: int, port: int, data_dir: Path) -> Iterator[str]:
    """``kabinet-portal serve --demo --workers N`` on loopback; yields the API's base URL."""
    env = {
        **os.environ,
        "KABINET_DATABASE_URL": database_url,
        "KABINET_SECRET_KEY": SECRET,
        "KABINET_TRUST_FORWARDED_FOR": "true",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "serve",
            "--demo",
            "--data-dir",
            str(data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_until_up(f"{base}/health", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="2,4")
    parser.add_argument("--attempts", type=int, default=64)
    parser.add_argument("--port", type=int, default=18480)
    args = parser.parse_args()
    settings = Settings(demo=True)
    table: dict[str, dict[int, int]] = {}
    resident: dict[int, int] = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        name = f"kabinet_throttle_bench_{os.getpid()}_{workers}"
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
        url = PG_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + "/" + name
        try:
            with (
                tempfile.TemporaryDirectory() as data_dir,
                serving(url, workers, args.port, Path(data_dir)) as base,
            ):
                results, resident[workers] = asyncio.run(run_bursts(base, args.attempts))
        finally:
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for flow, checked, counts in results:
            table.setdefault(flow.name, {})[workers] = checked
            print(f"  {workers} workers  {flow.name:<42} {checked:>3} checked  {counts}", file=sys.stderr)
    worker_counts = sorted(resident)
    print(f"Checked of {args.attempts} concurrent attempts from one address (PostgreSQL, uvicorn workers):")
    header = "".join(f"{w:>4} workers" for w in worker_counts)
    print(f"| {'flow':<42} | limit | {header} |")
    for flow in FLOWS:
        cells = "".join(f"{table[flow.name][w]:>12}" for w in worker_counts)
        print(f"| {flow.name:<42} | {flow.limit(settings):>5} | {cells} |")
    logins = ", ".join(f"{w} workers: {resident[w]}" for w in worker_counts)
    print(f"Right password from another address afterwards: {logins}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
