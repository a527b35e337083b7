"""Errors of the operator API's key check and its per-key window."""

from __future__ import annotations

from portal.kit.errors import DomainError

_BEARER = {"WWW-Authenticate": "Bearer"}


class OperatorNotAuthenticated(DomainError):
    """No operator key: the operator API never takes a resident's token, nor the reverse."""

    status_code = 401
    code = "operator_not_authenticated"
    message = "Нужен ключ оператора (Authorization: Bearer kop_…)."
    default_headers = _BEARER


class NotAnOperatorKey(OperatorNotAuthenticated):
    message = "Это не ключ оператора: ключи оператора начинаются с kop_."


class OperatorKeyNotValid(OperatorNotAuthenticated):
    message = "Ключ оператора не действителен или отозван."


class OperatorTooManyRequests(DomainError):
    """A key over its window of requests per minute (``Retry-After`` in seconds)."""

    status_code = 429
    code = "too_many_attempts"
    message = (
        "Слишком много запросов с этим ключом оператора (не больше {limit} в минуту). "
        "Повторите через {seconds} с."
    )

    def __init__(self, *, limit: int, seconds: int) -> None:
        super().__init__(headers={"Retry-After": str(seconds)}, limit=limit, seconds=seconds)


#: Every operator route answers these (the key check sits on the router).
OPERATOR_ERRORS = (OperatorNotAuthenticated, NotAnOperatorKey, OperatorKeyNotValid, OperatorTooManyRequests)
