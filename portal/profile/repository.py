"""SQL of the profile: the user row of the principal's account."""

from __future__ import annotations

from sqlalchemy import update

from portal.kit.repository import Repository
from portal.models import User


class ProfileRepository(Repository[User]):
    model = User

    async def set_email(self, account_id: int, email: str) -> None:
        await self.session.execute(update(User).where(User.account_id == account_id).values(email=email))
