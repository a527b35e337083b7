"""Rules of card payments: create an order once per idempotency key, learn its status only from the
payment service (notification, poll, reconciliation report) and credit it to the account exactly once.

Crediting: the order row is locked (``SELECT … FOR UPDATE``; SQLite runs one transaction at a time),
one row is inserted into ``payments`` (channel ``a3``/``paymo``, ``external_id`` = the order id, unique
per channel as the backstop) and linked by ``UPDATE … WHERE credited_payment_id IS NULL``. Concurrent
or repeated confirmations find the link and change nothing.

Refunds: a refund of a credited payment is recorded as a second, negative row of ``payments`` (a
storno, ``external_id`` = ``refund:<order id>``) so that the balance and the history show the money
going back; the order's status becomes ``refunded`` and it stays ``credited``.

The resident's return from the card form proves nothing and is not an input here at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.billing import service as billing
from portal.idempotency import request_hash
from portal.idempotency.errors import IdempotencyKeyReused, RequestInProgress
from portal.kit.cache import invalidate_after_commit
from portal.kit.clock import BILLING_TZ, Clock
from portal.kit.db import session_scope
from portal.kit.errors import ApiError, NotFound
from portal.kit.state import PortalState
from portal.models import PaymentOrder, PaymentPurpose
from portal.payments import limits
from portal.payments.errors import (
    CapitalRepairAccountNotFound,
    InvalidPaymentAmount,
    NoCapitalRepairAccount,
    NotificationMismatch,
    NotificationUnreadable,
    PaymentConflict,
    PaymentNotFound,
    ProviderUnavailable,
    SignatureRefused,
    StaleNotification,
)
from portal.payments.providers import (
    InvalidSignature,
    MalformedNotification,
    PaymentStatus,
    ProviderError,
    ProviderName,
    ProviderPayment,
    StartRequest,
    notification_parser,
    open_providers,
)
from portal.payments.repository import PaymentsRepository
from portal.payments.schemas import (
    CapitalRepairLookup,
    NotificationAck,
    PaymentOrderOut,
    ReconciliationLine,
    ReconciliationReport,
)
from portal.registration.service import mask_address
from portal.throttling.service import Scope

log = logging.getLogger("kabinet.portal.payments")

#: The largest payment the portal takes (kopecks).
MAX_AMOUNT_KOPECKS = 500_000_00
IDEMPOTENCY_ENDPOINT = "payments"


class Origin:
    RESIDENT = "resident"  # a logged-in resident
    PUBLIC = "public"  # the capital repair contribution without login


@dataclass(frozen=True)
class ProviderAccess:
    """How to reach the payment services from this request: the app (sandbox) and its public address."""

    app: Any
    base_url: str


@dataclass(frozen=True)
class Applied:
    """The order after a payment service's word, and whether that word changed it."""

    order: PaymentOrder
    changed: bool


@dataclass(frozen=True)
class Created:
    order: PaymentOrderOut
    replayed: bool


# --- words ---------------------------------------------------------------------------------------------


def check_amount(kopecks: int) -> int:
    """The amount to pay, kopecks: more than zero, at most the maximum."""
    if not 0 < kopecks <= MAX_AMOUNT_KOPECKS:
        raise InvalidPaymentAmount()
    return kopecks


def order_out(order: PaymentOrder) -> PaymentOrderOut:
    return PaymentOrderOut(
        id=order.id,
        provider=ProviderName(order.provider),
        purpose=PaymentPurpose(order.purpose),
        amount_kopecks=order.amount_kopecks,
        status=PaymentStatus(order.status),
        payment_url=order.payment_url,
        sandbox=order.sandbox,
        created_at=order.created_at,
        updated_at=order.updated_at,
        credited=order.credited_payment_id is not None,
    )


def billing_day(completed_at: dt.datetime | None, clock: Clock) -> dt.date:
    """The date a payment is booked on: the billing center's date of the moment the service completed it.

    Crediting may happen days later (a late poll, the nightly reconciliation); the payment still belongs
    to the day (and month) the money was taken. Without a completion time, today.
    """
    if completed_at is None:
        return clock.today()
    if completed_at.tzinfo is None:  # a service that omits the zone reports UTC
        completed_at = completed_at.replace(tzinfo=dt.UTC)
    return completed_at.astimezone(BILLING_TZ).date()


