"""SQL of password recovery: registered users by account number, single-use recovery codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import AccessToken, Account, TokenKind, User


class RecoveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def registered_user(self, number: str) -> tuple[User, Account] | None:
        statement = (
            select(User, Account).join(Account, User.account_id == Account.id).where(Account.number == number)
        )
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None

    async def account_id_by_number(self, number: str) -> int | None:
        result: int | None = await self.session.scalar(select(Account.id).where(Account.number == number))
        return result

    async def live_code_id(self, account_id: int, now: dt.datetime) -> int | None:
        """The row id of the account's recovery code that still works, if any (only the newest exists)."""
        result: int | None = await self.session.scalar(
            select(AccessToken.id)
            .where(
                AccessToken.kind == TokenKind.RECOVERY,
                AccessToken.account_id == account_id,
                AccessToken.expires_at > now,
            )
            .order_by(AccessToken.id.desc())
            .limit(1)
        )
        return result

    async def consume_code(self, code_hmac: str, account_id: int, now: dt.datetime) -> int | None:
        """Delete a valid recovery code of the account and return its user id, or None.

        Checking and deleting is one statement, so two requests with the same code cannot both
        succeed (on PostgreSQL the second waits for the first and then finds no row).
        """
        result: int | None = await self.session.scalar(
            delete(AccessToken)
            .where(
                AccessToken.token_hmac == code_hmac,
                AccessToken.kind == TokenKind.RECOVERY,
                AccessToken.account_id == account_id,
                AccessToken.user_id.is_not(None),
                AccessToken.expires_at > now,
            )
            .returning(AccessToken.user_id)
        )
        return result
