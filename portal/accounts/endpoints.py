"""Routes of the account summary, the list of receipts (the account comes from the session) and of the
accounts attached to the login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor

from portal.accounts import attachments, service
from portal.accounts.schemas import (
    AccountSummary,
    AttachedAccounts,
    AttachRequest,
    ChooseAccountRequest,
    PayAllRequest,
    PayAllResult,
    ReceiptList,
)
from portal.auth.dependencies import CurrentReader, CurrentResident
from portal.kit.deps import ClientAddress, DbSession, ReadSession, State
from portal.kit.errors import error_responses, render_error, unprocessable
from portal.kit.views import DirectView, cached_view, no_arguments
from portal.payments.schemas import OrderId, PaymentOrderOut, RequiredIdempotencyKey
from portal.payments.service import ProviderAccess
from portal.registration.schemas import ACCOUNT_NUMBER_PATTERN

router = APIRouter(tags=["account"])


class _AccountNumberSegment(Convertor[str]):
    """``{account_number:account_digits}``: digits only, so the sibling paths (``/accounts/current``,
    ``/accounts/attach``, ``/accounts/payments``) are never taken for an account number: any other
    method on them gets their own 405, not a detach's 422."""

    regex = r"[0-9]{1,20}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("account_digits", _AccountNumberSegment())


@router.get(
    "/account",
    response_model=AccountSummary,
    summary="Лицевой счёт: сведения, долг, сумма к оплате, окно приёма показаний, предупреждения",
    responses=error_responses(401),
)
async def account_summary(
    state: State, request: Request, session: ReadSession, principal: CurrentReader
) -> Response:
    return await cached_view(
        state,
        request,
        principal,
        lambda: service.account_summary(session, state.settings, principal, state.clock.today()),
    )


@router.get(
    "/receipts",
    response_model=ReceiptList,
    summary="Месяцы, за которые есть квитанция (новые первыми)",
    responses=error_responses(401),
)
async def receipts(
    state: State, request: Request, session: ReadSession, principal: CurrentReader
) -> Response:
    return await cached_view(state, request, principal, lambda: service.receipt_list(session, principal))


# --- several accounts under one login ------------------------------------------------------------------

_ACCOUNTS_DESCRIPTION = """
The accounts of the login: its own (the one it registered with) first, then those attached, each with
what is due on it today, and `current`: the account this session works on. Every other endpoint
(`/account`, `/meters`, `/readings`, `/payments`, …) works on the current account, chosen by
`POST /accounts/current`; logging in by an account's number starts on that account.
"""


@router.get(
    "/accounts",
    response_model=AttachedAccounts,
    summary="Лицевые счета личного кабинета с суммами к оплате",
    description=_ACCOUNTS_DESCRIPTION,
    responses=error_responses(401),
)
async def accounts(state: State, session: DbSession, principal: CurrentResident) -> AttachedAccounts:
    return await attachments.attached_accounts(state, session, principal)


@router.post(
    "/accounts/attach",
    status_code=201,
    response_model=AttachedAccounts,
    summary="Подключить ещё один лицевой счет: номер и сумма из последней квитанции",
    description=(
        "The proof of registration step 2 (the last receipt's total without the capital repair "
        "contribution), throttled on the same counters. Unknown account, wrong total and an account of "
        "another login get the same 409 `attach_data_mismatch`; that login's owner is told by e-mail "
        "when the total was right. An account already of this login is answered as attached (201)."
    ),
    responses={
        **error_responses(401, 409, 429),
        **unprocessable(formats=("invalid_account_number", "invalid_amount")),
    },
)
async def attach_account(
    body: AttachRequest,
    state: State,
    session: DbSession,
    principal: CurrentResident,
    client: ClientAddress,
    background: BackgroundTasks,
) -> AttachedAccounts | JSONResponse:
    outcome = await attachments.attach(state, session, principal, body, client)
    # Commit before answering, so a letter never tells of an attempt a failed commit did not keep.
    await session.commit()
    for letter in outcome.letters:
        background.add_task(state.mailer.send, letter)
    if outcome.refusal is not None:
        # Returned rather than raised: a raised error's response would drop the background letters.
        return render_error(outcome.refusal)
    return await attachments.attached_accounts(state, session, principal)


