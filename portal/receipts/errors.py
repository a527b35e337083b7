"""Errors of receipts."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.kit.errors import DomainError, Operations, RetryLater
from portal.periods import MAX_DATE, MIN_DATE


class InvalidReceiptMonth(DomainError):
    status_code = 422
    code = "invalid_period"
    message = (
        f"Месяц квитанции указывается как ГГГГ-ММ (например, 2026-10), с {MIN_DATE:%Y} по {MAX_DATE:%Y} год."
    )
    field = "period"


class ReceiptNotFound(DomainError):
    status_code = 404
    code = "receipt_not_found"
    message = "Квитанции за {month} нет: за этот месяц по лицевому счёту ничего не начислено."
    field = "period"


class PayeeRequisitesMissing(DomainError):
    """A payee the charges name has no requisites loaded by the billing center's import."""

    status_code = 503
    code = "payee_requisites_missing"
    message = "Реквизиты получателя платежей «{payee}» не загружены расчётным центром: квитанция недоступна."


class TooManyReceiptLetters(RetryLater):
    """``TooManyReceiptLetters(retry_after_seconds, letters=…)``: the pause after ``letters`` letters."""

    status_code = 429
    code = "too_many_receipt_emails"
    message = (
        "Квитанции уже отправлены на e-mail {letters} раза подряд. "
        "Следующую можно отправить через {minutes} мин."
    )


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "GET /api/v1/receipts/{period}": (
        *SESSION_ERRORS,
        InvalidReceiptMonth,
        ReceiptNotFound,
        PayeeRequisitesMissing,
    ),
    "GET /api/v1/receipts/{period}/payment-codes": (
        *SESSION_ERRORS,
        InvalidReceiptMonth,
        ReceiptNotFound,
        PayeeRequisitesMissing,
    ),
    "POST /api/v1/receipts/{period}/email": (
        *SESSION_ERRORS,
        InvalidReceiptMonth,
        ReceiptNotFound,
        PayeeRequisitesMissing,
        TooManyReceiptLetters,
    ),
}
