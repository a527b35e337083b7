"""Routes of password recovery: ask for a code by e-mail, then set a new password with it."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response

from portal.kit.deps import ClientAddress, DbSession, State
from portal.kit.errors import error_responses, unprocessable
from portal.recovery import service
from portal.recovery.schemas import RecoveryConfirm, RecoveryRequest, RecoveryRequested

router = APIRouter(prefix="/auth/recovery", tags=["auth"])


@router.post(
    "",
    status_code=202,
    response_model=RecoveryRequested,
    summary="Восстановление пароля: код на e-mail, указанный при регистрации",
    responses={
        **error_responses(429),
        **unprocessable(formats=("invalid_account_number", "invalid_email")),
    },
)
async def request_code(
    body: RecoveryRequest,
    state: State,
    session: DbSession,
    client: ClientAddress,
    background: BackgroundTasks,
) -> RecoveryRequested:
    letters = await service.request_code(state, session, body.account_number, body.email, client)
    # The request session would commit only after the background letters: the code must exist first.
    await session.commit()
    for letter in letters:
        background.add_task(state.mailer.send, letter)
    return RecoveryRequested(message=service.RECOVERY_REQUESTED_MESSAGE)


@router.post(
    "/confirm",
    status_code=204,
    summary="Восстановление пароля: код из письма и новый пароль",
    responses={
        **error_responses(409, 429),
        **unprocessable("weak_password", "passwords_differ", formats=("invalid_account_number",)),
    },
)
async def confirm(
    body: RecoveryConfirm,
    state: State,
    session: DbSession,
    client: ClientAddress,
    background: BackgroundTasks,
) -> Response:
    form = service.check_confirm(body)
    letters = await service.confirm(state, session, form, client)
    await session.commit()
    for letter in letters:
        background.add_task(state.mailer.send, letter)
    return Response(status_code=204, background=background)
