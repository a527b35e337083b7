"""Errors of the throttle: too many failed attempts, too many requests from one address."""

from __future__ import annotations

from portal.kit.errors import DomainError


def _minutes(retry_after_seconds: int) -> int:
    return max(1, (retry_after_seconds + 59) // 60)


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    message = "Слишком много неудачных попыток. Повторите через {minutes} мин."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            headers={"Retry-After": str(retry_after_seconds)}, minutes=_minutes(retry_after_seconds)
        )


class TooManyRequests(DomainError):
    """A client address over its window of public requests (lookups, payments)."""

    status_code = 429
    code = "too_many_attempts"
    message = "Слишком много запросов с этого адреса. Повторите через {minutes} мин."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            headers={"Retry-After": str(retry_after_seconds)}, minutes=_minutes(retry_after_seconds)
        )
