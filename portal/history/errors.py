"""Errors of the histories: those of the session and of the period (:mod:`portal.periods`)."""

from __future__ import annotations

from portal.auth.errors import SESSION_ERRORS
from portal.kit.errors import Operations
from portal.periods import DateOutOfRange, InvalidPeriod, PeriodTooLong

#: The named errors each operation of this package answers (listed in the OpenAPI document).
OPERATIONS: Operations = {
    "GET /api/v1/history/readings": (*SESSION_ERRORS, DateOutOfRange, InvalidPeriod, PeriodTooLong),
    "GET /api/v1/history/payments": (*SESSION_ERRORS, DateOutOfRange, InvalidPeriod, PeriodTooLong),
    "GET /api/v1/history/statement": (*SESSION_ERRORS, DateOutOfRange, InvalidPeriod, PeriodTooLong),
}
