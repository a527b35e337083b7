"""The ``/api/v1`` router: every domain's routes."""

from __future__ import annotations

from fastapi import APIRouter

from portal import health
from portal.accounts.endpoints import router as accounts_router
from portal.auth.endpoints import router as auth_router
from portal.captcha.endpoints import router as captcha_router
from portal.errors import error_responses
from portal.history.endpoints import router as history_router
from portal.payments.endpoints import router as payments_router
from portal.profile.endpoints import router as profile_router
from portal.readings.endpoints import router as readings_router
from portal.receipts.endpoints import router as receipts_router
from portal.recovery.endpoints import router as recovery_router
from portal.registration.endpoints import router as registration_router

API_PREFIX = "/api/v1"

# Any request can be refused as malformed HTTP (a bad header, broken framing) before it reaches a route.
api_router = APIRouter(prefix=API_PREFIX, responses=error_responses(400))
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
    receipts_router,
    payments_router,
):
    api_router.include_router(router)
