"""Errors of meter readings (with and without login)."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.idempotency.errors import IdempotencyKeyReused, RequestInProgress
from portal.kit.errors import DomainError, Operations
from portal.throttling.errors import TooManyAttempts, TooManyRequests


class ReadingWindowClosed(DomainError):
    """Outside the reading window; the message is the window's own sentence (when it opens again)."""

    status_code = 409
    code = "reading_window_closed"
    message = "{window}"
    field = "readings"


class DuplicateMeter(DomainError):
    status_code = 422
    code = "duplicate_meter"
    message = "Счётчик {meter_id} указан в запросе дважды: каждому счётчику — одно показание."


class ReadingsConflict(DomainError):
    status_code = 409
    code = "readings_conflict"
    message = "Показания этого лицевого счёта сейчас изменяются другим запросом. Отправьте показания ещё раз."
    field = "readings"


class AccountNotFound(DomainError):
    status_code = 404
    code = "account_not_found"
    message = "Лицевой счёт не найден. Проверьте номер по квитанции."
    field = "account_number"


class PreviousReadingsMismatch(DomainError):
    """One answer for every failure: unknown account, a missing meter, a wrong value."""

    status_code = 409
    code = "previous_readings_mismatch"
    message = (
        "Предыдущие показания не совпадают с данными расчётного центра. Проверьте их по последней "
        "квитанции и введите снова."
    )
    field = "previous_readings"


class InvalidPreviousReading(DomainError):
    status_code = 422
    code = "invalid_format"
    message = "Предыдущее показание: только цифры и запятая (или точка), например 12345,678."
    field = "previous_readings"


#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "GET /api/v1/meters": SESSION_ERRORS,
    "POST /api/v1/readings": (
        *SESSION_ERRORS,
        ReadingWindowClosed,
        DuplicateMeter,
        ReadingsConflict,
        IdempotencyKeyReused,
        RequestInProgress,
    ),
    "POST /api/v1/public/readings/lookup": (TooManyRequests, AccountNotFound),
    "POST /api/v1/public/readings/check": (
        InvalidPreviousReading,
        DuplicateMeter,
        TooManyAttempts,
        PreviousReadingsMismatch,
    ),
    "GET /api/v1/public/meters": SESSION_ERRORS,
    "POST /api/v1/public/readings": (
        *SESSION_ERRORS,
        ReadingWindowClosed,
        DuplicateMeter,
        ReadingsConflict,
        IdempotencyKeyReused,
        RequestInProgress,
    ),
}