def paid_moment(completed_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When the money moved: the service's completion time (UTC when it omits the zone), else now."""
    if completed_at is None:
        return now
    return completed_at.replace(tzinfo=dt.UTC) if completed_at.tzinfo is None else completed_at


def public_idempotency_key(client: str, key: str) -> str:
    """The stored key of a payment without login: the client's key within the client's address."""
    scoped = hashlib.sha256(f"{client}\n{key}".encode()).hexdigest()
    return f"public:{scoped}"


def new_order_id() -> str:
    """``po_`` and 128 random bits."""
    return "po_" + secrets.token_hex(16)


# --- creating an order ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRequest:
    account_id: int
    purpose: PaymentPurpose
    provider: ProviderName
    amount_kopecks: int
    #: What the payment service shows and files the payment under.
    account_label: str
    description: str
    origin: str
    idempotency_key: str
    #: The request as the client sent it (for the idempotency hash).
    payload: dict[str, Any]


def provider_name(provider: ProviderName) -> str:
    """The payment service's name in messages: ``A3`` or ``PayMO``."""
    return "A3" if provider is ProviderName.A3 else "PayMO"


async def _create(
    state: PortalState, session: AsyncSession, access: ProviderAccess, req: OrderRequest
) -> Created:
    amount = check_amount(req.amount_kopecks)
    hashed = request_hash(f"{IDEMPOTENCY_ENDPOINT}:{req.origin}", req.payload)
    repo = PaymentsRepository(session)
    replayed = False
    order = await repo.by_idempotency_key(req.account_id, req.origin, req.idempotency_key)
    if order is not None:
        if order.request_hash != hashed:
            raise IdempotencyKeyReused()
        replayed = True
    else:
        now = state.clock.now()
        order = PaymentOrder(
            id=new_order_id(),
            account_id=req.account_id,
            purpose=req.purpose.value,
            provider=req.provider.value,
            sandbox=bool(state.settings.payments_sandbox),
            amount_kopecks=amount,
            status=PaymentStatus.INITIATED.value,
            origin=req.origin,
            idempotency_key=req.idempotency_key,
            request_hash=hashed,
            created_at=now,
            updated_at=now,
        )
        try:
            await repo.add_order(order)
        except IntegrityError:
            await session.rollback()
            raise RequestInProgress() from None
    order_id = order.id
    if order.provider_payment_id is None:
        # The order is stored before the payment service is asked (and the connection given back: the
        # in-process sandbox needs it on SQLite). A retry with the same key asks again for the same
        # order id, which the services answer with the same payment.
        await session.commit()
        try:
            async with open_providers(state.settings, state.clock, access.app, access.base_url) as providers:
                started = await providers.get(req.provider).start(
                    StartRequest(order_id, order.amount_kopecks, req.description, req.account_label)
                )
        except ProviderError as exc:
            log.warning("starting payment %s at %s failed: %s", order_id, req.provider, exc)
            raise ProviderUnavailable(name=provider_name(req.provider)) from None
        await repo.set_started(order_id, started.provider_payment_id, started.payment_url, state.clock.now())
        await session.commit()
    found = await repo.get(order_id)
    assert found is not None
    return Created(order_out(found), replayed)


async def create_resident_payment(
    state: PortalState,
    session: AsyncSession,
    access: ProviderAccess,
    account_id: int,
    purpose: PaymentPurpose,
    amount_kopecks: int,
    provider: ProviderName,
    idempotency_key: str,
) -> Created:
    repo = PaymentsRepository(session)
    account = await repo.account(account_id)
    if account is None:
        raise PaymentNotFound()
    if purpose is PaymentPurpose.CAPITAL_REPAIR:
        fund = await repo.capital_repair_of(account_id)
        if fund is None:
            raise NoCapitalRepairAccount()
        label, description = fund.number, f"Взнос на капитальный ремонт, лицевой счёт ФКР {fund.number}"
    else:
        label, description = account.number, f"Оплата ЖКУ, лицевой счёт {account.number}"
    payload = {"purpose": purpose.value, "amount_kopecks": amount_kopecks, "provider": provider.value}
    return await _create(
        state,
        session,
        access,
        OrderRequest(
            account_id,
            purpose,
            provider,
            amount_kopecks,
            label,
            description,
            Origin.RESIDENT,
            idempotency_key,
            payload,
        ),
    )


async def _find_capital_repair(state: PortalState, session: AsyncSession, number: str, client: str) -> Any:
    """The fund account by number, throttled per client and number (unknown numbers count as failures)."""
    number = number.strip(" ")
    now = state.clock.now()
    reservation = await state.throttle.reserve(session, Scope.CAPITAL_REPAIR, number, client, now)
    known = number.isascii() and number.isdigit()  # ``isdigit`` alone takes other scripts' digits
    found = await PaymentsRepository(session).capital_repair_by_number(number) if known else None
    if found is None:
        raise CapitalRepairAccountNotFound()  # the attempt was counted by the reservation
    await state.throttle.succeeded(session, reservation)
    return found


async def capital_repair_lookup(
    state: PortalState, session: AsyncSession, access: ProviderAccess, number: str, client: str
) -> CapitalRepairLookup:
    """Every lookup counts against the client's window (found or not); unknown numbers also as failures."""
    await limits.take_public_lookup(state, session, client)
    fund, account = await _find_capital_repair(state, session, number, client)
    due = await billing.capital_repair_due(session, account.id, state.clock.today())
    return CapitalRepairLookup(
        capital_repair_account=fund.number,
        address_masked=mask_address(account.address),
        amount_due_kopecks=due.amount_due_kopecks,
    )


async def create_public_capital_repair_payment(
    state: PortalState,
    session: AsyncSession,
    access: ProviderAccess,
    number: str,
    amount_kopecks: int,
    provider: ProviderName,
    idempotency_key: str,
    client: str,
) -> Created:
    await limits.take_public_payment(state, session, client)
    fund, account = await _find_capital_repair(state, session, number, client)
    payload = {
        "capital_repair_account": fund.number,
        "amount_kopecks": amount_kopecks,
        "provider": provider.value,
    }
    # Anonymous payers share the fund account: their keys are scoped by the client's address, so a
    # payer elsewhere who repeats (or guesses) a key and body gets an order of their own, never this one.
    idempotency_key = public_idempotency_key(client, idempotency_key)
    description = f"Взнос на капитальный ремонт, лицевой счёт ФКР {fund.number}"
    return await _create(
        state,
        session,
        access,
        OrderRequest(
            account.id,
            PaymentPurpose.CAPITAL_REPAIR,
            provider,
            amount_kopecks,
            fund.number,
            description,
            Origin.PUBLIC,
            idempotency_key,
            payload,
        ),
    )


# --- reading an order (polling the payment service) --------------------------------------------------


async def _ask_status(
    state: PortalState, session: AsyncSession, access: ProviderAccess, order: PaymentOrder
) -> ProviderPayment:
    """The order's payment as its service reports it now. Raises :class:`ProviderError`."""
    provider = ProviderName(order.provider)
    assert order.provider_payment_id is not None
    payment_id = order.provider_payment_id
    await (
        session.commit()
    )  # give the connection back while the service (maybe the in-process sandbox) answers
    async with open_providers(state.settings, state.clock, access.app, access.base_url) as providers:
        return await providers.get(provider).status(payment_id)


async def _refreshed(
    state: PortalState, session: AsyncSession, access: ProviderAccess, order: PaymentOrder
) -> PaymentOrder:
    """A non-final order after asking its service; unchanged if the service fails or was asked just now.

    A3 tells its statuses only when asked; PayMO calls back, but a callback may be lost or late, so
    PayMO is asked too. At most one query per order per ``payment_poll_interval_seconds``.
    """
    if order.provider_payment_id is None or PaymentStatus(order.status).final:
        return order
    if not await limits.poll_allowed(state, session, order.id, order.created_at):
        return order
    provider = ProviderName(order.provider)
    order_id = order.id
    try:
        reported = await _ask_status(state, session, access, order)
    except ProviderError as exc:
        log.warning("asking %s for %s failed: %s", provider, order_id, exc)
        return order
    try:
        return (await apply_provider_payment(state, session, order_id, provider, reported)).order
    except ApiError as exc:
        log.error("%s's answer for %s does not match the order: %s", provider, order_id, exc.message)
        await session.rollback()
        found = await PaymentsRepository(session).get(order_id)
        return found if found is not None else order


async def resident_payment(
    state: PortalState, session: AsyncSession, access: ProviderAccess, account_id: int, order_id: str
) -> PaymentOrderOut:
    return await payment_of_accounts(state, session, access, {account_id}, order_id)


async def payment_of_accounts(
    state: PortalState,
    session: AsyncSession,
    access: ProviderAccess,
    account_ids: Collection[int],
    order_id: str,
) -> PaymentOrderOut:
    """An order of one of ``account_ids`` as it is now (its service asked as for any order); 404 otherwise."""
    order = await PaymentsRepository(session).get(order_id)
    if order is None or order.account_id not in account_ids:
        raise PaymentNotFound()
    return order_out(await _refreshed(state, session, access, order))


async def public_payment(
    state: PortalState, session: AsyncSession, access: ProviderAccess, order_id: str
) -> PaymentOrderOut:
    order = await PaymentsRepository(session).get(order_id)
    if order is None or order.origin != Origin.PUBLIC:
        raise PaymentNotFound()
    return order_out(await _refreshed(state, session, access, order))


# --- what the payment service says ------------------------------------------------------------------


_PLAIN_MOVES: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.INITIATED: frozenset(
        {PaymentStatus.PROCESSING, PaymentStatus.FAILED, PaymentStatus.CANCELLED}
    ),
    PaymentStatus.PROCESSING: frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED}),
}


