"""Several accounts under one login: attach (the proof of registration), list, choose, detach, pay all.

The design (see ``docs/accounts.md``): a login (``users``) works on the accounts of ``user_accounts``
— its own and those attached since; each account belongs to at most one login. A session carries the
account it works on (``sessions.account_id``): every other endpoint keeps taking the account from the
session, unchanged. The session's account is set only to an account of its login (at login, by
``POST /accounts/current``), and it is checked against ``user_accounts`` whenever the session's row is
read; detaching ends the sessions on the account and drops them from every worker's cache.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.accounts.errors import AccountNotAttached, AttachRefused, OwnAccountNotDetachable
from portal.accounts.repository import AttachmentsRepository
from portal.accounts.schemas import (
    AccountPayment,
    AttachedAccount,
    AttachedAccounts,
    AttachRequest,
    PayAllResult,
)
from portal.auth.service import Principal
from portal.billing import service as billing
from portal.kit.cache import invalidate_after_commit
from portal.kit.clock import BILLING_TZ
from portal.kit.errors import ApiError
from portal.kit.state import PortalState
from portal.mail import OutgoingMail
from portal.models import PaymentPurpose
from portal.payments import service as payments
from portal.payments.providers.base import ProviderName
from portal.payments.repository import PaymentsRepository
from portal.payments.schemas import PaymentOrderOut
from portal.payments.service import Origin
from portal.registration.errors import InvalidReceiptTotal
from portal.registration.service import last_receipt_total, parse_account_number
from portal.throttling.service import Scope

#: No account has this id: an unknown account number runs the same queries as a known one.
_NO_ACCOUNT_ID = -1


def _user_id(principal: Principal) -> int:
    # Only sessions reach these routes, and every session belongs to a login.
    assert principal.user_id is not None
    return principal.user_id


async def attached_accounts(
    state: PortalState, session: AsyncSession, principal: Principal
) -> AttachedAccounts:
    """The login's accounts with what is due on each today (three queries per account)."""
    today = state.clock.today()
    listed: list[AttachedAccount] = []
    for account in await AttachmentsRepository(session).accounts_of(_user_id(principal)):
        period = await billing.last_receipt_period(session, account.account_id)
        dues = await billing.amounts_due_for_receipt(session, account.account_id, period, today)
        listed.append(
            AttachedAccount(
                account_number=account.number,
                address=account.address,
                own=account.own,
                current=account.account_id == principal.account_id,
                period=period,
                amount_due_kopecks=dues[PaymentPurpose.UTILITIES].amount_due_kopecks,
                capital_repair_amount_due_kopecks=(
                    dues[PaymentPurpose.CAPITAL_REPAIR].amount_due_kopecks
                    if account.has_fund_account
                    else None
                ),
            )
        )
    return AttachedAccounts(
        accounts=listed,
        total_due_kopecks=sum(a.amount_due_kopecks for a in listed),
        capital_repair_total_due_kopecks=sum(a.capital_repair_amount_due_kopecks or 0 for a in listed),
    )


@dataclass(frozen=True)
class AttachOutcome:
    """The refusal to answer (if any) and the letters to send after answering."""

    letters: list[OutgoingMail] = field(default_factory=list)
    refusal: ApiError | None = None


async def attach(
    state: PortalState, session: AsyncSession, principal: Principal, body: AttachRequest, client: str
) -> AttachOutcome:
    """Attach an account proven by its last receipt's total — or the one uniform refusal.

    Throttled as registration step 2 and counted on the same counters (one budget of guesses per
    account number and client, whichever form is used). An account already of this login is simply
    answered (nothing to prove). The owner of an account of another login hears of an attempt that
    had the right total, as on re-registration.
    """
    number = parse_account_number(body.account_number)
    if body.receipt_total_kopecks < 0:
        raise InvalidReceiptTotal()
    user_id = _user_id(principal)
    repo = AttachmentsRepository(session)
    if await repo.attached(user_id, number) is not None:
        return AttachOutcome()
    now = state.clock.now()
    reservation = await state.throttle.reserve(session, Scope.REGISTRATION, number, client, now)
    account = await repo.account_by_number(number)
    account_id = account.id if account is not None else _NO_ACCOUNT_ID
    owner = await repo.user_of_account(account_id)
    expected = await last_receipt_total(state, session, account_id)
    total_matches = expected is not None and expected == body.receipt_total_kopecks
    if account is None or owner is not None or not total_matches:
        letters = [_attempt_notice(owner.email, number, now)] if owner is not None and total_matches else []
        return AttachOutcome(letters, AttachRefused())
    try:
        await repo.attach(user_id, account_id, now)
    except IntegrityError:
        # A concurrent registration or attachment of the account won.
        await session.rollback()
        owner = await repo.user_of_account(account_id)
        letters = [_attempt_notice(owner.email, number, now)] if owner is not None else []
        return AttachOutcome(letters, AttachRefused())
    await state.throttle.succeeded(session, reservation)
    return AttachOutcome()


