"""Errors of the throttle: too many failed attempts, too many requests from one address."""

from __future__ import annotations

from portal.kit.errors import RetryLater


class TooManyAttempts(RetryLater):
    status_code = 429
    code = "too_many_attempts"
    message = "Слишком много неудачных попыток. Повторите через {minutes} мин."


class TooManyRequests(RetryLater):
    """A client address over its window of public requests (lookups, payments)."""

    status_code = 429
    code = "too_many_attempts"
    message = "Слишком много запросов с этого адреса. Повторите через {minutes} мин."
