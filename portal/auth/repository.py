"""SQL of users and access tokens."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, update

from portal.kit.db import read_rows
from portal.kit.repository import Repository
from portal.models import AccessToken, Account, User, UserAccount


class TokenRow(NamedTuple):
    """What authentication reads of a token (columns of ``_TOKEN_WITH_NUMBER``, in order)."""

    id: int
    kind: str
    account_id: int
    user_id: int | None
    last_used_at: dt.datetime
    expires_at: dt.datetime
    account_number: str
    #: The row of ``user_accounts`` tying the token's account to its login (None: detached or another's).
    attachment_id: int | None

    @property
    def attached(self) -> bool:
        return self.attachment_id is not None


_tokens = AccessToken.__table__
_accounts = Account.__table__
_user_accounts = UserAccount.__table__
#: Built once, on the tables: no ORM entity is loaded for a request's authentication.
_TOKEN_WITH_NUMBER = (
    select(
        _tokens.c.id,
        _tokens.c.kind,
        _tokens.c.account_id,
        _tokens.c.user_id,
        _tokens.c.last_used_at,
        _tokens.c.expires_at,
        _accounts.c.number,
        _user_accounts.c.id,
    )
    .select_from(
        _tokens.join(_accounts, _accounts.c.id == _tokens.c.account_id).outerjoin(
            _user_accounts,
            (_user_accounts.c.account_id == _tokens.c.account_id)
            & (_user_accounts.c.user_id == _tokens.c.user_id),
        )
    )
    .where(_tokens.c.token_hmac == bindparam("token_hmac"))
)


class AuthRepository(Repository[AccessToken]):
    model = AccessToken

    async def add_token(
        self,
        *,
        token_hmac: str,
        kind: str,
        account_id: int,
        user_id: int | None,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> AccessToken:
        token = AccessToken(
            token_hmac=token_hmac,
            kind=kind,
            account_id=account_id,
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            expires_at=expires_at,
        )
        return await self.create(token, flush=True)

    async def token_by_hmac(self, token_hmac: str) -> AccessToken | None:
        return await self.get_one_or_none(select(AccessToken).where(AccessToken.token_hmac == token_hmac))

    async def token_with_account_number(self, token_hmac: str) -> TokenRow | None:
        """The token's row, its account's number and attachment (plain columns: uncached requests ask)."""
        rows = await read_rows(self.session, _TOKEN_WITH_NUMBER, {"token_hmac": token_hmac})
        return TokenRow._make(rows[0]) if rows else None

    async def touch_token(self, token_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(AccessToken).where(AccessToken.id == token_id).values(last_used_at=now)
        )

    async def delete_token(self, token_id: int) -> None:
        await self.session.execute(delete(AccessToken).where(AccessToken.id == token_id))

    async def delete_tokens(self, account_id: int, kind: str, *, except_id: int | None = None) -> None:
        statement = delete(AccessToken).where(AccessToken.account_id == account_id, AccessToken.kind == kind)
        if except_id is not None:
            statement = statement.where(AccessToken.id != except_id)
        await self.session.execute(statement)

    async def delete_user_tokens(
        self, user_ids: list[int], kind: str, *, except_id: int | None = None
    ) -> None:
        """Every token of ``kind`` of these logins, whichever of their accounts each is on."""
        statement = delete(AccessToken).where(AccessToken.user_id.in_(user_ids), AccessToken.kind == kind)
        if except_id is not None:
            statement = statement.where(AccessToken.id != except_id)
        await self.session.execute(statement)

    async def users_of_account(self, account_id: int) -> list[int]:
        """The login the account belongs to (none or one)."""
        return list(
            await self.get_all(select(UserAccount.user_id).where(UserAccount.account_id == account_id))
        )

    async def delete_expired(self, now: dt.datetime, limit: int) -> None:
        """Delete up to ``limit`` expired tokens, oldest first, found through ``ix_sessions_expires_at``.

        Bounded, so a login never pays for a backlog; rows another login is deleting right now are
        skipped on PostgreSQL rather than waited for (SQLite runs one transaction at a time).
        """
        oldest = (
            select(AccessToken.id)
            .where(AccessToken.expires_at < now)
            .order_by(AccessToken.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        await self.session.execute(delete(AccessToken).where(AccessToken.id.in_(oldest.scalar_subquery())))

    async def set_password(self, user_id: int, password_hash: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=password_hash, password_changed_at=now)
        )
