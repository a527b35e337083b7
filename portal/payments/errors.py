"""Errors of card payments and of the payment services' notifications."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.idempotency.errors import IdempotencyKeyReused, RequestInProgress
from portal.kit.errors import DomainError, NotFound, Operations
from portal.throttling.errors import TooManyAttempts, TooManyRequests


class InvalidPaymentAmount(DomainError):
    status_code = 422
    code = "invalid_amount"
    message = (
        "Поле «Сумма»: укажите сумму больше нуля и не более 500 000,00 ₽ (в копейках: от 1 до 50 000 000)."
    )
    field = "amount_kopecks"


class PaymentNotFound(DomainError):
    status_code = 404
    code = "payment_not_found"
    message = "Платёж не найден."


class ProviderUnavailable(DomainError):
    status_code = 503
    code = "provider_unavailable"
    message = "Платёжный сервис {name} сейчас недоступен. Повторите попытку позже или выберите другой сервис."
    field = "provider"


class CapitalRepairAccountNotFound(DomainError):
    status_code = 404
    code = "capital_repair_account_not_found"
    message = (
        "Лицевой счёт ФКР не найден. Проверьте номер в блоке «РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ» квитанции."
    )
    field = "capital_repair_account"


class NoCapitalRepairAccount(DomainError):
    status_code = 409
    code = "no_capital_repair_account"
    message = "У лицевого счёта нет счёта в фонде капитального ремонта."
    field = "purpose"


class NotificationMismatch(DomainError):
    status_code = 409
    code = "notification_mismatch"
    message = "Данные платёжного сервиса не совпадают с заказом: {detail}."


class PaymentConflict(DomainError):
    status_code = 409
    code = "payment_conflict"
    message = "Платёж уже зачислен другим запросом."


class StaleNotification(DomainError):
    status_code = 409
    code = "stale_notification"
    message = "Уведомление устарело (повтор старого уведомления)."


class SignatureRefused(DomainError):
    status_code = 403
    code = "invalid_signature"
    message = "Подпись уведомления неверна."


class NotificationUnreadable(DomainError):
    status_code = 422
    code = "malformed_notification"
    message = "Уведомление не удалось прочитать."


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "POST /api/v1/payments": (
        *SESSION_ERRORS,
        InvalidPaymentAmount,
        NoCapitalRepairAccount,
        IdempotencyKeyReused,
        RequestInProgress,
        ProviderUnavailable,
    ),
    "GET /api/v1/payments/{order_id}": (*SESSION_ERRORS, PaymentNotFound),
    "GET /api/v1/public/capital-repair/{capital_repair_account}": (
        TooManyRequests,
        TooManyAttempts,
        CapitalRepairAccountNotFound,
    ),
    "POST /api/v1/public/capital-repair/payments": (
        TooManyRequests,
        TooManyAttempts,
        CapitalRepairAccountNotFound,
        InvalidPaymentAmount,
        IdempotencyKeyReused,
        RequestInProgress,
        ProviderUnavailable,
    ),
    "GET /api/v1/public/payments/{order_id}": (PaymentNotFound,),
    "POST /api/v1/payments/paymo/notify": (
        NotFound,
        SignatureRefused,
        NotificationUnreadable,
        PaymentNotFound,
        StaleNotification,
        ProviderUnavailable,
        NotificationMismatch,
        PaymentConflict,
    ),
}