async def choose(session: AsyncSession, principal: Principal, account_number: str) -> Principal:
    """Make the session work on another account of its login; the principal it has from now."""
    number = parse_account_number(account_number)
    repo = AttachmentsRepository(session)
    found = await repo.attached(_user_id(principal), number)
    if found is None:
        raise AccountNotAttached()
    account_id, _own = found
    if account_id != principal.account_id:
        await repo.point_session(principal.token_id, account_id)
        # Every worker forgets this session's cached principal (and so its cached views).
        await invalidate_after_commit(session, f"session-id:{principal.token_id}")
    return Principal(
        account_id, number, principal.user_id, principal.token_id, principal.kind, principal.expires_at
    )


async def detach(session: AsyncSession, principal: Principal, account_number: str) -> Principal:
    """Detach an account from the login; access through it ends at once on every worker.

    This session, if it worked on the account, moves to the login's own account; the login's other
    sessions on it end (their next request is 401: they chose an account that is no longer theirs).
    Returns this session's principal from now.
    """
    number = parse_account_number(account_number)
    user_id = _user_id(principal)
    repo = AttachmentsRepository(session)
    found = await repo.attached(user_id, number)
    if found is None:
        raise AccountNotAttached()
    account_id, own = found
    if own:
        raise OwnAccountNotDetachable()
    await repo.detach(user_id, account_id)
    result = principal
    if principal.account_id == account_id:
        own_id = await repo.own_account_id(user_id)
        await repo.point_session(principal.token_id, own_id)
        own_number = next(a.number for a in await repo.accounts_of(user_id) if a.account_id == own_id)
        result = Principal(
            own_id, own_number, user_id, principal.token_id, principal.kind, principal.expires_at
        )
    await repo.end_sessions_on(user_id, account_id)
    await invalidate_after_commit(session, f"sessions:{account_id}")
    return result


async def pay_all(
    state: PortalState,
    session: AsyncSession,
    access: payments.ProviderAccess,
    principal: Principal,
    purpose: PaymentPurpose,
    provider: ProviderName,
    idempotency_key: str,
) -> PayAllResult:
    """One card payment order per account of the login with something due, for the amount due.

    Each order is the payment endpoint's own (:func:`portal.payments.service.create_resident_payment`)
    with the request's ``Idempotency-Key`` in that account's scope: a repeated request answers the
    orders made before (for their amounts, even if what is due changed since) and makes the missing
    ones; a payment is credited once per order as ever.
    """
    today = state.clock.today()
    orders = PaymentsRepository(session)
    made: list[AccountPayment] = []
    for account in await AttachmentsRepository(session).accounts_of(_user_id(principal)):
        if purpose is PaymentPurpose.CAPITAL_REPAIR and not account.has_fund_account:
            continue
        earlier = await orders.by_idempotency_key(account.account_id, Origin.RESIDENT, idempotency_key)
        if earlier is not None:
            amount = earlier.amount_kopecks
        else:
            period = await billing.last_receipt_period(session, account.account_id)
            dues = await billing.amounts_due_for_receipt(session, account.account_id, period, today)
            amount = dues[purpose].amount_due_kopecks
        if amount <= 0:
            continue
        created = await payments.create_resident_payment(
            state, session, access, account.account_id, purpose, amount, provider, idempotency_key
        )
        made.append(
            AccountPayment(account_number=account.number, replayed=created.replayed, order=created.order)
        )
    return PayAllResult(payments=made, total_kopecks=sum(p.order.amount_kopecks for p in made))


async def payment(
    state: PortalState,
    session: AsyncSession,
    access: payments.ProviderAccess,
    principal: Principal,
    order_id: str,
) -> PaymentOrderOut:
    """An order of any of the login's accounts as it is now (how a pay-all order is going); 404 for
    another login's order, as ``GET /payments/{order_id}`` answers for another account's."""
    accounts = await AttachmentsRepository(session).accounts_of(_user_id(principal))
    account_ids = {account.account_id for account in accounts}
    return await payments.payment_of_accounts(state, session, access, account_ids, order_id)


def _attempt_notice(email: str, number: str, now: dt.datetime) -> OutgoingMail:
    when = now.astimezone(BILLING_TZ).strftime("%d.%m.%Y %H:%M")
    body = (
        "Здравствуйте!\n\n"
        f"{when} (время московское) кто-то пытался подключить лицевой счет {number} к другому личному "
        "кабинету, указав верную сумму из последней квитанции. Лицевой счет уже подключён к вашему "
        "личному кабинету; ничего не изменено.\n\n"
        "Если это были вы (например, из другого личного кабинета), сначала отключите лицевой счет здесь.\n\n"
        "Если это были не вы, ничего делать не нужно. Если письма повторяются, сообщите об этом "
        "в расчётный центр.\n"
    )
    return OutgoingMail(to=email, subject="Попытка подключить ваш лицевой счет", body=body)
