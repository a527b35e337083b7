"""Routes of the profile: the resident's e-mail and password (the account comes from the session)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response

from portal.auth.dependencies import CurrentResident
from portal.kit.deps import ClientAddress, DbSession, State
from portal.kit.errors import error_responses, unprocessable
from portal.profile import service
from portal.profile.schemas import EmailChanged, EmailChangeRequest, PasswordChangeRequest, ProfileView

router = APIRouter(prefix="/profile", tags=["profile"])


@router.get(
    "",
    response_model=ProfileView,
    summary="Профиль: номер лицевого счета и e-mail",
    responses=error_responses(401),
)
async def get_profile(session: DbSession, principal: CurrentResident) -> ProfileView:
    return await service.profile(session, principal)


@router.post(
    "/email",
    response_model=EmailChanged,
    summary="Смена e-mail: новый адрес дважды, текущий пароль и код с картинки (`email_change`)",
    description=(
        "Сначала проверяется формат (422 `invalid_email`, `emails_differ`), затем текущий пароль "
        "(409 `current_password_wrong`, после нескольких ошибок 429), затем код с картинки "
        "(409 `captcha_wrong` — введите код с новой картинки; 409 `captcha_invalid` — картинка устарела, "
        "использована или выдана для другого). На прежний адрес уходит уведомление, на новый — "
        "подтверждение."
    ),
    responses={
        **error_responses(401, 409, 429),
        **unprocessable("emails_differ", formats=("invalid_email",)),
    },
)
async def change_email(
    body: EmailChangeRequest,
    state: State,
    session: DbSession,
    principal: CurrentResident,
    client: ClientAddress,
    background: BackgroundTasks,
) -> EmailChanged:
    outcome = await service.change_email(state, session, principal, body, client)
    # The letters tell of a change: it must be committed before they go.
    await session.commit()
    for letter in outcome.letters:
        background.add_task(state.mailer.send, letter)
    return EmailChanged(message=service.EMAIL_CHANGED_MESSAGE, email_masked=outcome.email_masked)


@router.post(
    "/password",
    status_code=204,
    summary="Смена пароля: текущий, новый дважды и код с картинки (`password_change`)",
    description=(
        "Сначала проверяются правила нового пароля (422 `weak_password`, `passwords_differ`), затем "
        "текущий пароль (409 `current_password_wrong`, после нескольких ошибок 429; 409 "
        "`password_unchanged`), затем код с картинки (409 `captcha_wrong`, `captcha_invalid`). Все "
        "другие сеансы завершаются, этот остаётся; на e-mail уходит уведомление."
    ),
    responses={
        **error_responses(401, 409, 429),
        **unprocessable("weak_password", "passwords_differ"),
    },
)
async def change_password(
    body: PasswordChangeRequest,
    state: State,
    session: DbSession,
    principal: CurrentResident,
    client: ClientAddress,
    background: BackgroundTasks,
) -> Response:
    letters = await service.change_password(state, session, principal, body, client)
    await session.commit()
    for letter in letters:
        background.add_task(state.mailer.send, letter)
    return Response(status_code=204, background=background)
