"""SQL of users and access tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update

from portal.kit.repository import Repository
from portal.models import AccessToken, Account, User, UserAccount


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

    async def token_with_account_number(self, token_hmac: str) -> tuple[AccessToken, str, bool] | None:
        """The token, its account's number and whether that account is attached to the token's login."""
        row = (
            await self.session.execute(
                select(AccessToken, Account.number, UserAccount.id)
                .join(Account, Account.id == AccessToken.account_id)
                .outerjoin(
                    UserAccount,
                    (UserAccount.account_id == AccessToken.account_id)
                    & (UserAccount.user_id == AccessToken.user_id),
                )
                .where(AccessToken.token_hmac == token_hmac)
            )
        ).first()
        return (row[0], row[1], row[2] is not None) if row else None

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

    async def delete_expired(self, now: dt.datetime) -> None:
        await self.session.execute(delete(AccessToken).where(AccessToken.expires_at < now))

    async def set_password(self, user_id: int, password_hash: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=password_hash, password_changed_at=now)
        )
