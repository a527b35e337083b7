"""argon2id password hashing in a worker thread, and the password rules of SECURITY.md."""

from __future__ import annotations

import asyncio
import secrets
from functools import cache
from importlib import resources
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
#: The length rule of a new password in the API schema (the service answers `weak_password` outside it).
NEW_PASSWORD_SCHEMA: dict[str, Any] = {"minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH}

#: Letters for generated passwords: no look-alikes (0/O, 1/l/I), easy to retype from a letter.
_GENERATED_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


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


def generate_password(length: int = 12) -> str:
    """A random password for the registration letter (~70 bits)."""
    return "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(length))


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("portal.security").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str, account_number: str) -> str | None:
    """Why a new password is refused (in Russian), or ``None`` if it is acceptable.

    Length 8–128 with no composition rules; not one of the most common passwords; not the
    account number (the login) itself.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Пароль должен быть не длиннее {MAX_PASSWORD_LENGTH} символов."
    if password.strip() == account_number or (account_number in password and len(password) < 14):
        return "Пароль не должен совпадать с номером лицевого счета."
    if password.lower() in common_passwords():
        return "Этот пароль слишком распространён — выберите другой."
    return None
