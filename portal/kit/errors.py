"""API errors: a machine-readable ``code`` and a Russian ``message``; one mapping for all of them."""

from __future__ import annotations

import errno
import importlib
import logging
import pkgutil
import socket
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("kabinet.portal.errors")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    code: str = Field(description="Machine-readable error code, e.g. `validation_error`.")
    message: str = Field(description="Human-readable message in Russian.")
    field: str | None = Field(default=None, description="The request field the error is about, if any.")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="Per-field problems of a validation error."
    )


class ApiError(Exception):
    """A rejection the resident can understand; rendered as :class:`ErrorBody`."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
        self.details = details


class DomainError(ApiError):
    """A named rejection: its status, code and Russian message are declared once, on the class.

    Each domain package declares its errors in its ``errors.py`` and raises them by name::

        class EmailUnchanged(DomainError):
            status_code = 409
            code = "email_unchanged"
            message = "Поле «Новый e-mail»: этот адрес уже указан в личном кабинете."
            field = "new_email"

    A message with ``{placeholders}`` is filled from the keyword arguments of the constructor
    (``WeakPassword(problem=…)``). Every class with a ``code`` is recorded in :data:`DECLARED_ERRORS`:
    the OpenAPI document lists them per operation and the test of the app's catalogues checks that
    each code has its translations.
    """

    status_code: int
    code: str
    message: str
    field: str | None = None
    #: Headers every answer of the error carries (``WWW-Authenticate``…).
    default_headers: ClassVar[dict[str, str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            DECLARED_ERRORS.append(cls)

    def __init__(
        self,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
        **params: object,
    ) -> None:
        cls = type(self)
        message = cls.message.format(**params) if params else cls.message
        super().__init__(
            cls.status_code,
            cls.code,
            message,
            field=field if field is not None else cls.field,
            headers=headers if headers is not None else cls.default_headers,
            details=details,
        )


#: Every declared error class, in the order of declaration (filled as the domain packages are imported;
#: :func:`declared_errors` imports them all).
DECLARED_ERRORS: list[type[DomainError]] = []


#: The named errors of each operation, by ``"METHOD /path"`` as in the OpenAPI document.
Operations = dict[str, tuple[type[DomainError], ...]]


def _errors_modules() -> list[ModuleType]:
    """The ``errors`` module of every domain package (importing them records their classes)."""
    import portal

    return [
        importlib.import_module(module.name)
        for module in pkgutil.walk_packages(portal.__path__, "portal.")
        if module.name.rsplit(".", 1)[-1] == "errors" and module.name != __name__
    ]


def declared_errors() -> list[type[DomainError]]:
    """Every error the portal declares: this module's and those of each domain package's ``errors``."""
    _errors_modules()
    return list(DECLARED_ERRORS)


def declared_operations() -> Operations:
    """The ``OPERATIONS`` of every domain package's ``errors``: the named errors each operation answers."""
    operations: Operations = {}
    for module in _errors_modules():
        for key, errors in getattr(module, "OPERATIONS", {}).items():
            operations[key] = (*operations.get(key, ()), *errors)
    return operations


# --- errors any route can answer, rendered by the handlers below -----------------------------------------


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    message = "Не найдено."


class MethodNotAllowed(DomainError):
    status_code = 405
    code = "method_not_allowed"
    message = "Метод не поддерживается."


class RequestTooLarge(DomainError):
    status_code = 413
    code = "request_too_large"
    message = "Запрос слишком большой."


class BodyTooLarge(DomainError):
    """:class:`portal.kit.guards.BodyLimitMiddleware`'s 413, which names the limit."""

    status_code = 413
    code = "request_too_large"
    message = "Запрос слишком большой: тело запроса не может быть больше {kib} КиБ."


class InvalidJson(DomainError):
    """A body that is not JSON (or not UTF-8): 400, like any request the server cannot read."""

    status_code = 400
    code = "invalid_json"
    message = "Тело запроса — не корректный JSON."


class HttpError(DomainError):
    status_code = 400
    code = "http_error"
    message = "Запрос не может быть выполнен."


