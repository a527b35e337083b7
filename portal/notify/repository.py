"""SQL of e-mail notifications: subscriptions, the letters due, and the deliveries' claims and states."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from portal.kit.repository import Repository
from portal.models import (
    Account,
    Charge,
    MailDelivery,
    MailSubscription,
    Meter,
    Reading,
    ReadingStatus,
    Service,
    User,
)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# --- subscriptions -----------------------------------------------------------------------------------


# --- what is due ----------------------------------------------------------------------------------------


def _no_delivery(period: dt.date, kind: str) -> ColumnElement[bool]:
    """No delivery row of the letter yet: a lookup per account in the unique key's index.

    Not ``NOT EXISTS``, which PostgreSQL plans as an anti-join: planned for the few rows its statistics
    know of a month being sent, that rescans the month's deliveries for each account (a claim took
    minutes by the 35 000th of 100 000 reminders). See also :meth:`NotifyRepository.refresh_statistics`."""
    first = (
        select(MailDelivery.id)
        .where(
            MailDelivery.account_id == MailSubscription.account_id,
            MailDelivery.period == period,
            MailDelivery.kind == kind,
        )
        .limit(1)
        .scalar_subquery()
    )
    return first.is_(None)


def _has_charges(period: dt.date) -> ColumnElement[bool]:
    return exists().where(Charge.account_id == MailSubscription.account_id, Charge.period == period)


def _a_meter_unread(reading_period: dt.date) -> ColumnElement[bool]:
    """The account has a meter without an accepted reading for the period."""
    read = exists().where(
        Reading.meter_id == Meter.id,
        Reading.period == reading_period,
        Reading.status == ReadingStatus.ACCEPTED.value,
    )
    return exists().where(Meter.account_id == MailSubscription.account_id, ~read)


def due_condition(kind: str, period: dt.date, reading_period: dt.date | None) -> ColumnElement[bool]:
    """Whom a letter of ``kind`` about ``period`` is for (a registered subscriber), delivered or not."""
    registered = exists().where(User.account_id == MailSubscription.account_id)
    if kind == "receipt":
        return and_(MailSubscription.receipt.is_(True), registered, _has_charges(period))
    assert reading_period is not None
    return and_(MailSubscription.reminders.is_(True), registered, _a_meter_unread(reading_period))


# --- claims and states -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    account_id: int
    message_id: str


@dataclass(frozen=True)
class Finish:
    """How a letter ended, for :meth:`NotifyRepository.record`."""

    delivery_id: int
    #: The state the sender left the row in: ``sending`` (DATA was sent) or ``claimed`` (it was not).
    from_state: str
    state: str
    #: The server's reply or the error's name.
    detail: str
    sent_at: dt.datetime | None = None
    #: 1 for a failed attempt that never reached DATA (marking ``sending`` counts the others).
    attempt: int = 0


_deliveries = cast(Table, MailDelivery.__table__)


def _reclaimable(
    stale_before: dt.datetime, failed_before: dt.datetime, max_attempts: int, resend_uncertain: bool
) -> ColumnElement[bool]:
    states = [
        # A crashed sender's claim whose letter was never started.
        and_(MailDelivery.state == "claimed", MailDelivery.claimed_at < stale_before),
        # A letter the server refused for now, or could not be reached for — by an earlier run: a
        # server that says «later» is not asked again within the same run.
        and_(
            MailDelivery.state == "failed",
            MailDelivery.attempts < max_attempts,
            MailDelivery.claimed_at < failed_before,
        ),
    ]
    if resend_uncertain:
        states.append(MailDelivery.state == "uncertain")
    return or_(*states)


# --- what the letters say -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Addressee:
    account_id: int
    account_number: str
    email: str
    receipt: bool
    reminders: bool


@dataclass(frozen=True)
class MeterDue:
    account_id: int
    service_name: str
    unit: str
    serial_number: str
    submitted: bool


class NotifyRepository(Repository[MailDelivery]):
    """Subscriptions, the letters due, and the deliveries' claims and states."""

    model = MailDelivery

    async def subscription(self, account_id: int) -> MailSubscription | None:
        result: MailSubscription | None = await self.session.get(
            MailSubscription, account_id, populate_existing=True
        )
        return result

    async def set_subscription(self, account_id: int, values: dict[str, bool], now: dt.datetime) -> None:
        """Set some of ``receipt`` / ``reminders`` (one statement: two concurrent changes cannot collide)."""
        row = {"receipt": False, "reminders": False, **values, "account_id": account_id, "updated_at": now}
        statement = _insert(self.session, MailSubscription).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[MailSubscription.account_id], set_={**values, "updated_at": now}
        )
        await self.session.execute(statement)

    async def registered_email(self, account_id: int) -> str | None:
        result: str | None = await self.session.scalar(
            select(User.email).where(User.account_id == account_id)
        )
        return result

    async def latest_charged_period(self) -> dt.date | None:
        result: dt.date | None = await self.session.scalar(select(func.max(Charge.period)))
        return result

    async def new_candidates(
        self,
        kind: str,
        period: dt.date,
        reading_period: dt.date | None,
        limit: int,
        *,
        after: int = 0,
        lock: bool = False,
    ) -> list[int]:
        """Accounts due a letter that has no delivery row yet, lowest id first (above ``after``: a
        sender goes on from where its last batch ended instead of passing all the letters sent again).

        ``lock``: their subscriptions stay locked until the transaction ends, and those another sender's
        claim holds locked are passed over (PostgreSQL's ``FOR UPDATE SKIP LOCKED``; SQLite has one
        writer at a time anyway): two senders claiming at once take different accounts instead of the
        second waiting for the first and then finding its accounts taken."""
        query = (
            select(MailSubscription.account_id)
            .where(
                MailSubscription.account_id > after,
                due_condition(kind, period, reading_period),
                _no_delivery(period, kind),
            )
            .order_by(MailSubscription.account_id)
            .limit(limit)
        )
        if lock:
            query = query.with_for_update(skip_locked=True, of=MailSubscription)
        return list(await self.session.scalars(query))

    async def count_new_candidates(self, kind: str, period: dt.date, reading_period: dt.date | None) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(MailSubscription)
            .where(due_condition(kind, period, reading_period), _no_delivery(period, kind))
        )
        return int(count or 0)

    async def claim_new(
        self,
        kind: str,
        period: dt.date,
        rows: Sequence[tuple[int, str]],
        owner: str,
        now: dt.datetime,
    ) -> list[Claimed]:
        """Insert ``claimed`` rows for (account id, Message-ID); a row another sender inserted first is
        left to it (the unique key decides, on every database)."""
        if not rows:
            return []
        values = [
            {
                "account_id": account_id,
                "period": period,
                "kind": kind,
                "state": "claimed",
                "claimed_by": owner,
                "claimed_at": now,
                "attempts": 0,
                "message_id": message_id,
            }
            for account_id, message_id in rows
        ]
        # Many rows of parameters to one cached statement (SQLAlchemy's "insertmanyvalues": a few
        # multi-row INSERTs), not one statement made and compiled anew for each batch's rows.
        statement = (
            _insert(self.session, _deliveries)
            .on_conflict_do_nothing(index_elements=["account_id", "period", "kind"])
            .returning(_deliveries.c.id, _deliveries.c.account_id, _deliveries.c.message_id)
        )
        result = await self.session.execute(statement, values)
        return [Claimed(*row) for row in result.all()]

    async def claim_again(
        self,
        kind: str,
        period: dt.date,
        owner: str,
        now: dt.datetime,
        *,
        stale_before: dt.datetime,
        failed_before: dt.datetime,
        max_attempts: int,
        resend_uncertain: bool,
        limit: int,
    ) -> list[Claimed]:
        """Take over rows left by a crashed sender or failed before. Rows another sender is taking at
        this moment are passed over (``FOR UPDATE SKIP LOCKED``), and the condition is in the UPDATE
        itself too: a row that changed meanwhile no longer matches (PostgreSQL re-checks an updated
        row's condition) and is left."""
        condition = and_(
            MailDelivery.period == period,
            MailDelivery.kind == kind,
            _reclaimable(stale_before, failed_before, max_attempts, resend_uncertain),
        )
        ids = (
            select(MailDelivery.id)
            .where(condition)
            .order_by(MailDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            update(MailDelivery)
            .where(MailDelivery.id.in_(ids.scalar_subquery()), condition)
            .values(state="claimed", claimed_by=owner, claimed_at=now)
            .returning(MailDelivery.id, MailDelivery.account_id, MailDelivery.message_id)
            .execution_options(synchronize_session=False)
        )
        return [Claimed(*row) for row in result.all()]

    async def refresh_statistics(self) -> None:
        """PostgreSQL: ``ANALYZE mail_deliveries``, so that the planner knows the rows of the month being
        sent. Its statistics otherwise know none of a new month's rows until autovacuum comes by (at 10 %
        of the table changed, or never where it is off); planned for one row, the lookup of a letter's
        delivery takes the (period, kind) index and reads every delivery of the month for each account,
        and a run slows down quadratically (100 000 reminders: a claim took seconds by the 40 000th)."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("ANALYZE mail_deliveries"))

    async def expire_sending(self, stale_before: dt.datetime) -> int:
        """Letters whose sender died during the SMTP transaction: maybe delivered, never sent again alone."""
        result = await self.session.execute(
            update(MailDelivery)
            .where(MailDelivery.state == "sending", MailDelivery.claimed_at < stale_before)
            .values(state="uncertain", detail="the sender stopped during the SMTP transaction")
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def record(
        self, outcomes: Sequence[Finish], marks: Sequence[int], owner: str, now: dt.datetime
    ) -> set[int]:
        """One transaction of a sender's journal: how letters ended (each only if its row is still this
        sender's and in the state the sender left it), then ``claimed`` → ``sending`` for the letters
        about to go. Returns the marked ids: a claim another sender took over is not among them."""
        if outcomes:
            await self.session.execute(
                update(_deliveries)
                .where(
                    _deliveries.c.id == bindparam("b_id"),
                    _deliveries.c.claimed_by == bindparam("b_owner"),
                    _deliveries.c.state == bindparam("b_from"),
                )
                .values(
                    state=bindparam("b_state"),
                    detail=bindparam("b_detail"),
                    sent_at=bindparam("b_sent_at"),
                    attempts=_deliveries.c.attempts + bindparam("b_attempt"),
                ),
                [
                    {
                        "b_id": outcome.delivery_id,
                        "b_owner": owner,
                        "b_from": outcome.from_state,
                        "b_state": outcome.state,
                        "b_detail": outcome.detail[:300],
                        "b_sent_at": outcome.sent_at,
                        "b_attempt": outcome.attempt,
                    }
                    for outcome in outcomes
                ],
            )
        if not marks:
            return set()
        result = await self.session.execute(
            update(_deliveries)
            .where(
                _deliveries.c.id.in_(marks),
                _deliveries.c.claimed_by == owner,
                _deliveries.c.state == "claimed",
            )
            .values(state="sending", claimed_at=now, attempts=_deliveries.c.attempts + 1)
            .returning(_deliveries.c.id)
        )
        return set(result.scalars())

    async def release(self, ids: Sequence[int], owner: str) -> None:
        """Give back claims whose letters were never started (the run stopped): a first attempt as if
        never claimed, a retry back to ``failed`` with its count."""
        if not ids:
            return
        mine = and_(
            MailDelivery.id.in_(ids), MailDelivery.claimed_by == owner, MailDelivery.state == "claimed"
        )
        await self.session.execute(
            delete(MailDelivery)
            .where(mine, MailDelivery.attempts == 0)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(MailDelivery)
            .where(mine)
            .values(state="failed")
            .execution_options(synchronize_session=False)
        )

    async def count_states(self, kind: str, period: dt.date) -> dict[str, int]:
        rows = await self.session.execute(
            select(MailDelivery.state, func.count())
            .where(MailDelivery.kind == kind, MailDelivery.period == period)
            .group_by(MailDelivery.state)
        )
        return {state: int(count) for state, count in rows.all()}

    async def count_retryable(self, kind: str, period: dt.date, max_attempts: int) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                MailDelivery.kind == kind,
                MailDelivery.period == period,
                or_(
                    MailDelivery.state == "claimed",
                    and_(MailDelivery.state == "failed", MailDelivery.attempts < max_attempts),
                ),
            )
        )
        return int(count or 0)

    async def addressees(self, account_ids: Sequence[int]) -> dict[int, Addressee]:
        rows = await self.session.execute(
            select(
                Account.id,
                Account.number,
                User.email,
                MailSubscription.receipt,
                MailSubscription.reminders,
            )
            .join(User, User.account_id == Account.id)
            .join(MailSubscription, MailSubscription.account_id == Account.id)
            .where(Account.id.in_(account_ids))
        )
        return {row[0]: Addressee(*row) for row in rows.all()}

    async def meters_of(
        self, account_ids: Sequence[int], reading_period: dt.date
    ) -> dict[int, list[MeterDue]]:
        read = (
            exists()
            .where(
                Reading.meter_id == Meter.id,
                Reading.period == reading_period,
                Reading.status == ReadingStatus.ACCEPTED.value,
            )
            .label("submitted")
        )
        rows = await self.session.execute(
            select(Meter.account_id, Service.name, Service.unit, Meter.serial_number, read)
            .join(Service, Service.id == Meter.service_id)
            .where(Meter.account_id.in_(account_ids))
            .order_by(Meter.account_id, Service.sort_order, Meter.id)
        )
        meters: dict[int, list[MeterDue]] = {}
        for row in rows.all():
            meters.setdefault(row[0], []).append(MeterDue(row[0], row[1], row[2], row[3], bool(row[4])))
        return meters
