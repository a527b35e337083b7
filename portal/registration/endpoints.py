"""Routes of registration: step 1 finds the account, step 2 registers it and mails a password."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import JSONResponse

from portal.kit.deps import ClientAddress, DbSession, State
from portal.kit.errors import error_responses, render_error, unprocessable
from portal.registration import service
from portal.registration.schemas import LookupRequest, LookupResult, RegistrationAccepted, RegistrationRequest

router = APIRouter(prefix="/registration", tags=["registration"])


@router.post(
    "/lookup",
    response_model=LookupResult,
    summary="Регистрация, шаг 1: найти лицевой счет",
    description=(
        "Every lookup counts against the client address's window (30 per 10 minutes by default): "
        "429 with `Retry-After` beyond it."
    ),
    responses={**error_responses(404, 429), **unprocessable(formats=("invalid_account_number",))},
)
async def lookup(
    body: LookupRequest, state: State, session: DbSession, client: ClientAddress
) -> LookupResult:
    return await service.lookup(state, session, body.account_number, client)


@router.post(
    "",
    status_code=202,
    response_model=RegistrationAccepted,
    summary="Регистрация, шаг 2: сумма из квитанции и e-mail — пароль придёт письмом",
    responses={
        **error_responses(409, 429),
        **unprocessable(
            "emails_differ",
            formats=("invalid_account_number", "invalid_amount", "invalid_email", "terms_not_accepted"),
        ),
    },
)
async def register(
    body: RegistrationRequest,
    state: State,
    session: DbSession,
    client: ClientAddress,
    background: BackgroundTasks,
) -> RegistrationAccepted | JSONResponse:
    form = service.check_form(body)
    outcome = await service.register(state, session, form, client)
    # The request session would commit only after the response and its background tasks: commit
    # now, so a password is never mailed for a user that a failed commit did not keep.
    await session.commit()
    for letter in outcome.letters:
        background.add_task(state.mailer.send, letter)
    if outcome.refusal is not None:
        # Returned rather than raised: a raised error's response would drop the background letters.
        return render_error(outcome.refusal)
    return RegistrationAccepted(
        message=f"Регистрация выполнена. Пароль для входа отправлен на e-mail {outcome.email_masked}.",
        email_masked=outcome.email_masked,
    )
