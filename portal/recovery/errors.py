"""Errors of password recovery."""

from __future__ import annotations

from portal.kit.errors import DomainError, Operations
from portal.registration.errors import InvalidAccountNumber
from portal.security.errors import PasswordsDiffer, WeakPassword
from portal.throttling.errors import TooManyAttempts


class RecoveryCodeInvalid(DomainError):
    """The one answer to a wrong, expired or used code, or a code of another account."""

    status_code = 409
    code = "recovery_code_invalid"
    message = (
        "Код восстановления неверен, устарел или уже использован. Проверьте номер лицевого счета и код "
        "из последнего письма или запросите новый код."
    )
    field = "code"


class InvalidRecoveryEmail(DomainError):
    status_code = 422
    code = "invalid_email"
    message = (
        "Поле «Введите e-mail»: укажите адрес электронной почты, указанный при регистрации "
        "(пример: ivanov@example.ru)."
    )
    field = "email"


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "POST /api/v1/auth/recovery": (InvalidAccountNumber, InvalidRecoveryEmail, TooManyAttempts),
    "POST /api/v1/auth/recovery/confirm": (
        InvalidAccountNumber,
        WeakPassword,
        PasswordsDiffer,
        TooManyAttempts,
        RecoveryCodeInvalid,
    ),
}
