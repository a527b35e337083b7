"""The throttles hold across processes: 64 concurrent wrong attempts against two real uvicorn workers.

``kabinet-portal serve --workers 2`` on a PostgreSQL copy of the seeded demo; every flow's burst comes
from one address, and no more than the documented limit of attempts may be checked (answered other
than 429). The resident's right password from another address still logs in afterwards.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.throttle_burst import FLOWS, run_bursts, serving
from portal.settings import Settings
from tests.conftest import pg_create_database, pg_database_name, pg_drop_database
from tests.support.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ATTEMPTS = 64


def test_bursts_against_two_workers_check_no_more_than_the_limits(pg_template: str, tmp_path: Path) -> None:
    name = pg_database_name("workers")
    url = asyncio.run(pg_create_database(name, template=pg_template))
    try:
        with serving(url, 2, free_port(), tmp_path) as base:
            results, resident_status = asyncio.run(run_bursts(base, ATTEMPTS))
    finally:
        asyncio.run(pg_drop_database(name))
    settings = Settings(demo=True)
    assert [flow.name for flow, _, _ in results] == [flow.name for flow in FLOWS]
    for flow, checked, counts in results:
        assert all(status < 500 for status in counts), (flow.name, counts)
        assert 1 <= checked <= flow.limit(settings), (flow.name, counts)
        assert counts.get(429, 0) == ATTEMPTS - checked, (flow.name, counts)
    assert resident_status == 200
