"""Routes of captcha images (a logged-in resident asks for one before changing the profile)."""

from __future__ import annotations

from fastapi import APIRouter

from portal.auth.dependencies import CurrentResident
from portal.captcha import service
from portal.captcha.schemas import CaptchaIssued, CaptchaRequest
from portal.kit.deps import DbSession, State
from portal.kit.errors import error_responses, unprocessable

router = APIRouter(prefix="/captcha", tags=["profile"])


@router.post(
    "",
    status_code=201,
    response_model=CaptchaIssued,
    summary="Новая картинка с кодом для смены e-mail или пароля (одноразовая, на несколько минут)",
    description=(
        "Картинка приходит в ответе (PNG в base64, 200×70). Код действует несколько минут, для одной "
        "цели и одного лицевого счета, один раз; три неверных ввода — и картинка недействительна. "
        "Новая картинка той же цели заменяет прежнюю."
    ),
    responses={**error_responses(401), **unprocessable(formats=("invalid_purpose",))},
)
async def new_captcha(
    body: CaptchaRequest, state: State, session: DbSession, principal: CurrentResident
) -> CaptchaIssued:
    purpose = service.parse_purpose(body.purpose)
    return await service.issue_captcha(state, session, principal.account_id, purpose)
