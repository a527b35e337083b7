"""The ``/api/v1`` router: every domain's routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from portal import health
from portal.accounts.endpoints import DIRECT_VIEWS as ACCOUNT_VIEWS
from portal.accounts.endpoints import router as accounts_router
from portal.auth.endpoints import router as auth_router
from portal.captcha.endpoints import router as captcha_router
from portal.history.endpoints import DIRECT_VIEWS as HISTORY_VIEWS
from portal.history.endpoints import router as history_router
from portal.kit.errors import FIELD_NAMES, RepeatedQueryParameter, error_responses, unprocessable
from portal.kit.views import DirectView
from portal.notify.endpoints import router as notify_router
from portal.operators.router import operator_router
from portal.payments.endpoints import router as payments_router
from portal.profile.endpoints import router as profile_router
from portal.readings.endpoints import router as readings_router
from portal.receipts.endpoints import router as receipts_router
from portal.recovery.endpoints import router as recovery_router
from portal.registration.endpoints import router as registration_router

API_PREFIX = "/api/v1"


async def single_query_values(request: Request) -> None:
    """A query parameter given twice (``?meter_id=1&meter_id=2``) is refused: which one was meant?

    Every parameter of this API is one value; the router alone would silently take the last one.
    """
    seen: set[str] = set()
    for name, _value in request.query_params.multi_items():
        if name in seen:
            raise RepeatedQueryParameter(name=FIELD_NAMES.get(name, name), field=name)
        seen.add(name)


# Any request can be refused as malformed HTTP (a bad header, broken framing) before it reaches a route,
# or for a query parameter given twice (422; routes document their own 422 codes over this one).
api_router = APIRouter(
    prefix=API_PREFIX,
    responses={**error_responses(400), **unprocessable()},
    dependencies=[Depends(single_query_values)],
)
for router in (
    health.router,
    registration_router,
    auth_router,
    recovery_router,
    accounts_router,
    readings_router,
    history_router,
    captcha_router,
    profile_router,
    notify_router,
    receipts_router,
    payments_router,
    operator_router,
):
    api_router.include_router(router)


#: Residents' views that :class:`portal.kit.views.CachedViewsMiddleware` computes itself, by full path.
direct_views: dict[str, DirectView] = {
    f"{API_PREFIX}{path}": view for views in (ACCOUNT_VIEWS, HISTORY_VIEWS) for path, view in views.items()
}
