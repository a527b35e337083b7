"""Errors of the exports' options (the operator API answers them as 422 naming the parameter)."""

from __future__ import annotations

from portal.kit.errors import DomainError, Operations
from portal.operators.errors import OPERATOR_ERRORS


class ExportOptionInvalid(DomainError):
    """An export option outside what is allowed: names the option, what is allowed and what was given."""

    status_code = 422
    message = "Параметр «{option}»: нужен {allowed}, а не «{value}»."


class InvalidExportPeriod(ExportOptionInvalid):
    code = "invalid_export_period"


class InvalidExportDate(ExportOptionInvalid):
    code = "invalid_export_date"


class InvalidEncoding(ExportOptionInvalid):
    code = "invalid_encoding"


BY_CODE: dict[str, type[ExportOptionInvalid]] = {
    error.code: error for error in (InvalidExportPeriod, InvalidExportDate, InvalidEncoding)
}

OPERATIONS: Operations = {
    "GET /api/v1/operator/exports/readings": (*OPERATOR_ERRORS, InvalidExportPeriod, InvalidEncoding),
    "GET /api/v1/operator/exports/payments": (*OPERATOR_ERRORS, InvalidExportDate, InvalidEncoding),
    "GET /api/v1/operator/exports/registrations": (*OPERATOR_ERRORS, InvalidEncoding),
}
