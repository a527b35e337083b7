"""Routes of card payments: logged in, the capital repair contribution without login, PayMO's callback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import WithJsonSchema
from starlette.convertors import Convertor, register_url_convertor

from portal.auth.dependencies import CurrentResident
from portal.idempotency import REPLAYED_HEADER
from portal.kit.deps import ClientAddress, DbSession, State
from portal.kit.errors import error_responses, unprocessable
from portal.payments import service
from portal.payments.providers.paymo import SIGNATURE_HEADER
from portal.payments.schemas import (
    CapitalRepairLookup,
    CreatePaymentRequest,
    NotificationAck,
    OrderId,
    PaymentOrderOut,
    PublicCapitalRepairPaymentRequest,
    RequiredIdempotencyKey,
)

router = APIRouter(tags=["payments"])

#: A capital repair fund account number: 6 to 20 ASCII digits.
CAPITAL_REPAIR_ACCOUNT_PATTERN = r"^[0-9]{6,20}$"


class _CapitalRepairAccountSegment(Convertor[str]):
    """``{capital_repair_account:fund_account}``: any one segment but ``payments``, the sibling path
    ``/public/capital-repair/payments`` (POST only), which is then never a lookup: any other method
    gets 405 with ``Allow: POST``, not a lookup's 404 or a 405 with ``Allow: GET``."""

    regex = r"(?!payments(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("fund_account", _CapitalRepairAccountSegment())

_CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "The order (also when replayed for a repeated `Idempotency-Key`).",
        "headers": {
            REPLAYED_HEADER: {
                "description": "`true`: the order made by an earlier request with the same key.",
                "schema": {"type": "string"},
            }
        },
    },
}

#: The amount's type is in the schema, its range (more than 0, at most 500 000.00 ₽) is a rule; so is a
#: key used before with another body.
_CREATE_UNPROCESSABLE = unprocessable("invalid_amount", "idempotency_key_reused")

_CREATE_DESCRIPTION = """
Starts a card payment at the chosen payment service and answers the order with `payment_url`, the
service's hosted card form. The payment is credited only when the service confirms it (PayMO's signed
notification, A3's status or reconciliation report); poll `GET` of the order for its status.

422 `idempotency_key_reused`: the key was used with another body; 409 `request_in_progress`: the same
key is being processed right now. 422 `invalid_amount` (`field: amount_kopecks`): more than 0,
at most 50 000 000 kopecks (500 000.00 ₽). 503 `provider_unavailable`: the payment service did not
answer; repeat with the same key.
"""


def _created(created: service.Created) -> Response:
    headers = {REPLAYED_HEADER: "true"} if created.replayed else None
    return JSONResponse(created.order.model_dump(mode="json"), 201, headers=headers)


def _access(request: Request) -> service.ProviderAccess:
    return service.ProviderAccess(app=request.app, base_url=str(request.base_url))


@router.post(
    "/payments",
    response_model=PaymentOrderOut,
    status_code=201,
    summary="Оплатить картой (A3 или PayMO)",
    description=_CREATE_DESCRIPTION,
    responses={**_CREATED, **error_responses(401, 409, 503), **_CREATE_UNPROCESSABLE},
)
async def create_payment(
    body: CreatePaymentRequest,
    request: Request,
    state: State,
    session: DbSession,
    principal: CurrentResident,
    idempotency_key: RequiredIdempotencyKey,
) -> Response:
    created = await service.create_resident_payment(
        state,
        session,
        _access(request),
        principal.account_id,
        body.purpose,
        body.amount_kopecks,
        body.provider,
        idempotency_key,
    )
    return _created(created)


@router.get(
    "/payments/{order_id}",
    response_model=PaymentOrderOut,
    summary="Платёж картой и его статус",
    description=(
        "Only the resident's own orders (404 otherwise). The payment service's status is asked (polled) "
        "here while the order is not final, at most once per order per 5 seconds."
    ),
    responses={**error_responses(401, 404), **unprocessable()},
)
async def get_payment(
    order_id: OrderId, request: Request, state: State, session: DbSession, principal: CurrentResident
) -> PaymentOrderOut:
    return await service.resident_payment(state, session, _access(request), principal.account_id, order_id)


