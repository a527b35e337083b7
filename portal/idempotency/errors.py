"""Errors of idempotent requests (the ``Idempotency-Key`` header)."""

from __future__ import annotations

from portal.kit.errors import DomainError


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"
    message = "Ключ Idempotency-Key уже использован для другого запроса. Для нового запроса нужен новый ключ."
    field = "Idempotency-Key"


class RequestInProgress(DomainError):
    status_code = 409
    code = "request_in_progress"
    message = (
        "Запрос с этим ключом Idempotency-Key ещё выполняется. "
        "Повторите его чуть позже — придёт тот же ответ."
    )
    field = "Idempotency-Key"