async def apply_provider_payment(
    state: PortalState,
    session: AsyncSession,
    order_id: str,
    provider: ProviderName,
    reported: ProviderPayment,
) -> Applied:
    """Move the order to what the payment service reports; credit a success and record a refund once.

    Raises 404 for an unknown order, 409 ``notification_mismatch`` when the service's order, payment id,
    amount or currency differ from the stored order (then nothing changes).
    """
    repo = PaymentsRepository(session)
    order = await repo.lock(order_id)
    if order is None or order.provider != provider.value:
        raise PaymentNotFound()
    if reported.order_id != order.id:
        raise NotificationMismatch(detail="номер заказа")
    if order.provider_payment_id is not None and reported.provider_payment_id != order.provider_payment_id:
        raise NotificationMismatch(detail="номер платежа")
    if reported.amount_kopecks != order.amount_kopecks or reported.currency != "RUB":
        raise NotificationMismatch(detail="сумма")
    now = state.clock.now()
    current = PaymentStatus(order.status)
    target = reported.status
    changed = True
    if (
        target is PaymentStatus.SUCCESS
        and order.credited_payment_id is None
        and current is not PaymentStatus.REFUNDED
    ):
        try:
            payment_id = await repo.add_payment(
                order.account_id,
                billing_day(reported.completed_at, state.clock),
                order.amount_kopecks,
                order.provider,
                order.purpose,
                order.id,
                paid_moment(reported.completed_at, now),
            )
        except IntegrityError:  # the unique (channel, external_id) backstop
            raise PaymentConflict() from None
        if not await repo.mark_credited(order.id, payment_id, PaymentStatus.SUCCESS.value, now):
            raise PaymentConflict()
        await invalidate_after_commit(session, f"account:{order.account_id}")
        log.info("payment %s credited as payment %s", order.id, payment_id)
    elif (
        target is PaymentStatus.REFUNDED
        and order.credited_payment_id is not None
        and order.refund_payment_id is None
    ):
        storno_id = await repo.add_payment(
            order.account_id,
            state.clock.today(),
            -order.amount_kopecks,
            order.provider,
            order.purpose,
            f"refund:{order.id}",
            now,
        )
        await repo.mark_refunded(order.id, storno_id, PaymentStatus.REFUNDED.value, now)
        await invalidate_after_commit(session, f"account:{order.account_id}")
        log.info("payment %s refunded: storno payment %s", order.id, storno_id)
    elif target in _PLAIN_MOVES.get(current, frozenset()):
        await repo.set_status(order.id, target.value, now)
    else:
        changed = False
    found = await repo.get(order.id)
    assert found is not None
    return Applied(found, changed)


