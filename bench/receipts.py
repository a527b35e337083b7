"""Receipt speed: PDFs drawn per second in a batch on one core, and one receipt through the ASGI app.

Seeds a demo database into a temporary folder (the tests' anchor day, 20 November 2026), then:

1. gathers the data of 200 receipts (the demo's 60 accounts × the last months) and draws them one after
   another: drawing only, on one core (the process is pinned to one CPU where the OS allows it);
2. asks the app for one receipt ``GET /api/v1/receipts/2026-10`` many times through httpx's ASGI
   transport (no network), after a few warm-up requests: the median and the 95th percentile.

Targets (issue 5): at least 50 receipts a second in the batch; a single receipt in under 100 ms.
The figures are printed, never asserted: this machine is shared and noisy.

    .venv/bin/python bench/receipts.py [--receipts 200] [--requests 40]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal.app import build_state, create_app  # noqa: E402
from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.kit.clock import Clock, add_months  # noqa: E402
from portal.migrations import upgrade  # noqa: E402
from portal.models import Account  # noqa: E402
from portal.receipts.document import ReceiptDocument  # noqa: E402
from portal.receipts.render import render_receipt  # noqa: E402
from portal.receipts.service import build_receipt  # noqa: E402
from portal.settings import Settings  # noqa: E402

ANCHOR = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
LAST_RECEIPT = dt.date(2026, 10, 1)
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def pin_to_one_core(cpu: int | None) -> str:
    """Run on a single CPU (the first allowed one by default) when the OS supports affinity; says which."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0)) if cpu is None else cpu
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


async def seed(settings: Settings) -> None:
    state = build_state(settings)
    try:
        await upgrade(state.engine)
        async with state.sessionmaker() as session:
            await seed_demo(session, anchor=ANCHOR)
            await session.commit()
    finally:
        await state.engine.dispose()


async def documents(settings: Settings, count: int) -> list[ReceiptDocument]:
    """``count`` receipts: every account's last month, then the month before, and so on."""
    state = build_state(settings)
    found: list[ReceiptDocument] = []
    try:
        async with state.sessionmaker() as session:
            account_ids = list((await session.execute(select(Account.id).order_by(Account.id))).scalars())
            months_back = 0
            while len(found) < count:
                period = add_months(LAST_RECEIPT, -months_back)
                for account_id in account_ids[: count - len(found)]:
                    found.append(await build_receipt(session, account_id, period, ANCHOR))
                months_back += 1
    finally:
        await state.engine.dispose()
    return found


def batch(docs: list[ReceiptDocument]) -> tuple[float, float, int]:
    """Draw every document; (wall seconds, CPU seconds, total bytes)."""
    render_receipt(docs[0])  # fonts load once per process: not part of the batch
    size = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for document in docs:
        size += len(render_receipt(document))
    return time.perf_counter() - wall, time.process_time() - cpu, size


async def single(settings: Settings, requests: int) -> list[float]:
    """Milliseconds of each ``GET /api/v1/receipts/2026-10`` of one logged-in resident."""
    clock = Clock()
    clock.set(NOW)
    app = create_app(settings, clock=clock)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    timings: list[float] = []
    try:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.bench") as client:
            login = await client.post(
                "/api/v1/auth/login",
                json={"account_number": account_number(HAPPY_PATH_APARTMENT), "password": DEMO_PASSWORD},
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            for index in range(requests + 3):
                started = time.perf_counter()
                response = await client.get("/api/v1/receipts/2026-10", headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                assert response.content.startswith(b"%PDF-")
                if index >= 3:  # warm-up: first connections, first font subsets
                    timings.append(elapsed)
    finally:
        await lifespan.__aexit__(None, None, None)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--receipts", type=int, default=200)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--cpu", type=int, default=None, help="the CPU to pin to (default: the first)")
    args = parser.parse_args()

    pinned = pin_to_one_core(args.cpu)
    with tempfile.TemporaryDirectory(prefix="kabinet-bench-receipts-") as folder:
        data = Path(folder)
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{data / 'portal.sqlite3'}",
            demo=True,
            secret_key=SECRET,
            outbox_dir=data / "outbox",
            data_dir=data,
        )
        print(f"seeding the demo (anchor {ANCHOR}) into {data} …", flush=True)
        asyncio.run(seed(settings))
        docs = asyncio.run(documents(settings, args.receipts))

        wall, cpu, size = batch(docs)
        print(f"\nbatch: {len(docs)} receipts drawn, {pinned}")
        print(f"  {len(docs) / wall:7.1f} receipts/s wall   ({wall / len(docs) * 1000:5.1f} ms each)")
        print(f"  {len(docs) / cpu:7.1f} receipts/s CPU    ({cpu / len(docs) * 1000:5.1f} ms each)")
        print(f"  {size / len(docs) / 1024:7.1f} KiB per PDF          target: ≥ 50 receipts/s")

        timings = asyncio.run(single(settings, args.requests))
        timings.sort()
        p95 = timings[max(0, round(len(timings) * 0.95) - 1)]
        print(f"\nGET /api/v1/receipts/2026-10 through the ASGI app, {len(timings)} requests (SQLite)")
        print(f"  median {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   min {timings[0]:6.1f} ms")
        print("  target: median < 100 ms")


if __name__ == "__main__":
    main()
