"""Errors of registration."""

from __future__ import annotations

from portal.kit.errors import DomainError, Operations
from portal.throttling.errors import TooManyAttempts, TooManyRequests


class InvalidAccountNumber(DomainError):
    status_code = 422
    code = "invalid_account_number"
    message = (
        "Поле «Лицевой счет»: укажите номер лицевого счета из квитанции — от 6 до 20 цифр, "
        "без букв и пробелов."
    )
    field = "account_number"


class InvalidEmail(DomainError):
    status_code = 422
    code = "invalid_email"
    message = "Поле «Введите e-mail»: адрес электронной почты указан неверно (пример: ivanov@example.ru)."
    field = "email"


class AccountNotFound(DomainError):
    status_code = 404
    code = "account_not_found"
    message = "Лицевой счет не найден. Проверьте номер в квитанции."
    field = "account_number"


class InvalidReceiptTotal(DomainError):
    status_code = 422
    code = "invalid_amount"
    message = (
        "Поле «Итого к оплате за указанный месяц»: укажите сумму из раздела «ВСЕГО К ОПЛАТЕ ПО ВСЕМ "
        "ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» в копейках, не меньше нуля (1 023,12 ₽ — 102312)."
    )
    field = "receipt_total_kopecks"


class EmailsDiffer(DomainError):
    status_code = 422
    code = "emails_differ"
    message = "Поле «Введите e-mail повторно»: адрес не совпадает с полем «Введите e-mail»."
    field = "email_repeat"


class TermsNotAccepted(DomainError):
    status_code = 422
    code = "terms_not_accepted"
    message = (
        "Для регистрации примите условия соглашения, регулирующего условия эксплуатации сервиса "
        "«Личный кабинет» (поле «Принять условия соглашения»)."
    )
    field = "accept_terms"


class RegistrationRefused(DomainError):
    """The one answer to every failed knowledge check of step 2."""

    status_code = 409
    code = "registration_data_mismatch"
    message = (
        "Данные не совпадают с квитанцией. Проверьте номер лицевого счета и сумму «Итого к оплате за "
        "указанный месяц» из последней квитанции (без взноса на капитальный ремонт). Если вы уже "
        "зарегистрированы, воспользуйтесь восстановлением пароля."
    )


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "POST /api/v1/registration/lookup": (InvalidAccountNumber, TooManyRequests, AccountNotFound),
    "POST /api/v1/registration": (
        InvalidAccountNumber,
        InvalidReceiptTotal,
        InvalidEmail,
        EmailsDiffer,
        TermsNotAccepted,
        TooManyAttempts,
        RegistrationRefused,
    ),
}
