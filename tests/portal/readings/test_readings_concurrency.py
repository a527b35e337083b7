"""Concurrent submissions to the same meters: no server error, one accepted reading per meter and period,
a valid replacement chain for the rest, and one stored result per idempotency key.

On PostgreSQL the requests truly run at once on the connection pool; on SQLite the single connection
serializes them.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from portal.demo.accounts import HAPPY_PATH_APARTMENT
from tests.conftest import Portal
from tests.support.readings import READINGS, meter_ids, previous_values, readings_of, ru

REQUESTS = 50
SHARED_KEY = "concurrent-submission-key"


async def test_concurrent_submissions_keep_one_accepted_reading_per_meter(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    ids = await meter_ids(portal, HAPPY_PATH_APARTMENT)
    previous = await previous_values(portal, HAPPY_PATH_APARTMENT)
    meters = [ids["cold_water"], ids["hot_water"]]

    def body(step: int) -> dict[str, object]:
        increment = Decimal(1) + Decimal(step) / 100
        return {"readings": [{"meter_id": m, "value": ru(previous[m] + increment)} for m in meters]}

    keyed_body = body(0)
    requests = []
    for index in range(REQUESTS):
        if index % 2 == 0:
            requests.append(
                portal.client.post(
                    READINGS, json=keyed_body, headers={**headers, "Idempotency-Key": SHARED_KEY}
                )
            )
        else:
            requests.append(portal.client.post(READINGS, json=body(index), headers=headers))
    responses = await asyncio.gather(*requests)

    assert [r.status_code for r in responses] == [200] * REQUESTS, [
        r.text for r in responses if r.status_code != 200
    ]
    keyed = responses[0::2]
    assert len({r.content for r in keyed}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in keyed) == len(keyed) - 1
    for response in responses:
        for result in response.json()["results"]:
            assert result["status"] in {"accepted", "replaced_previous"}, result

    stored_once = REQUESTS // 2 + 1  # every unkeyed request, and the keyed one once
    for meter_id in meters:
        rows = await readings_of(portal, meter_id)
        assert len(rows) == stored_once
        accepted = [row for row in rows if row.status == "accepted"]
        assert len(accepted) == 1
        replaced = [row for row in rows if row.status != "accepted"]
        assert all(row.status == "replaced" for row in replaced)
        by_id = {row.id: row for row in rows}
        successors = [row.replaced_by_id for row in replaced]
        # A single chain: each row is replaced by a later row of the same meter and period, no row twice.
        assert len(set(successors)) == len(successors)
        for row in replaced:
            assert row.replaced_by_id in by_id
            assert row.replaced_by_id > row.id
        # Walking the chain from the oldest row passes every row and ends at the accepted one.
        current = min(by_id)
        seen = 1
        while (successor := by_id[current].replaced_by_id) is not None:
            current = successor
            seen += 1
        assert (current, seen) == (accepted[0].id, stored_once)
        # Each reported result names a row that exists; the answers' "accepted" is the chain's start.
        first_statuses = [
            result["status"]
            for response in responses
            for result in response.json()["results"]
            if result["meter_id"] == meter_id and response.headers.get("idempotent-replayed") != "true"
        ]
        assert first_statuses.count("accepted") == 1
