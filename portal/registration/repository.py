"""SQL of registration: accounts by number, their registered user, new users."""

from __future__ import annotations

import datetime as dt

from portal.kit.repository import Repository
from portal.models import User


class RegistrationRepository(Repository[User]):
    model = User

    async def add_user(self, account_id: int, email: str, password_hash: str, now: dt.datetime) -> User:
        """Insert the account's user; a concurrent registration makes the flush raise IntegrityError."""
        user = User(
            account_id=account_id,
            email=email,
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
        )
        return await self.create(user, flush=True)
