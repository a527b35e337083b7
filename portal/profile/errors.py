"""Errors of the profile: changing the e-mail or the password."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.captcha.errors import CaptchaInvalid, CaptchaWrong
from portal.kit.errors import DomainError, Operations
from portal.security.errors import PasswordsDiffer, WeakPassword
from portal.throttling.errors import TooManyAttempts


class CurrentPasswordWrong(DomainError):
    status_code = 409
    code = "current_password_wrong"
    message = "Поле «Текущий пароль»: пароль введён неверно."
    field = "current_password"


class InvalidNewEmail(DomainError):
    status_code = 422
    code = "invalid_email"
    message = "Поле «Новый e-mail»: адрес электронной почты указан неверно (пример: ivanov@example.ru)."
    field = "new_email"


class NewEmailsDiffer(DomainError):
    status_code = 422
    code = "emails_differ"
    message = "Поле «Новый e-mail повторно»: адрес не совпадает с полем «Новый e-mail»."
    field = "new_email_repeat"


class EmailUnchanged(DomainError):
    status_code = 409
    code = "email_unchanged"
    message = "Поле «Новый e-mail»: этот адрес уже указан в личном кабинете."
    field = "new_email"


class PasswordUnchanged(DomainError):
    status_code = 409
    code = "password_unchanged"
    message = "Поле «Новый пароль»: новый пароль совпадает с текущим — придумайте другой."
    field = "new_password"


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "POST /api/v1/profile/email": (
        *SESSION_ERRORS,
        InvalidNewEmail,
        NewEmailsDiffer,
        EmailUnchanged,
        CurrentPasswordWrong,
        TooManyAttempts,
        CaptchaWrong,
        CaptchaInvalid,
    ),
    "POST /api/v1/profile/password": (
        *SESSION_ERRORS,
        WeakPassword,
        PasswordsDiffer,
        CurrentPasswordWrong,
        TooManyAttempts,
        PasswordUnchanged,
        CaptchaWrong,
        CaptchaInvalid,
    ),
    "GET /api/v1/profile": SESSION_ERRORS,
}
