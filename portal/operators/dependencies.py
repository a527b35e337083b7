"""The operator behind a request of the operator API: a key, never a resident's token; throttled per key."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portal.kit.deps import DbSession, State
from portal.operators.errors import OperatorTooManyRequests
from portal.operators.service import OperatorPrincipal, authenticate_operator
from portal.throttling.repository import FailureCounterRepository
from portal.throttling.service import Window, take_window

#: Its own security scheme in the OpenAPI document, apart from the residents' ``HTTPBearer``.
operator_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OperatorKey",
    description="An operator key (`kop_…`) made by `kabinet-portal operator-key create NAME`.",
)
OperatorCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(operator_bearer)]
_MINUTE = dt.timedelta(minutes=1)


async def current_operator(
    state: State, session: DbSession, credentials: OperatorCredentials
) -> OperatorPrincipal:
    """The key's operator, or 401; each request is counted in the key's window, or 429."""
    now = state.clock.now()
    principal = await authenticate_operator(
        session, state.tokens, credentials.credentials if credentials else None, now
    )
    subject = f"operator:{principal.key_id}"
    limit = state.settings.operator_requests_per_minute
    if not await take_window(session, Window.OPERATOR, subject, now, limit=limit, length=_MINUTE):
        until = await FailureCounterRepository(session).blocked_until(Window.OPERATOR, [subject])
        await session.commit()
        seconds = max(1, int(((until or now + _MINUTE) - now).total_seconds()))
        raise OperatorTooManyRequests(limit=limit, seconds=seconds)
    return principal


CurrentOperator = Annotated[OperatorPrincipal, Depends(current_operator)]
