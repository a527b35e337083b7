"""Errors of logging in and of the session every logged-in route needs."""

from __future__ import annotations

from portal.kit.errors import DomainError, Operations
from portal.throttling.errors import TooManyAttempts

_BEARER = {"WWW-Authenticate": "Bearer"}


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"
    message = "Требуется вход в личный кабинет."
    default_headers = _BEARER


class TokenNotValid(NotAuthenticated):
    """A token the portal does not know (never issued, logged out, replaced)."""

    message = "Требуется вход в личный кабинет: токен не действителен."


class SessionExpired(DomainError):
    status_code = 401
    code = "session_expired"
    message = "Сеанс завершён. Войдите в личный кабинет снова."
    default_headers = _BEARER


class LoginFailed(DomainError):
    """The one answer to an unknown account, an unregistered one and a wrong password."""

    status_code = 401
    code = "login_failed"
    message = "Неверный номер лицевого счета или пароль."


#: The 401s of every route behind a session (or a readings token): none, an unknown one, an expired one.
SESSION_ERRORS = (NotAuthenticated, TokenNotValid, SessionExpired)

#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "POST /api/v1/auth/login": (LoginFailed, TooManyAttempts),
    "GET /api/v1/auth/session": SESSION_ERRORS,
    "POST /api/v1/auth/logout": SESSION_ERRORS,
}
