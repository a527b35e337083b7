"""The long schemathesis run (``make schemathesis``): the demo portal on PostgreSQL, four workers.

Creates a database for the run, serves the demo with ``kabinet-portal serve --workers 4`` on loopback
(throttles and public-payment windows opened wide: the fuzzer guesses thousands of wrong passwords on
purpose), then runs ``st run --checks all`` with the coverage phase, positive and negative data and
the portal's own checks (``tests/support/schemathesis_checks.py``) twice: logged in as a demo resident, and
anonymous. Prints both summaries; exits non-zero if either found a failure. The database is dropped
afterwards.

    .venv/bin/python bench/schemathesis_long.py [--examples 200] [--port 8790] [--st-workers 4]

``KABINET_FUZZ_PG_URL`` is the server to use (default ``postgresql://postgres@127.0.0.1:5432/test``;
the run's own database ``kabinet_fuzz_<pid>`` is made beside ``test``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number  # noqa: E402

PG_ADMIN_URL = os.environ.get("KABINET_FUZZ_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BIN = Path(sys.executable).parent


async def _admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _wait_healthy(base: str, process: subprocess.Popen[bytes], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the portal did not start") from None
            time.sleep(0.5)


def _login(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/auth/login",
        data=json.dumps(
            {"account_number": account_number(HAPPY_PATH_APARTMENT), "password": DEMO_PASSWORD}
        ).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["token"])


def _st(base: str, args: argparse.Namespace, *extra: str) -> int:
    command = [
        str(BIN / "st"),
        "--pre-run",
        "tests.support.schemathesis_checks",
        "run",
        f"{base}/openapi.json",
        "--force-schema-version",
        "30",
        "--checks",
        "all",
        "--experimental=coverage-phase",
        "--experimental-no-failfast",
        "--data-generation-method",
        "all",
        "--hypothesis-max-examples",
        str(args.examples),
        "--workers",
        str(args.st_workers),
        "--request-timeout",
        "30000",
        "--no-color",
        *extra,
    ]
    print("$", " ".join(c if "Bearer" not in c else "Authorization: Bearer …" for c in command), flush=True)
    return subprocess.call(command, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="generated examples per operation")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--workers", type=int, default=4, help="portal (uvicorn) worker processes")
    parser.add_argument("--st-workers", type=int, default=4, help="schemathesis concurrent workers")
    args = parser.parse_args()

    name = f"kabinet_fuzz_{os.getpid()}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"))
    big = "1000000"
    data_dir = tempfile.mkdtemp(prefix="kabinet-fuzz-")  # the outbox of the letters the run causes
    env = {
        **os.environ,
        "KABINET_DATA_DIR": data_dir,
        "KABINET_THROTTLE_FREE_FAILURES": big,
        "KABINET_THROTTLE_CLIENT_FREE_FAILURES": big,
        "KABINET_PUBLIC_LOOKUPS_PER_WINDOW": big,
        "KABINET_PUBLIC_PAYMENTS_PER_WINDOW": big,
        "KABINET_ARGON2_TIME_COST": "1",
        "KABINET_ARGON2_MEMORY_COST": "1024",
    }
    server = subprocess.Popen(
        [
            str(BIN / "kabinet-portal"),
            "serve",
            "--demo",
            "--database-url",
            url.replace("postgresql://", "postgresql+asyncpg://"),
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{args.port}/api/v1"
    try:
        _wait_healthy(base, server)
        started = time.monotonic()
        # Logging out would end the run's session: the anonymous run covers that operation.
        logged_in = _st(
            base, args, "-H", f"Authorization: Bearer {_login(base)}", "--exclude-path-regex", "auth/logout"
        )
        anonymous = _st(base, args)
        print(
            f"\nschemathesis on PostgreSQL, {args.workers} portal workers, {args.examples} examples per "
            f"operation: logged in {'passed' if logged_in == 0 else 'FAILED'}, anonymous "
            f"{'passed' if anonymous == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s"
        )
        return 0 if logged_in == 0 and anonymous == 0 else 1
    finally:
        server.terminate()
        server.wait(timeout=60)
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
