"""The views the middleware computes itself answer exactly what their routes answer."""

from __future__ import annotations

from typing import Any

import pytest

from portal.auth import dependencies, service
from portal.demo.accounts import DEBTOR_APARTMENT
from tests.conftest import PortalFactory

RANGE = "date_from=2023-10-01&date_to=2026-11-30"
#: Every view the middleware computes (portal.api.direct_views), with a query it takes.
VIEWS = [
    "/api/v1/account",
    "/api/v1/receipts",
    f"/api/v1/history/readings?{RANGE}",
    f"/api/v1/history/payments?{RANGE}",
    f"/api/v1/history/statement?{RANGE}",
    f"/api/v1/history/statement?{RANGE}&purpose=capital_repair",
]


@pytest.mark.parametrize("url", VIEWS)
async def test_a_direct_view_answers_what_its_route_answers(
    make_portal: PortalFactory, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = await make_portal(cache_enabled=False)
    headers = await portal.login_as(DEBTOR_APARTMENT)
    routes_authenticated: list[object] = []
    authenticate = service.authenticate  # what the routes' dependencies call

    async def counted(*args: Any) -> Any:
        routes_authenticated.append(args)
        return await authenticate(*args)

    monkeypatch.setattr(dependencies, "authenticate", counted)
    direct = await portal.client.get(url, headers=headers)
    assert not routes_authenticated  # the middleware answered
    # A parameter the middleware does not know sends the request to the route (which ignores it).
    routed = await portal.client.get(f"{url}{'&' if '?' in url else '?'}unknown=1", headers=headers)
    assert len(routes_authenticated) == 1
    assert direct.status_code == routed.status_code == 200, (direct.text, routed.text)
    assert direct.content == routed.content
    assert direct.headers["content-type"] == routed.headers["content-type"] == "application/json"


async def test_what_the_middleware_does_not_take_the_route_refuses(make_portal: PortalFactory) -> None:
    portal = await make_portal(cache_enabled=False)
    headers = await portal.login_as(DEBTOR_APARTMENT)
    readings = "/api/v1/history/readings"
    twice = await portal.client.get(f"{readings}?{RANGE}&date_to=2026-10-31", headers=headers)
    assert twice.status_code == 422 and twice.json()["field"] == "date_to", twice.text
    backwards = await portal.client.get(
        f"{readings}?date_from=2026-11-30&date_to=2026-01-01", headers=headers
    )
    assert backwards.status_code == 422 and backwards.json()["code"] == "invalid_period"
    meter = await portal.client.get(f"{readings}?{RANGE}&meter_id=0", headers=headers)
    assert meter.status_code == 422, meter.text
    purpose = await portal.client.get(f"/api/v1/history/statement?{RANGE}&purpose=rent", headers=headers)
    assert purpose.status_code == 422, purpose.text
    unknown = await portal.client.get("/api/v1/account", headers={"Authorization": "Bearer nobody"})
    assert unknown.status_code == 401 and unknown.json()["code"] == "not_authenticated", unknown.text
    assert (await portal.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    ended = await portal.client.get("/api/v1/account", headers=headers)
    assert ended.status_code == 401, ended.text
