"""Operator routes of the exports: each file streamed as a CSV download, the same bytes as the CLI's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import WithJsonSchema

from portal.exports.errors import BY_CODE, ExportOptionInvalid
from portal.exports.service import (
    ExportInputError,
    ExportKind,
    ExportRequest,
    ExportTotals,
    export_chunks,
    log_export,
    parse_day,
    parse_encoding,
    parse_period,
)
from portal.kit.deps import State
from portal.kit.errors import unprocessable
from portal.kit.state import PortalState
from portal.operators.dependencies import CurrentOperator
from portal.operators.service import OperatorPrincipal

router = APIRouter(prefix="/exports", tags=["operator"])

_PERIOD_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
_DAY_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file (CSV with `;`, a header row, a control line last; see docs/exchange-out.md)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

EncodingQuery = Annotated[
    str,
    Query(description="`utf-8` (decimal point) or `cp1251` (Windows-1251, decimal comma)."),
    WithJsonSchema({"type": "string", "enum": ["utf-8", "cp1251"]}),
]


def _refused(exc: ExportInputError) -> ExportOptionInvalid:
    error = BY_CODE[exc.code]
    return error(field=exc.option, option=exc.option, allowed=exc.allowed_ru, value=exc.value)


def _download(state: PortalState, request: ExportRequest, principal: OperatorPrincipal) -> StreamingResponse:
    """Stream the file from its own session (the request's session has ended by then)."""

    async def body() -> AsyncIterator[bytes]:
        totals = ExportTotals()
        try:
            async with state.sessionmaker() as session:
                async for chunk in export_chunks(session, request, totals):
                    yield chunk
        finally:
            log_export(request, totals, str(principal))

    return StreamingResponse(
        body(),
        media_type=request.format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{request.filename}"'},
    )


def _request(kind: ExportKind, encoding: str, **kwargs: Any) -> ExportRequest:
    try:
        return ExportRequest(kind, encoding=parse_encoding(encoding), **kwargs)
    except ExportInputError as exc:
        raise _refused(exc) from None


@router.get(
    "/readings",
    summary="Показания за расчётный период (CSV)",
    response_class=StreamingResponse,
    responses={**_CSV, **unprocessable(formats=("invalid_export_period", "invalid_encoding"))},
)
async def export_readings(
    state: State,
    principal: CurrentOperator,
    period: Annotated[
        str,
        Query(description="The billing period, YYYY-MM."),
        WithJsonSchema({"type": "string", "pattern": _PERIOD_PATTERN}),
    ],
    encoding: EncodingQuery = "utf-8",
) -> StreamingResponse:
    try:
        month = parse_period(period)
    except ExportInputError as exc:
        raise _refused(exc) from None
    return _download(state, _request(ExportKind.READINGS, encoding, day=month), principal)


@router.get(
    "/payments",
    summary="Платежи через личный кабинет за день (CSV)",
    response_class=StreamingResponse,
    responses={**_CSV, **unprocessable("invalid_export_date", formats=("invalid_encoding",))},
)
async def export_payments(
    state: State,
    principal: CurrentOperator,
    date: Annotated[
        str,
        Query(description="The day the payments are booked on, YYYY-MM-DD."),
        WithJsonSchema({"type": "string", "pattern": _DAY_PATTERN}),
    ],
    encoding: EncodingQuery = "utf-8",
) -> StreamingResponse:
    try:
        day = parse_day(date)
    except ExportInputError as exc:
        raise _refused(exc) from None
    return _download(state, _request(ExportKind.PAYMENTS, encoding, day=day), principal)


@router.get(
    "/registrations",
    summary="Зарегистрированные лицевые счета (CSV)",
    response_class=StreamingResponse,
    responses={**_CSV, **unprocessable(formats=("invalid_encoding",))},
)
async def export_registrations(
    state: State,
    principal: CurrentOperator,
    encoding: EncodingQuery = "utf-8",
    with_email: Annotated[bool, Query(description="Add the residents' e-mail addresses.")] = False,
) -> StreamingResponse:
    return _download(state, _request(ExportKind.REGISTRATIONS, encoding, with_email=with_email), principal)