async def paymo_notification(
    state: PortalState,
    session: AsyncSession,
    access: ProviderAccess,
    raw_body: bytes,
    signature: str | None,
) -> NotificationAck:
    """PayMO's callback: signature over the raw body first, then freshness, the order, the event once.

    A validly signed notification that is too old (or too far ahead) is not taken at its word, nor
    blindly refused (a late delivery must not lose a payment): PayMO is asked for the order's status and
    that is applied. When PayMO's answer confirms the notification it is accepted; otherwise 409.
    """
    if not state.settings.paymo_notifications_open:
        raise NotFound()
    try:
        notification = notification_parser(state.settings).parse_notification(raw_body, signature)
    except InvalidSignature:
        raise SignatureRefused() from None
    except MalformedNotification:
        raise NotificationUnreadable() from None
    now = state.clock.now()
    tolerance = dt.timedelta(seconds=state.settings.paymo_notify_tolerance_seconds)
    payment = notification.payment
    repo = PaymentsRepository(session)
    order = await repo.get(payment.order_id)
    if order is None or order.provider != ProviderName.PAYMO:
        raise PaymentNotFound()
    if abs(now - notification.timestamp) > tolerance:
        return await _stale_notification(state, session, access, order, notification.event_id, payment)
    if not await repo.add_notification(
        ProviderName.PAYMO.value, notification.event_id, order.id, payment.raw_status, now
    ):
        return NotificationAck(status="duplicate")
    applied = await apply_provider_payment(state, session, order.id, ProviderName.PAYMO, payment)
    return NotificationAck(status="accepted" if applied.changed else "ignored")