class ValidationFailed(DomainError):
    """A field is missing or has the wrong format (the message names the field, see the handler)."""

    status_code = 422
    code = "validation_error"
    message = "Запрос составлен неверно."


class RepeatedQueryParameter(DomainError):
    status_code = 422
    code = "validation_error"
    message = "Параметр «{name}» указан в запросе несколько раз."


class NulCharacter(DomainError):
    """A NUL character (U+0000) in a field (see :func:`portal.kit.guards.refuse_nul`)."""

    status_code = 422
    code = "nul_character"
    message = "Поле «{name}»: недопустимый символ (NUL)."


class InternalError(DomainError):
    status_code = 500
    code = "internal_error"
    message = "Внутренняя ошибка личного кабинета. Повторите попытку позже."


class RetryLater(DomainError):
    """The base of a refusal that says when to come back: ``Retry-After`` and ``{minutes}`` in its message."""

    def __init__(self, retry_after_seconds: int, **params: Any) -> None:
        minutes = max(1, (retry_after_seconds + 59) // 60)
        super().__init__(headers={"Retry-After": str(retry_after_seconds)}, minutes=minutes, **params)


class DatabaseUnavailable(DomainError):
    """503 while the database cannot be reached or every connection of the pool is busy."""

    status_code = 503
    code = "database_unavailable"
    message = (
        "Личный кабинет временно недоступен: база данных перегружена или не отвечает. "
        "Повторите попытку через несколько секунд."
    )

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


#: Russian names of request fields, for validation messages that name the field.
FIELD_NAMES: dict[str, str] = {
    "account_number": "Лицевой счет",
    "password": "Пароль",
    "new_password": "Новый пароль",
    "new_password_repeat": "Новый пароль повторно",
    "receipt_total_kopecks": "Итого к оплате за указанный месяц",
    "email": "Введите e-mail",
    "email_repeat": "Введите e-mail повторно",
    "accept_terms": "Принять условия соглашения",
    "readings": "Показания",
    "meter_id": "Счётчик",
    "value": "Новое показание",
    "previous_readings": "Предыдущее показание",
    "confirm_rollover": "Подтверждение перехода счётчика через ноль",
    "confirm_implausible": "Подтверждение большого расхода",
    "code": "Код из письма",
    "date_from": "Начало периода",
    "date_to": "Конец периода",
    "purpose": "Назначение платежа",
    "current_password": "Текущий пароль",
    "new_email": "Новый e-mail",
    "new_email_repeat": "Новый e-mail повторно",
    "captcha_id": "Картинка с кодом",
    "captcha_answer": "Введите код с картинки",
    "amount_kopecks": "Сумма",
    "provider": "Платёжный сервис",
    "capital_repair_account": "Лицевой счёт ФКР",
    "Idempotency-Key": "Idempotency-Key",
    "Authorization": "Authorization",
}


#: The validation error type of a NUL character (U+0000) in a field (:func:`portal.kit.guards.refuse_nul`).
NUL_ERROR_TYPE = "string_nul_character"
#: Its code: a rule of every operation (no text may hold U+0000), listed in each 422's ``x-rule-codes``
#: since the schema cannot say it of keys it does not name.
NUL_CODE = NulCharacter.code


#: The answer to a body that is not JSON (or not UTF-8): 400, like any request the server cannot read.
INVALID_JSON_MESSAGE = InvalidJson.message


def database_unavailable() -> ApiError:
    """503 while the database cannot be reached or every connection of the pool is busy."""
    return DatabaseUnavailable()


#: ``Retry-After`` of a 503 for an unavailable or exhausted database.
DATABASE_RETRY_AFTER_SECONDS = 5

#: SQLSTATE classes of a database that cannot serve now: connection exception, insufficient
#: resources (too many connections), operator intervention (shutdown, starting up), invalid
#: authorization, invalid catalog name (the database is gone).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57", "28", "3D")
_UNREACHABLE_ERRNOS = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL})


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot serve now (down, gone, out of connections, pool full)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, SATimeoutError | OperationalError | InterfaceError):
            return True  # the pool's wait ran out; the connection or the server failed
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, ConnectionError | TimeoutError | socket.gaierror) or (
            isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS
        ):
            return True  # connection refused or reset, no answer, no such host, host unreachable
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if isinstance(current, asyncpg.InterfaceError):
            return True  # asyncpg's "connection is closed" and the like
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def _validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    if not errors:
        return ValidationFailed.message, None
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "header", "path")]
    if first.get("type") == "json_invalid":
        return INVALID_JSON_MESSAGE, None
    field = next((part for part in reversed(loc) if not part.isdigit()), None)
    name = FIELD_NAMES.get(field or "", field or "запрос")
    kind = first.get("type", "")
    if kind == "missing":
        return f"Поле «{name}» обязательно.", field
    if kind == NUL_ERROR_TYPE:
        return f"Поле «{name}»: недопустимый символ (NUL).", field
    if kind in {"string_too_long", "too_long"}:
        return f"Поле «{name}»: слишком длинное значение.", field
    if kind in {"string_too_short", "too_short"}:
        return f"Поле «{name}»: слишком короткое значение.", field
    if kind.startswith("date"):
        return f"Поле «{name}»: нужна дата в формате ГГГГ-ММ-ДД.", field
    if kind.startswith("int") or kind.startswith("decimal") or kind.startswith("float"):
        return f"Поле «{name}»: нужно число.", field
    if kind.startswith("bool"):
        return f"Поле «{name}»: нужно true или false.", field
    if kind == "enum":
        # pydantic lists the allowed values: 'utilities' or 'capital_repair'.
        expected = str(first.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"Поле «{name}»: допустимые значения — {expected.replace(' or ', ', ')}.", field
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return f"Поле «{name}»: значение вне допустимого диапазона.", field
    if kind == "string_pattern_mismatch":
        return f"Поле «{name}»: неверный формат.", field
    return f"Поле «{name}»: недопустимое значение.", field


def render_error(exc: ApiError) -> JSONResponse:
    """The response of an :class:`ApiError` (also for routes that return a refusal instead of raising it)."""
    body = ErrorBody(code=exc.code, message=exc.message, field=exc.field, details=exc.details)
    return JSONResponse(body.model_dump(exclude_none=True), exc.status_code, headers=exc.headers)


#: The answers of Starlette's HTTP errors by status; any other status is :class:`HttpError`'s code.
_HTTP_ERRORS: dict[int, type[DomainError]] = {
    # FastAPI's "There was an error parsing the body" (a body that is not UTF-8, a broken form).
    400: InvalidJson,
    404: NotFound,
    405: MethodNotAllowed,
    413: RequestTooLarge,
}


def install_error_handlers(app: FastAPI) -> None:
    """Render :class:`ApiError`, validation errors and HTTP errors as :class:`ErrorBody`."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return render_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in errors):
            # Not a field's value but a body the server cannot read: 400, like FastAPI's other parse errors.
            body = ErrorBody(code=InvalidJson.code, message=InvalidJson.message)
            return JSONResponse(body.model_dump(exclude_none=True), 400)
        message, field = _validation_message(errors)
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "type": str(e.get("type", ""))} for e in errors
        ]
        nul = any(e.get("type") == NUL_ERROR_TYPE for e in errors)
        code = NulCharacter.code if nul else ValidationFailed.code
        body = ErrorBody(code=code, message=message, field=field, details=details)
        return JSONResponse(body.model_dump(exclude_none=True), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = _HTTP_ERRORS.get(exc.status_code, HttpError)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names only the first route of the path; a path may have one route per method.
            methods = _documented_methods(request)
            if methods:
                headers = {**(headers or {}), "Allow": ", ".join(methods)}
        return JSONResponse(
            ErrorBody(code=error.code, message=error.message).model_dump(exclude_none=True),
            exc.status_code,
            headers=headers,
        )

    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        """A database that cannot serve is 503 with Retry-After; anything else a Russian 500."""
        if is_database_unavailable(exc):
            log.warning("database unavailable: %s", type(exc).__name__)
            return render_error(database_unavailable())
        body = ErrorBody(code=InternalError.code, message=InternalError.message)
        return JSONResponse(body.model_dump(exclude_none=True), 500)

    # Database errors are answered here (no traceback for an expected overload); whatever else falls
    # through reaches Starlette's ServerErrorMiddleware, whose handler is the same function.
    app.add_exception_handler(SQLAlchemyError, _database_error(_unexpected))
    app.add_exception_handler(OSError, _database_error(_unexpected))
    app.add_exception_handler(asyncpg.PostgresError, _database_error(_unexpected))
    app.add_exception_handler(asyncpg.InterfaceError, _database_error(_unexpected))
    app.add_exception_handler(Exception, _unexpected)


_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _documented_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document gives the request's path (``GET, PUT`` for a path of two routes);
    of the documented paths it fits, the most literal one (``…/payments`` before ``…/{number}``)."""
    import re

    found: list[tuple[int, list[str]]] = []
    for template, item in request.app.openapi().get("paths", {}).items():
        parts = re.split(r"(\{[^}]+\})", template)
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        if re.fullmatch(pattern, request.url.path):
            methods = sorted(method.upper() for method in item if method in _HTTP_METHODS)
            found.append((template.count("{"), methods))
    return min(found)[1] if found else []


def _database_error(
    fallback: Callable[[Request, Exception], Awaitable[JSONResponse]],
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        if is_database_unavailable(exc):
            return await fallback(request, exc)
        raise exc  # not the database's state: the server error handler answers (and logs) it

    return handler


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer."""
    descriptions = {
        400: "Bad request",
        401: "Not logged in, or the session expired",
        403: "Forbidden",
        404: "Not found",
        409: "A business rule refused the request",
        413: "Request too large",
        422: "A field is missing or has the wrong format",
        429: "Too many failed attempts; see Retry-After",
        503: "A dependency (database, mail) is unavailable",
    }
    responses: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorBody, "description": descriptions.get(s, "Error")} for s in statuses
    }
    if 400 in responses:
        # The HTTP server itself refuses malformed requests (bad header bytes) in plain text.
        responses[400]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    return responses


#: The OpenAPI extension of a 422 answer that lists its rule codes (see :func:`unprocessable`).
RULES_EXTENSION = "x-rule-codes"


def unprocessable(*rules: str, formats: tuple[str, ...] = ()) -> dict[int | str, dict[str, Any]]:
    """The documented 422 of a route, every ``code`` it can carry listed in its schema.

    ``formats``: codes of input the schema itself already refuses (the route checks the documented
    pattern or format with a message of its own); ``validation_error`` is always one of them.
    ``rules``: what the schema cannot express (two fields that must agree, a key used before…):
    these alone can answer input that conforms to the schema, and they are listed in
    ``x-rule-codes`` so that a fuzzer can tell them from a schema the server does not keep.
    """
    rules = (*rules, NUL_CODE)
    codes = ["validation_error", *formats, *rules]
    listed = ", ".join(f"`{code}`" for code in codes)
    description = f"A field is missing or has the wrong format, or a rule refused it: {listed}"
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/ErrorBody"},
            {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}},
        ]
    }
    return {
        422: {
            "description": description,
            "content": {"application/json": {"schema": schema}},
            RULES_EXTENSION: list(rules),
        }
    }


#: The OpenAPI extension of an error answer listing the codes it can carry (:func:`document_error_codes`).
ERRORS_EXTENSION = "x-error-codes"

#: Codes any operation can answer with the status, when it documents that status.
_EDGE_ERRORS: tuple[type[DomainError], ...] = (
    InvalidJson,
    BodyTooLarge,
    ValidationFailed,
    NulCharacter,
    DatabaseUnavailable,
)


def document_error_codes(schema: dict[str, Any]) -> None:
    """List under each documented error answer of each operation the codes it can carry (``x-error-codes``).

    The codes come from the operations' named errors (:func:`declared_operations`) and the edge's errors
    every operation shares (not JSON, too large, a malformed field, the database unavailable).
    """
    operations = declared_operations()
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            responses = operation.get("responses", {})
            codes: dict[str, set[str]] = {}
            for error in (*_EDGE_ERRORS, *operations.get(f"{method.upper()} {path}", ())):
                codes.setdefault(str(error.status_code), set()).add(error.code)
            for status, response in responses.items():
                if status in codes:
                    response[ERRORS_EXTENSION] = sorted(codes[status])
