"""Errors of the operator's batch import (``POST /api/v1/operator/imports/{kind}``)."""

from __future__ import annotations

from portal.kit.errors import DomainError, Operations
from portal.operators.errors import OPERATOR_ERRORS


class DuplicateRecordImportId(DomainError):
    """Two records of one batch carry the same import id: which one is meant cannot be told."""

    status_code = 422
    code = "duplicate_record_import_id"
    message = (
        "Поле «records»: идентификатор загрузки «{import_id}» повторяется в пакете "
        "(записи {first} и {second})."
    )


OPERATIONS: Operations = {
    "POST /api/v1/operator/imports/{kind}": (*OPERATOR_ERRORS, DuplicateRecordImportId),
}
