"""Routes of the histories (the account comes from the session; ranges from :mod:`portal.periods`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import WithJsonSchema

from portal.auth.dependencies import CurrentReader
from portal.history import service
from portal.history.schemas import PaymentHistory, ReadingHistory, Statement
from portal.kit.deps import ReadSession, State
from portal.kit.errors import error_responses, unprocessable
from portal.kit.views import cached_view
from portal.models import PaymentPurpose
from portal.periods import DateRangeQuery

router = APIRouter(prefix="/history", tags=["history"])

#: A range whose start is after its end, or longer than the limit, conforms to the schema (each date
#: does): those two are the rules; dates outside the supported years the schema already refuses.
_RESPONSES = {
    **error_responses(401),
    **unprocessable("invalid_period", "period_too_long", formats=("date_out_of_range",)),
}

#: Largest id a database integer column holds; a bigger one could only fail inside the database.
MAX_ID = 2**31 - 1


@router.get(
    "/readings",
    response_model=ReadingHistory,
    summary="История показаний приборов учёта за период",
    responses=_RESPONSES,
)
async def reading_history(
    state: State,
    request: Request,
    session: ReadSession,
    principal: CurrentReader,
    period: DateRangeQuery,
    meter_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Only this meter of the account."),
        # Optional means "may be left out": `?meter_id=null` is no meter.
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
    ] = None,
) -> Response:
    return await cached_view(
        state,
        request,
        principal,
        lambda: service.reading_history(session, principal, period, meter_id),
    )


@router.get(
    "/payments",
    response_model=PaymentHistory,
    summary="История платежей за период и суммы по месяцам для графика",
    responses=_RESPONSES,
)
async def payment_history(
    state: State, request: Request, session: ReadSession, principal: CurrentReader, period: DateRangeQuery
) -> Response:
    return await cached_view(
        state,
        request,
        principal,
        lambda: service.payment_history(session, principal, period),
    )


@router.get(
    "/statement",
    response_model=Statement,
    summary="Начисления и платежи по месяцам",
    responses=_RESPONSES,
)
async def statement(
    state: State,
    request: Request,
    session: ReadSession,
    principal: CurrentReader,
    period: DateRangeQuery,
    purpose: Annotated[
        PaymentPurpose,
        Query(description="`utilities` — расчётный центр, `capital_repair` — взнос на капремонт."),
    ] = PaymentPurpose.UTILITIES,
) -> Response:
    return await cached_view(
        state,
        request,
        principal,
        lambda: service.statement(session, principal, period, purpose),
    )
