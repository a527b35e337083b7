"""Errors of captchas."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.kit.errors import DomainError, Operations


class InvalidPurpose(DomainError):
    status_code = 422
    code = "invalid_purpose"
    message = "Поле «Цель картинки»: допустимые значения — {allowed}."
    field = "purpose"


class CaptchaWrong(DomainError):
    status_code = 409
    code = "captcha_wrong"
    message = "Поле «Введите код с картинки»: код введён неверно. Введите код с новой картинки."
    field = "captcha_answer"


class CaptchaInvalid(DomainError):
    """The one answer to an unknown, expired, used or spent captcha, or one of another purpose or account."""

    status_code = 409
    code = "captcha_invalid"
    message = (
        "Поле «Введите код с картинки»: картинка устарела или уже использована. Введите код с новой картинки."
    )
    field = "captcha_answer"


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "POST /api/v1/captcha": (*SESSION_ERRORS, InvalidPurpose),
}