async def _stale_notification(
    state: PortalState,
    session: AsyncSession,
    access: ProviderAccess,
    order: PaymentOrder,
    event_id: str,
    claimed: ProviderPayment,
) -> NotificationAck:
    """A late (or replayed) notification: PayMO's current word decides, not the notification's."""
    if order.provider_payment_id is None or claimed.provider_payment_id != order.provider_payment_id:
        raise StaleNotification()
    if claimed.status is PaymentStatus(order.status):
        return NotificationAck(status="ignored")  # the portal knows this already: nothing to ask
    if not await limits.poll_allowed(state, session, order.id, order.created_at):
        # PayMO was asked about this order just now; replays must not make the portal flood it.
        raise StaleNotification()
    order_id = order.id
    try:
        current = await _ask_status(state, session, access, order)
    except ProviderError as exc:
        log.warning("asking PayMO about a late notification for %s failed: %s", order_id, exc)
        raise ProviderUnavailable(name=provider_name(ProviderName.PAYMO)) from None
    applied = await apply_provider_payment(state, session, order_id, ProviderName.PAYMO, current)
    if current.status is not claimed.status:
        if applied.changed:  # PayMO has moved on: its current word is applied, the notification's not
            return NotificationAck(status="accepted")
        raise StaleNotification()
    repo = PaymentsRepository(session)
    if not await repo.add_notification(
        ProviderName.PAYMO.value, event_id, order_id, claimed.raw_status, state.clock.now()
    ):
        return NotificationAck(status="duplicate")
    return NotificationAck(status="accepted" if applied.changed else "ignored")


# --- A3's daily reconciliation ----------------------------------------------------------------------


async def reconcile_a3(state: PortalState, app: Any, day: dt.date) -> ReconciliationReport:
    """Credit the payments A3's report for ``day`` confirms and list every discrepancy.

    Discrepancies: a reported payment the portal has no A3 order for, or whose amount or payment id
    differ (not credited); an A3 order the portal credited with that date that the report lacks.
    """
    async with open_providers(state.settings, state.clock, app) as providers:
        reported = await providers.a3.daily_report(day)
    lines: list[ReconciliationLine] = []
    for payment in reported:

        def line(outcome: str, detail: str = "", payment: ProviderPayment = payment) -> ReconciliationLine:
            return ReconciliationLine(
                order_id=payment.order_id,
                provider_payment_id=payment.provider_payment_id,
                amount_kopecks=payment.amount_kopecks,
                outcome=outcome,
                detail=detail,
            )

        if payment.status is not PaymentStatus.SUCCESS:
            lines.append(line("discrepancy", f"в отчёте статус {payment.raw_status}"))
            continue
        async for session in session_scope(state.sessionmaker, state.cache):
            order = await PaymentsRepository(session).get(payment.order_id)
            if order is None or order.provider != ProviderName.A3:
                lines.append(line("discrepancy", "заказа нет в портале"))
            elif order.credited_payment_id is not None:
                differences = [
                    word
                    for word, differs in (
                        (
                            "сумма",
                            payment.amount_kopecks != order.amount_kopecks or payment.currency != "RUB",
                        ),
                        ("номер платежа", payment.provider_payment_id != order.provider_payment_id),
                    )
                    if differs
                ]
                if differences:
                    detail = "зачислен в портале, но в отчёте другие данные: " + ", ".join(differences)
                    lines.append(line("discrepancy", detail))
                else:
                    lines.append(line("confirmed"))
            else:
                try:
                    await apply_provider_payment(state, session, order.id, ProviderName.A3, payment)
                    lines.append(line("credited"))
                except ApiError as exc:
                    await session.rollback()
                    lines.append(line("discrepancy", exc.message))
    seen = {payment.order_id for payment in reported}
    async for session in session_scope(state.sessionmaker, state.cache):
        for order in await PaymentsRepository(session).credited_on(ProviderName.A3.value, day):
            if order.id not in seen:
                lines.append(
                    ReconciliationLine(
                        order_id=order.id,
                        provider_payment_id=order.provider_payment_id or "",
                        amount_kopecks=order.amount_kopecks,
                        outcome="discrepancy",
                        detail="зачислен в портале, но нет в отчёте A3",
                    )
                )
    return ReconciliationReport(day=day, lines=lines)
