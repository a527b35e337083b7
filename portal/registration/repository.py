"""SQL of registration: accounts by number, their registered user, new users."""

from __future__ import annotations

import datetime as dt

from portal.kit.repository import Repository
from portal.models import User, UserAccount


class RegistrationRepository(Repository[User]):
    model = User

    async def add_user(self, account_id: int, email: str, password_hash: str, now: dt.datetime) -> User:
        """Insert the account's user; a concurrent registration or attachment makes a flush raise."""
        user = User(
            account_id=account_id,
            email=email,
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
        )
        await self.create(user, flush=True)
        # The login works on its own account; the unique account_id also refuses an account that
        # was attached to another login meanwhile.
        await self.create(UserAccount(user_id=user.id, account_id=account_id, attached_at=now), flush=True)
        return user