@router.post(
    "/accounts/current",
    response_model=AttachedAccounts,
    summary="Выбрать лицевой счет, с которым работает сеанс",
    description="Every other endpoint of this session works on this account from now.",
    responses={**error_responses(401, 404), **unprocessable(formats=("invalid_account_number",))},
)
async def choose_account(
    body: ChooseAccountRequest, state: State, session: DbSession, principal: CurrentResident
) -> AttachedAccounts:
    chosen = await attachments.choose(session, principal, body.account_number)
    return await attachments.attached_accounts(state, session, chosen)


@router.delete(
    "/accounts/{account_number:account_digits}",
    response_model=AttachedAccounts,
    summary="Отключить лицевой счет от личного кабинета",
    description=(
        "Not the login's own account (409 `own_account_not_detachable`). Access through the account ends "
        "at once: this session moves to the login's own account if it worked on it, the login's other "
        "sessions on it end (401)."
    ),
    responses={**error_responses(401, 404, 409), **unprocessable(formats=("invalid_account_number",))},
)
async def detach_account(
    account_number: Annotated[
        str,
        Path(
            min_length=1,
            max_length=40,
            description="Номер подключённого лицевого счета: от 6 до 20 цифр.",
            json_schema_extra={"pattern": ACCOUNT_NUMBER_PATTERN},
        ),
    ],
    state: State,
    session: DbSession,
    principal: CurrentResident,
) -> AttachedAccounts:
    remaining = await attachments.detach(session, principal, account_number)
    return await attachments.attached_accounts(state, session, remaining)


@router.post(
    "/accounts/payments",
    response_model=PayAllResult,
    status_code=201,
    summary="Оплатить все лицевые счета картой: по заказу на каждый счёт с суммой к оплате",
    description=(
        "One order of `POST /payments` per account with something due (for `capital_repair`: per account "
        "with an account at the fund), for the amount due, in the order of `GET /accounts`; each has its "
        "own `payment_url`. The `Idempotency-Key` is used in each account's scope: a repeat answers the "
        "orders made before (`replayed`) and makes the missing ones. Nothing due: an empty list."
    ),
    responses={**error_responses(401, 409, 503), **unprocessable("idempotency_key_reused")},
)
async def pay_all(
    body: PayAllRequest,
    request: Request,
    state: State,
    session: DbSession,
    principal: CurrentResident,
    idempotency_key: RequiredIdempotencyKey,
) -> PayAllResult:
    access = ProviderAccess(app=request.app, base_url=str(request.base_url))
    return await attachments.pay_all(
        state, session, access, principal, body.purpose, body.provider, idempotency_key
    )


@router.get(
    "/accounts/payments/{order_id}",
    response_model=PaymentOrderOut,
    summary="Платёж картой любого лицевого счета личного кабинета и его статус",
    description=(
        "`GET /payments/{order_id}` for an order of any account of the login (the orders of "
        "`POST /accounts/payments` are on several accounts; the session works on one): 404 for any other "
        "order. The payment service's status is asked as there, at most once per order per 5 seconds."
    ),
    responses={**error_responses(401, 404), **unprocessable()},
)
async def account_payment(
    order_id: OrderId, request: Request, state: State, session: DbSession, principal: CurrentResident
) -> PaymentOrderOut:
    access = ProviderAccess(app=request.app, base_url=str(request.base_url))
    return await attachments.payment(state, session, access, principal, order_id)


#: The same views, computed by portal.kit.views.CachedViewsMiddleware itself.
DIRECT_VIEWS = {
    "/account": DirectView(
        lambda state, session, principal, _arguments: service.account_summary(
            session, state.settings, principal, state.clock.today()
        ),
        no_arguments,
    ),
    "/receipts": DirectView(
        lambda _state, session, principal, _arguments: service.receipt_list(session, principal),
        no_arguments,
    ),
}
