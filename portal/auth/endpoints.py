"""Routes of login, logout and the current session."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response

from portal.auth import service
from portal.auth.dependencies import CurrentResident
from portal.auth.schemas import LoginRequest, SessionInfo
from portal.kit.deps import ClientAddress, DbSession, State
from portal.kit.errors import error_responses, unprocessable

router = APIRouter(prefix="/auth", tags=["auth"])


def _info(state: State, principal: service.Principal, token: str | None = None) -> SessionInfo:
    return SessionInfo(
        token=token,
        account_number=principal.account_number,
        expires_at=principal.expires_at,
        idle_timeout_seconds=int(dt.timedelta(minutes=state.settings.session_idle_minutes).total_seconds()),
    )


@router.post(
    "/login",
    response_model=SessionInfo,
    response_model_exclude_none=True,
    summary="Вход: номер лицевого счета и пароль",
    responses={**error_responses(401, 429), **unprocessable()},
)
async def login(body: LoginRequest, state: State, session: DbSession, client: ClientAddress) -> SessionInfo:
    token, principal = await service.login(state, session, body.account_number, body.password, client)
    return _info(state, principal, token)


@router.get(
    "/session",
    response_model=SessionInfo,
    response_model_exclude_none=True,
    summary="Текущий сеанс",
    responses=error_responses(401),
)
async def current_session(state: State, principal: CurrentResident) -> SessionInfo:
    return _info(state, principal)


@router.post("/logout", status_code=204, summary="Выход", responses=error_responses(401))
async def logout(session: DbSession, principal: CurrentResident) -> Response:
    await service.logout(session, principal)
    return Response(status_code=204)
