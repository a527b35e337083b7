"""``/api/v1/operator``: the billing center's API, behind operator keys only.

Every route under this router needs an operator key (the router's own dependency, so no route can be
added without it); a route that wants to know the operator declares :data:`CurrentOperator` as well
(resolved once per request). The exports live here, and the batch imports beside them
(``POST /operator/imports/{kind}``, portal/exchange/endpoints.py): the key check and the per-key
throttle come with the router.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from portal.exchange.endpoints import router as imports_router
from portal.exports.endpoints import router as exports_router
from portal.kit.errors import error_responses
from portal.operators.dependencies import current_operator

operator_router = APIRouter(
    prefix="/operator",
    dependencies=[Depends(current_operator)],
    responses=error_responses(401, 429),
)
operator_router.include_router(exports_router)
operator_router.include_router(imports_router)
