"""SQL of registration: accounts by number, their registered user, new users."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Account, User


class RegistrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account_by_number(self, number: str) -> Account | None:
        result: Account | None = await self.session.scalar(select(Account).where(Account.number == number))
        return result

    async def user_of_account(self, account_id: int) -> User | None:
        result: User | None = await self.session.scalar(select(User).where(User.account_id == account_id))
        return result

    async def add_user(self, account_id: int, email: str, password_hash: str, now: dt.datetime) -> User:
        """Insert the account's user; a concurrent registration makes the flush raise IntegrityError."""
        user = User(
            account_id=account_id,
            email=email,
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
        )
        self.session.add(user)
        await self.session.flush()
        return user
