"""SQL of the profile: the user row of the principal's account."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import User


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_of_account(self, account_id: int) -> User | None:
        result: User | None = await self.session.scalar(select(User).where(User.account_id == account_id))
        return result

    async def set_email(self, account_id: int, email: str) -> None:
        await self.session.execute(update(User).where(User.account_id == account_id).values(email=email))
