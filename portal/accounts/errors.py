"""Errors of the account's summary and receipt list, and of the accounts attached to a login."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.idempotency.errors import IdempotencyKeyReused, RequestInProgress
from portal.kit.errors import DomainError, Operations
from portal.payments.errors import ProviderUnavailable
from portal.registration.errors import InvalidAccountNumber, InvalidReceiptTotal
from portal.throttling.errors import TooManyAttempts


class AttachRefused(DomainError):
    """The one answer to every failed proof: unknown account, wrong total, an account of another login."""

    status_code = 409
    code = "attach_data_mismatch"
    message = (
        "Данные не совпадают с квитанцией. Проверьте номер лицевого счета и сумму «Итого к оплате за "
        "указанный месяц» из последней квитанции (без взноса на капитальный ремонт). Лицевой счет, "
        "уже подключённый к другому личному кабинету, подключить нельзя."
    )


class AccountNotAttached(DomainError):
    status_code = 404
    code = "account_not_attached"
    message = "Этот лицевой счет не подключён к вашему личному кабинету."
    field = "account_number"


class OwnAccountNotDetachable(DomainError):
    status_code = 409
    code = "own_account_not_detachable"
    message = (
        "Лицевой счет, с которым вы зарегистрировались, отключить нельзя: по нему выполняется вход "
        "в личный кабинет."
    )
    field = "account_number"


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "GET /api/v1/account": SESSION_ERRORS,
    "GET /api/v1/receipts": SESSION_ERRORS,
    "GET /api/v1/accounts": SESSION_ERRORS,
    "POST /api/v1/accounts/attach": (
        *SESSION_ERRORS,
        InvalidAccountNumber,
        InvalidReceiptTotal,
        TooManyAttempts,
        AttachRefused,
    ),
    "POST /api/v1/accounts/current": (*SESSION_ERRORS, InvalidAccountNumber, AccountNotAttached),
    "DELETE /api/v1/accounts/{account_number}": (
        *SESSION_ERRORS,
        InvalidAccountNumber,
        AccountNotAttached,
        OwnAccountNotDetachable,
    ),
    "POST /api/v1/accounts/payments": (
        *SESSION_ERRORS,
        IdempotencyKeyReused,
        RequestInProgress,
        ProviderUnavailable,
    ),
}