@router.get(
    "/public/capital-repair/{capital_repair_account:fund_account}",
    response_model=CapitalRepairLookup,
    summary="Оплата взноса ФКР без авторизации: счёт ФКР по номеру",
    description=(
        "Unknown numbers answer 404 (`field: capital_repair_account`) and are throttled per client (429). "
        "Every lookup counts against the client address's window (30 per 10 minutes by default): 429 with "
        "`Retry-After` beyond it."
    ),
    responses={**error_responses(404, 429), **unprocessable()},
)
async def capital_repair_lookup(
    capital_repair_account: Annotated[
        str,
        Path(
            description="6 to 20 digits.",
            examples=["352100120007"],
            json_schema_extra={"pattern": CAPITAL_REPAIR_ACCOUNT_PATTERN},
        ),
    ],
    request: Request,
    state: State,
    session: DbSession,
    client: ClientAddress,
) -> CapitalRepairLookup:
    return await service.capital_repair_lookup(
        state, session, _access(request), capital_repair_account, client
    )


@router.post(
    "/public/capital-repair/payments",
    response_model=PaymentOrderOut,
    status_code=201,
    summary="Оплата взноса ФКР без авторизации",
    description=_CREATE_DESCRIPTION
    + "\n404 `capital_repair_account_not_found` (`field: capital_repair_account`); "
    + "429 (`Retry-After`) after repeated unknown numbers, or beyond the client address's window of "
    + "payments (10 per 10 minutes by default).",
    responses={**_CREATED, **error_responses(404, 409, 429, 503), **_CREATE_UNPROCESSABLE},
)
async def create_public_capital_repair_payment(
    body: PublicCapitalRepairPaymentRequest,
    request: Request,
    state: State,
    session: DbSession,
    client: ClientAddress,
    idempotency_key: RequiredIdempotencyKey,
) -> Response:
    created = await service.create_public_capital_repair_payment(
        state,
        session,
        _access(request),
        body.capital_repair_account,
        body.amount_kopecks,
        body.provider,
        idempotency_key,
        client,
    )
    return _created(created)


@router.get(
    "/public/payments/{order_id}",
    response_model=PaymentOrderOut,
    summary="Статус платежа, созданного без авторизации",
    description=(
        "Knowing the unguessable order id is the capability. Only orders made without login. "
        "The payment service is asked at most once per order per 5 seconds."
    ),
    responses={**error_responses(404), **unprocessable()},
)
async def get_public_payment(
    order_id: OrderId, request: Request, state: State, session: DbSession
) -> PaymentOrderOut:
    return await service.public_payment(state, session, _access(request), order_id)


@router.post(
    "/payments/paymo/notify",
    response_model=NotificationAck,
    summary="PayMO: уведомление о статусе платежа (для PayMO, не для жильцов)",
    description=(
        "The raw JSON body signed with HMAC-SHA256 under the notification secret, hex in "
        "`X-PayMO-Signature`. "
        "403 `invalid_signature` (nothing changes); 409 `notification_mismatch` (order, amount or currency "
        "differ from the stored order); 404 unknown order (or PayMO is not enabled on this portal). "
        "A notification whose timestamp is too far from now is checked with PayMO's status query: "
        "200 when PayMO confirms it, 409 `stale_notification` when not, 503 when PayMO does not answer. "
        "A repeated event answers 200 `duplicate` and changes nothing."
    ),
    responses={**error_responses(403, 404, 409, 503), **unprocessable("malformed_notification")},
)
async def paymo_notify(
    request: Request,
    state: State,
    session: DbSession,
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            max_length=200,
            pattern=r"^[0-9A-Fa-f]{1,200}$",
            description="HMAC-SHA256 of the raw body, hex.",
        ),
        # Optional means "may be left out", not "may be null": a header has no null.
        WithJsonSchema({"type": "string", "maxLength": 200, "pattern": r"^[0-9A-Fa-f]{1,200}$"}),
    ] = None,
) -> NotificationAck:
    raw = await request.body()
    return await service.paymo_notification(state, session, _access(request), raw, signature)
