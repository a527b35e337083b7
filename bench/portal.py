"""Load the demo portal with concurrent clients; print requests per second and p50/p99 latency.

With the cache on (the default), repeated reads are answered from memory (portal/kit/cache.py);
"no cache" rows show the same reads computed from the database every time.

Serves the demo portal on loopback (uvicorn, one worker) on SQLite and, when PostgreSQL is reachable,
on PostgreSQL, and beside it a bare FastAPI endpoint returning a constant, measured in the same run
under the same load. Scenarios: the account summary, a 36-month reading history and a reading
submission. Targets (issue 3): the summary at least half the bare endpoint's rate; p99 under 50 ms
for every read. The figures are printed, never asserted: this machine is shared and noisy.

    .venv/bin/python bench/portal.py [--clients 32] [--seconds 8] [--backends sqlite,postgres]

The load generator is a minimal keep-alive HTTP/1.1 client on raw asyncio streams, so that the
client costs little next to the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("KABINET_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_bare() -> Server:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:create",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    wait_until_up(f"http://127.0.0.1:{port}/const")
    return Server(process, port)


def start_portal(database_url: str, data_dir: Path, *, cache: bool) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "KABINET_CACHE_ENABLED": "true" if cache else "false",
        "KABINET_DATABASE_URL": database_url,
        "KABINET_SECRET_KEY": BENCH_SECRET,
        "KABINET_THROTTLE_FREE_FAILURES": "1000",
        "KABINET_THROTTLE_CLIENT_FREE_FAILURES": "100000",
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
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{port}/api/v1/health")
    return Server(process, port)


# --- the load generator ---------------------------------------------------------------------------

RequestFactory = Callable[[int, int], bytes]  # (client index, request index) -> raw HTTP request


def http_request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _one_client(
    port: int,
    index: int,
    make: RequestFactory,
    deadline: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    count = 0
    try:
        while time.perf_counter() < deadline:
            request = make(index, count)
            count += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


@dataclass
class Result:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]


async def load(name: str, port: int, make: RequestFactory, clients: int, seconds: float) -> Result:
    # A short warm-up, then the measured run.
    warm: list[float] = []
    await asyncio.gather(
        *[_one_client(port, i, make, time.perf_counter() + 1.0, warm, {}) for i in range(clients)]
    )
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*[_one_client(port, i, make, deadline, latencies, statuses) for i in range(clients)])
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Result(name, len(latencies) / elapsed, statistics.median(ordered) * 1000, p99 * 1000, statuses)


# --- the scenarios ---------------------------------------------------------------------------------


def api_json(
    port: int, method: str, path: str, body: object | None = None, token: str | None = None
) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}",
        data=data,
        method=method,
        headers={
            "content-type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def tokens_for(port: int, clients: int) -> list[str]:
    from portal.demo.accounts import APARTMENTS, DEMO_PASSWORD, account_number, is_registered

    registered = [account_number(n) for n in range(1, APARTMENTS + 1) if is_registered(n)]
    tokens = []
    for index in range(clients):
        body = {"account_number": registered[index % len(registered)], "password": DEMO_PASSWORD}
        answer = api_json(port, "POST", "/auth/login", body)
        assert isinstance(answer, dict)
        tokens.append(str(answer["token"]))
    return tokens


def reading_bodies(port: int, tokens: list[str]) -> list[bytes]:
    """One submission per client: each meter's last value (a repeat in the period replaces it)."""
    bodies = []
    for token in tokens:
        meters = api_json(port, "GET", "/meters", token=token)
        assert isinstance(meters, dict)
        readings = []
        for meter in meters["meters"]:
            last = meter.get("current_reading") or meter.get("previous_reading")
            if not meter["accepts_readings"] or not last:
                continue
            readings.append({"meter_id": meter["meter_id"], "value": last["value"]})
        bodies.append(json.dumps({"readings": readings}).encode())
    return bodies


async def run_backend(
    label: str, database_url: str, args: argparse.Namespace, *, cache: bool
) -> list[Result]:
    data_dir = Path(tempfile.mkdtemp(prefix="kabinet-bench-"))
    server = start_portal(database_url, data_dir, cache=cache)
    label = f"{label}{'' if cache else ' (no cache)'}"
    try:
        tokens = tokens_for(server.port, args.clients)
        bodies = reading_bodies(server.port, tokens)
        today = dt.date.today()
        first = today.replace(day=1).replace(year=today.year - 3)  # the demo's 36 months, up to its seeding
        history = f"/api/v1/history/readings?date_from={first}&date_to={today}"
        summary_requests = [
            http_request("GET", "/api/v1/account", {"Authorization": f"Bearer {t}"}) for t in tokens
        ]
        history_requests = [http_request("GET", history, {"Authorization": f"Bearer {t}"}) for t in tokens]
        results = [
            await load(
                f"{label}: account summary",
                server.port,
                lambda i, _n: summary_requests[i],
                args.clients,
                args.seconds,
            ),
            await load(
                f"{label}: reading history (36 months)",
                server.port,
                lambda i, _n: history_requests[i],
                args.clients,
                args.seconds,
            ),
            await load(
                f"{label}: reading submission",
                server.port,
                lambda i, _n: http_request(
                    "POST", "/api/v1/readings", {"Authorization": f"Bearer {tokens[i]}"}, bodies[i]
                ),
                args.clients,
                args.seconds,
            ),
        ]
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return results


def postgres_database() -> str | None:
    """A fresh database for the run, or None when PostgreSQL is not reachable."""
    try:
        import asyncpg
    except ImportError:
        return None

    async def recreate() -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await connection.execute("DROP DATABASE IF EXISTS kabinet_bench WITH (FORCE)")
            await connection.execute("CREATE DATABASE kabinet_bench")
        finally:
            await connection.close()

    try:
        asyncio.run(recreate())
    except (OSError, asyncpg.PostgresError):
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/kabinet_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--cache",
        choices=["on", "off", "both"],
        default="both",
        help="the portal's view and session cache (the default 'on'); 'both' also shows every read cold",
    )
    args = parser.parse_args()

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
    results = [baseline]
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.cache]
    for backend in args.backends.split(","):
        for cache in modes:
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='kabinet-bench-db-')}/portal.sqlite3"
            elif backend == "postgres":
                found = postgres_database()
                if found is None:
                    print("PostgreSQL is not reachable: skipped", file=sys.stderr)
                    break
                url = found
            else:
                raise SystemExit(f"unknown backend {backend}")
            results += asyncio.run(run_backend(backend, url, args, cache=cache))

    print(
        f"\n{args.clients} concurrent clients, {args.seconds:.0f} s per scenario, one uvicorn worker each\n"
    )
    print(f"{'scenario':<52} {'req/s':>8} {'× bare':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for result in results:
        ratio = result.rate / baseline.rate
        print(
            f"{result.name:<52} {result.rate:8.0f} {ratio:7.2f} {result.p50_ms:8.1f} {result.p99_ms:8.1f}  "
            f"{dict(sorted(result.statuses.items()))}"
        )
    print("\ntargets: account summary ≥ 0.50 × bare; p99 < 50 ms for every read")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
