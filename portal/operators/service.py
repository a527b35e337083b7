"""Rules of operator keys: made here, shown once, stored as an HMAC only, revoked for good.

An operator key is a separate kind of secret from a resident's token: it has its own prefix, its
own HMAC domain (``operator-key:``) and its own table, so a resident's token is never found among
operator keys and an operator key never among residents' sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.operators.errors import NotAnOperatorKey, OperatorKeyNotValid, OperatorNotAuthenticated
from portal.operators.repository import OperatorKeysRepository
from portal.security.tokens import TokenDigest

#: Every operator key starts with this, so a key pasted in the wrong place is recognisable.
KEY_PREFIX = "kop_"
#: Longest name of a key (the column's size).
MAX_NAME = 100


@dataclass(frozen=True)
class OperatorPrincipal:
    """Who an operator request acts for."""

    key_id: int
    name: str

    def __str__(self) -> str:
        return f"operator key {self.key_id} ({self.name})"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def key_digest(tokens: TokenDigest, key: str) -> str:
    """The stored HMAC of an operator key (its own domain, apart from residents' tokens)."""
    return tokens.digest(f"operator-key:{key}")


async def create_key(
    session: AsyncSession, tokens: TokenDigest, name: str, now: dt.datetime
) -> tuple[str, KeyInfo]:
    """A new key named ``name``: the secret (to be shown once) and what is stored of it."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"the key's name must be 1 to {MAX_NAME} characters")
    secret = KEY_PREFIX + tokens.new_token()
    row = await OperatorKeysRepository(session).add(name, key_digest(tokens, secret), now)
    return secret, KeyInfo(row.id, row.name, row.created_at, None, None)


async def list_keys(session: AsyncSession) -> list[KeyInfo]:
    return [
        KeyInfo(k.id, k.name, k.created_at, k.last_used_at, k.revoked_at)
        for k in await OperatorKeysRepository(session).all()
    ]


async def revoke_key(session: AsyncSession, key_id: int, now: dt.datetime) -> bool | None:
    """True: revoked now; False: it was revoked before; None: no such key."""
    repo = OperatorKeysRepository(session)
    if await repo.revoke(key_id, now):
        return True
    return False if await repo.exists(key_id) else None


async def authenticate_operator(
    session: AsyncSession, tokens: TokenDigest, key: str | None, now: dt.datetime
) -> OperatorPrincipal:
    """The operator behind a bearer key, or 401. A resident's token is refused without a lookup."""
    if not key:
        raise OperatorNotAuthenticated()
    if not key.startswith(KEY_PREFIX):
        raise NotAnOperatorKey()
    repo = OperatorKeysRepository(session)
    found = await repo.active_by_hmac(key_digest(tokens, key))
    if found is None:
        raise OperatorKeyNotValid()
    await repo.touch(found.id, now)
    return OperatorPrincipal(found.id, found.name)
