"""Errors of the account's summary and receipt list: only those of the session."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.kit.errors import Operations

#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "GET /api/v1/account": SESSION_ERRORS,
    "GET /api/v1/receipts": SESSION_ERRORS,
}
