"""Routes of the histories (the account comes from the session; ranges from :mod:`portal.periods`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import WithJsonSchema

from portal.auth.dependencies import CurrentReader
from portal.history import service
from portal.history.schemas import PaymentHistory, ReadingHistory, Statement
from portal.kit.deps import ReadSession, State
from portal.kit.errors import error_responses, unprocessable
from portal.kit.views import DirectView, cached_view
from portal.models import PaymentPurpose
from portal.periods import DateRangeQuery, parse_date_range

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


# --- the same views, computed by portal.kit.views.CachedViewsMiddleware itself ------------------------

_RANGE = frozenset({"date_from", "date_to"})
#: A meter id as the route surely reads it (no sign, no leading zero, no spaces).
_ID = re.compile(r"[1-9][0-9]{0,9}")
_PURPOSES = {purpose.value: purpose for purpose in PaymentPurpose}


def _range_arguments(query: Mapping[str, str], optional: frozenset[str]) -> dict[str, Any] | None:
    if not _RANGE <= query.keys() <= _RANGE | optional:
        return None
    period = parse_date_range(query["date_from"], query["date_to"])
    return None if period is None else {"period": period}


def _reading_arguments(query: Mapping[str, str]) -> dict[str, Any] | None:
    arguments = _range_arguments(query, frozenset({"meter_id"}))
    if arguments is None:
        return None
    meter_id = query.get("meter_id")
    if meter_id is not None and not (_ID.fullmatch(meter_id) and int(meter_id) <= MAX_ID):
        return None
    return {**arguments, "meter_id": None if meter_id is None else int(meter_id)}


def _statement_arguments(query: Mapping[str, str]) -> dict[str, Any] | None:
    arguments = _range_arguments(query, frozenset({"purpose"}))
    purpose = _PURPOSES.get(query.get("purpose", PaymentPurpose.UTILITIES.value))
    return None if arguments is None or purpose is None else {**arguments, "purpose": purpose}


DIRECT_VIEWS = {
    "/history/readings": DirectView(
        lambda _state, session, principal, arguments: service.reading_history(
            session, principal, arguments["period"], arguments["meter_id"]
        ),
        _reading_arguments,
    ),
    "/history/payments": DirectView(
        lambda _state, session, principal, arguments: service.payment_history(
            session, principal, arguments["period"]
        ),
        lambda query: _range_arguments(query, frozenset()),
    ),
    "/history/statement": DirectView(
        lambda _state, session, principal, arguments: service.statement(
            session, principal, arguments["period"], arguments["purpose"]
        ),
        _statement_arguments,
    ),
}
