"""Routes of the account summary and the list of receipts (the account comes from the session)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from portal.accounts import service
from portal.accounts.schemas import AccountSummary, ReceiptList
from portal.auth.dependencies import CurrentReader
from portal.kit.deps import ReadSession, State
from portal.kit.errors import error_responses
from portal.kit.views import cached_view

router = APIRouter(tags=["account"])


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
