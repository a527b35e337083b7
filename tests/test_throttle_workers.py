"""The throttles hold across processes: 64 concurrent wrong attempts against two real uvicorn workers.

``kabinet-portal serve --workers 2`` on a PostgreSQL copy of the seeded demo; every flow's burst comes
from one address, and no more than the documented limit of attempts may be checked (answered other
than 429). The resident's right password from another address still logs in afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from bench.throttle_burst import FLOWS, run_bursts, serving
from portal.settings import Settings
from tests.conftest import _counter, _pg_admin, _with_database, pg_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ATTEMPTS = 64


def _port_in_range(first: int = 18400, last: int = 18479) -> int:
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the range")


def test_bursts_against_two_workers_check_no_more_than_the_limits(pg_template: str, tmp_path: Path) -> None:
    url = pg_url()
    assert url is not None
    name = f"kabinet_w_{os.getpid()}_{next(_counter)}"
    asyncio.run(_pg_admin(url, f"CREATE DATABASE {name} TEMPLATE {pg_template}"))
    try:
        with serving(_with_database(url, name), 2, _port_in_range(), tmp_path) as base:
            results, resident_status = asyncio.run(run_bursts(base, ATTEMPTS))
    finally:
        asyncio.run(_pg_admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    settings = Settings(demo=True)
    assert [flow.name for flow, _, _ in results] == [flow.name for flow in FLOWS]
    for flow, checked, counts in results:
        assert all(status < 500 for status in counts), (flow.name, counts)
        assert 1 <= checked <= flow.limit(settings), (flow.name, counts)
        assert counts.get(429, 0) == ATTEMPTS - checked, (flow.name, counts)
    assert resident_status == 200
