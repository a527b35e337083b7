"""argon2id password hashing in a worker thread (the rules of a new password: :mod:`.password_policy`)."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# The schema's length rule is imported from here by the schemas of recovery and the profile.
from portal.security.password_policy import NEW_PASSWORD_SCHEMA

__all__ = ["NEW_PASSWORD_SCHEMA", "PasswordHashing"]


class PasswordHashing:
    """argon2id with the configured cost; all hashing runs in a thread so the event loop never waits."""

    def __init__(self, time_cost: int = 2, memory_cost: int = 19456) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)
        # Verifying a login for an unknown account costs the same as for a known one.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True if ``password`` matches; with ``None`` a dummy hash is checked so timing says nothing."""
        target = password_hash or self._dummy_hash
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
