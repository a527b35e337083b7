"""All SQL of the accounts domain; every query is filtered by the principal's ``account_id``.

The summary's statements are built once, on the tables themselves (no ORM entities): the summary is
the start screen, and statement construction and ORM loading would cost more than the queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BindParameter, bindparam, delete, select, update

from portal.billing.repository import latest_charge_period_of
from portal.kit.db import read_rows
from portal.kit.repository import Repository
from portal.models import (
    AccessToken,
    Account,
    CapitalRepairAccount,
    Meter,
    Payment,
    Service,
    TokenKind,
    User,
    UserAccount,
)

_accounts = Account.__table__
_fund_accounts = CapitalRepairAccount.__table__
_meters = Meter.__table__
_services = Service.__table__
_payments = Payment.__table__


@dataclass(frozen=True)
class LastPayment:
    paid_on: dt.date
    amount_kopecks: int
    channel: str
    purpose: str


@dataclass(frozen=True)
class MeterVerification:
    """What the summary needs to know about a meter's verification."""

    meter_id: int
    service_name: str
    serial_number: str
    next_verification_on: dt.date


@dataclass(frozen=True)
class SummaryAccount:
    """The account's own row with what the summary reads alongside it."""

    number: str
    address: str
    owner_name: str
    area_m2: Decimal
    residents: int
    #: The apartment's account at the capital repair fund (both None when it has none).
    fund_account_number: str | None
    fund_name: str | None
    #: The last receipt's month (:func:`portal.billing.service.last_receipt_period`), None without charges.
    last_receipt_period: dt.date | None
    #: The latest payment dated on or before today, either purpose.
    last_payment: LastPayment | None
    #: The account's meters in the receipt's order of services.
    meters: tuple[MeterVerification, ...]


_account_id: BindParameter[int] = bindparam("account_id")
_latest_payment = _payments.alias("latest_payment")
_latest_payment_id = (
    select(_latest_payment.c.id)
    .where(_latest_payment.c.account_id == _account_id, _latest_payment.c.paid_on <= bindparam("today"))
    .order_by(_latest_payment.c.paid_on.desc(), _latest_payment.c.id.desc())
    .limit(1)
    .scalar_subquery()
)

#: The account, its fund account, the last receipt's month and the last payment, on one row per meter
#: (the meters in the receipt's order of services; one row with no meter when it has none).
_SUMMARY_ACCOUNT = (
    select(
        _accounts.c.number,
        _accounts.c.address,
        _accounts.c.owner_name,
        _accounts.c.area_m2,
        _accounts.c.residents,
        _fund_accounts.c.number,
        _fund_accounts.c.fund_name,
        latest_charge_period_of(_account_id),
        _payments.c.paid_on,
        _payments.c.amount_kopecks,
        _payments.c.channel,
        _payments.c.purpose,
        _meters.c.id,
        _services.c.name,
        _meters.c.serial_number,
        _meters.c.next_verification_on,
    )
    .select_from(
        _accounts.outerjoin(_fund_accounts, _fund_accounts.c.account_id == _accounts.c.id)
        .outerjoin(_payments, _payments.c.id == _latest_payment_id)
        # Flat outer joins: a nested (meters JOIN services) would make SQLite scan every meter.
        .outerjoin(_meters, _meters.c.account_id == _accounts.c.id)
        .outerjoin(_services, _services.c.id == _meters.c.service_id)
    )
    .where(_accounts.c.id == _account_id)
    .order_by(_services.c.sort_order, _meters.c.id)
)


class AccountsRepository(Repository[Account]):
    """Reads of one account's own rows."""

    model = Account

    async def summary_account(self, account_id: int, today: dt.date) -> SummaryAccount | None:
        """The account with its fund account, last receipt month, last payment up to ``today`` and meters."""
        rows = await read_rows(self.session, _SUMMARY_ACCOUNT, {"account_id": account_id, "today": today})
        if not rows:
            return None
        number, address, owner, area, residents, fund_number, fund_name, period, *rest = rows[0]
        paid_on, amount, channel, purpose = rest[:4]
        return SummaryAccount(
            number=number,
            address=address,
            owner_name=owner,
            area_m2=area,
            residents=residents,
            fund_account_number=fund_number,
            fund_name=fund_name,
            last_receipt_period=period,
            last_payment=LastPayment(paid_on, int(amount), channel, purpose) if paid_on is not None else None,
            meters=tuple(MeterVerification(*row[12:]) for row in rows if row[12] is not None),
        )


@dataclass(frozen=True)
class LoginAccount:
    """An account of a login, as the list of attached accounts shows it."""

    account_id: int
    number: str
    address: str
    own: bool
    has_fund_account: bool


class AttachmentsRepository(Repository[UserAccount]):
    """The accounts of one login (``user_accounts``) and the sessions that work on them."""

    model = UserAccount

    async def accounts_of(self, user_id: int) -> list[LoginAccount]:
        """The login's accounts: its own first, then in the order attached."""
        own = User.account_id == UserAccount.account_id
        rows = await self.session.execute(
            select(Account.id, Account.number, Account.address, own, CapitalRepairAccount.id)
            .select_from(UserAccount)
            .join(User, User.id == UserAccount.user_id)
            .join(Account, Account.id == UserAccount.account_id)
            .outerjoin(CapitalRepairAccount, CapitalRepairAccount.account_id == Account.id)
            .where(UserAccount.user_id == user_id)
            .order_by(own.desc(), UserAccount.attached_at, UserAccount.id)
        )
        return [
            LoginAccount(account_id, number, address, bool(is_own), fund_id is not None)
            for account_id, number, address, is_own, fund_id in rows
        ]

    async def attached(self, user_id: int, number: str) -> tuple[int, bool] | None:
        """The id of the login's account with this number and whether it is the login's own."""
        account = await self.account_by_number(number)
        if account is None:
            return None
        row = (
            await self.session.execute(
                select(User.account_id == UserAccount.account_id)
                .select_from(UserAccount)
                .join(User, User.id == UserAccount.user_id)
                .where(UserAccount.user_id == user_id, UserAccount.account_id == account.id)
            )
        ).first()
        return (account.id, bool(row[0])) if row else None

    async def attach(self, user_id: int, account_id: int, now: dt.datetime) -> None:
        """Attach; a concurrent registration or attachment of the account makes the flush raise."""
        await self.create(UserAccount(user_id=user_id, account_id=account_id, attached_at=now), flush=True)

    async def detach(self, user_id: int, account_id: int) -> None:
        await self.session.execute(
            delete(UserAccount).where(UserAccount.user_id == user_id, UserAccount.account_id == account_id)
        )

    async def own_account_id(self, user_id: int) -> int:
        account_id: int = (
            await self.session.execute(select(User.account_id).where(User.id == user_id))
        ).scalar_one()
        return account_id

    async def point_session(self, token_id: int, account_id: int) -> None:
        """Make a session work on another account of its login."""
        await self.session.execute(
            update(AccessToken).where(AccessToken.id == token_id).values(account_id=account_id)
        )

    async def end_sessions_on(self, user_id: int, account_id: int) -> None:
        """End the login's sessions that work on an account (other than one just moved off it)."""
        await self.session.execute(
            delete(AccessToken).where(
                AccessToken.user_id == user_id,
                AccessToken.account_id == account_id,
                AccessToken.kind == TokenKind.SESSION,
            )
        )
