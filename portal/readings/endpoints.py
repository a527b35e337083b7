"""Routes of meters and meter readings: logged in, and without login (previous readings as proof)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from portal.auth.dependencies import CurrentResident, ReadingsAccess
from portal.auth.service import Principal
from portal.idempotency import REPLAYED_HEADER, IdempotencyKey
from portal.kit.deps import ClientAddress, DbSession, State
from portal.kit.errors import error_responses, unprocessable
from portal.readings import service
from portal.readings.schemas import (
    CheckRequest,
    LookupRequest,
    LookupResponse,
    MetersOverview,
    ReadingsAccessGranted,
    SubmitReadingsRequest,
    SubmitReadingsResponse,
)

router = APIRouter(tags=["readings"])

_SUBMIT_DESCRIPTION = """
Each meter is judged on its own: `results[]` says per meter whether the reading was `accepted`,
`replaced_previous` (it replaced the reading already sent this month; both stay in the history),
`rejected` or `needs_confirmation` (send it again with `confirm_rollover` or `confirm_implausible`).
Rejected and unconfirmed readings are not stored; the others are.

409 `reading_window_closed`: outside the reading window nothing is stored; the message says when it opens.
409 `request_in_progress`: the same `Idempotency-Key` is being processed right now.
409 `readings_conflict`: another writer changed these meters at the same moment; send again.
422 `idempotency_key_reused`: the key was used with a different request; `duplicate_meter`: a meter twice.
A repeat with the same key and body replays the first answer with `Idempotent-Replayed: true`.
"""

_SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Per-meter results (also a replayed earlier answer).",
        "headers": {
            REPLAYED_HEADER: {
                "description": "`true`: the stored answer to an earlier request with the same key.",
                "schema": {"type": "string"},
            }
        },
    },
    **error_responses(401, 409),
    # A meter twice, or a key reused with another body: each reading conforms to the schema.
    **unprocessable("duplicate_meter", "idempotency_key_reused"),
}


async def _submit(
    state: State,
    session: DbSession,
    principal: Principal,
    body: SubmitReadingsRequest,
    idempotency_key: str | None,
) -> Response:
    outcome = await service.submit_readings(state, session, principal, body, idempotency_key)
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else None
    # The stored JSON itself is sent, so a replay is byte-for-byte the first answer.
    return Response(
        outcome.response.body,
        status_code=outcome.response.status_code,
        media_type="application/json",
        headers=headers,
    )


@router.get(
    "/meters",
    response_model=MetersOverview,
    summary="Счётчики лицевого счёта, их показания и окно приёма показаний",
    responses=error_responses(401),
)
async def list_meters(state: State, session: DbSession, principal: CurrentResident) -> MetersOverview:
    return await service.meters_overview(state, session, principal)


@router.post(
    "/readings",
    response_model=SubmitReadingsResponse,
    summary="Внести показания",
    description=_SUBMIT_DESCRIPTION,
    responses=_SUBMIT_RESPONSES,
)
async def submit_readings(
    body: SubmitReadingsRequest,
    state: State,
    session: DbSession,
    principal: CurrentResident,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _submit(state, session, principal, body, idempotency_key)


@router.post(
    "/public/readings/lookup",
    response_model=LookupResponse,
    summary="Передача показаний без авторизации: счётчики по номеру лицевого счёта (без значений)",
    description=(
        "Every lookup counts against the client address's window (30 per 10 minutes by default): "
        "429 with `Retry-After` beyond it."
    ),
    responses={**error_responses(404, 429), **unprocessable()},
)
async def lookup(
    body: LookupRequest, state: State, session: DbSession, client: ClientAddress
) -> LookupResponse:
    return await service.lookup_meters(state, session, body.account_number, client)


@router.post(
    "/public/readings/check",
    response_model=ReadingsAccessGranted,
    summary="Передача показаний без авторизации: проверка предыдущих показаний",
    description=(
        "If every meter's previous reading matches, answers a short-lived token for `/public/meters` and "
        "`/public/readings`. Any failure is one 409 `previous_readings_mismatch` that never says which "
        "meter or what is stored; repeated failures are throttled (429)."
    ),
    responses={
        **error_responses(409, 429),
        **unprocessable("duplicate_meter", formats=("invalid_format",)),
    },
)
async def check(
    body: CheckRequest, state: State, session: DbSession, client: ClientAddress
) -> ReadingsAccessGranted:
    return await service.check_previous_readings(state, session, body, client)


@router.get(
    "/public/meters",
    response_model=MetersOverview,
    summary="Передача показаний без авторизации: счётчики и окно приёма",
    responses=error_responses(401),
)
async def public_meters(state: State, session: DbSession, principal: ReadingsAccess) -> MetersOverview:
    return await service.meters_overview(state, session, principal)


@router.post(
    "/public/readings",
    response_model=SubmitReadingsResponse,
    summary="Передача показаний без авторизации: внести показания",
    description=_SUBMIT_DESCRIPTION,
    responses=_SUBMIT_RESPONSES,
)
async def public_submit_readings(
    body: SubmitReadingsRequest,
    state: State,
    session: DbSession,
    principal: ReadingsAccess,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _submit(state, session, principal, body, idempotency_key)
