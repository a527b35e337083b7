"""Rules of login, logout and sessions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.errors import LoginFailed, NotAuthenticated, SessionExpired, TokenNotValid
from portal.auth.repository import AuthRepository, TokenRow
from portal.kit.cache import CachedSession, invalidate_after_commit
from portal.kit.state import PortalState
from portal.models import TokenKind
from portal.throttling.service import Scope

#: Writing ``last_used_at`` on every request would turn every read into a write; once a minute is enough.
TOUCH_INTERVAL = dt.timedelta(seconds=60)

#: Expired tokens deleted by one login (through the index on their expiry, oldest first).
EXPIRED_DELETED_PER_LOGIN = 100


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the account always comes from here, never from the request."""

    account_id: int
    account_number: str
    user_id: int | None
    token_id: int
    kind: TokenKind
    expires_at: dt.datetime


async def login(
    state: PortalState, session: AsyncSession, account_number: str, password: str, client: str
) -> tuple[str, Principal]:
    """Check the password (throttled, uniform failure) and open a session; returns the new token."""
    now = state.clock.now()
    number = account_number.strip()
    reservation = await state.throttle.reserve(session, Scope.LOGIN, number, client, now)
    repo = AuthRepository(session)
    found = await repo.user_with_account(number)
    ok = await state.hashing.verify(found[0].password_hash if found else None, password)
    if not ok or found is None:
        raise LoginFailed()  # the attempt was counted by the reservation
    user, account = found
    await state.throttle.succeeded(session, reservation)
    if state.hashing.needs_rehash(user.password_hash):
        await repo.set_password(user.id, await state.hashing.hash(password), user.password_changed_at)
    # Every login opens one token and deletes up to this many expired ones: never behind for long.
    await repo.delete_expired(now, EXPIRED_DELETED_PER_LOGIN)
    token, principal = await open_token(
        state, session, TokenKind.SESSION, account.id, account.number, user.id
    )
    # The resident's first page follows at once: this worker need not read the new row back. (Should
    # the commit fail, nobody ever receives the token, so the entry can serve no one.)
    state.cache.remember_session(state.tokens.digest(token), CachedSession(principal, now))
    return token, principal


async def open_token(
    state: PortalState,
    session: AsyncSession,
    kind: TokenKind,
    account_id: int,
    account_number: str,
    user_id: int | None,
    *,
    lifetime: dt.timedelta | None = None,
) -> tuple[str, Principal]:
    """Create an opaque token of ``kind``; only its HMAC is stored."""
    now = state.clock.now()
    settings = state.settings
    if lifetime is None:
        lifetime = {
            TokenKind.SESSION: dt.timedelta(hours=settings.session_absolute_hours),
            TokenKind.READINGS: dt.timedelta(minutes=settings.readings_token_minutes),
            TokenKind.RECOVERY: dt.timedelta(minutes=settings.recovery_code_minutes),
        }[kind]
    token = state.tokens.new_token()
    row = await AuthRepository(session).add_token(
        token_hmac=state.tokens.digest(token),
        kind=kind,
        account_id=account_id,
        user_id=user_id,
        now=now,
        expires_at=now + lifetime,
    )
    principal = Principal(account_id, account_number, user_id, row.id, kind, row.expires_at)
    return token, principal


def principal_from_memory(
    state: PortalState, token_hmac: str, kinds: frozenset[TokenKind], now: dt.datetime
) -> Principal | None:
    """The principal of a token checked against its row within :data:`TOUCH_INTERVAL`, if cached.

    Such a session cannot have gone idle (the idle limit is longer) and ended ones are dropped from
    the cache by their invalidations, so only the absolute expiry is left to check.
    """
    cached = state.cache.session(token_hmac)
    if (
        cached is None
        or cached.principal.kind not in kinds
        or now >= cached.principal.expires_at
        or now - cached.last_used_at > TOUCH_INTERVAL
    ):
        return None
    principal: Principal = cached.principal
    return principal


async def authenticate(
    state: PortalState, session: AsyncSession, token: str | None, kinds: frozenset[TokenKind]
) -> Principal:
    """The principal of a bearer token of one of ``kinds``, or 401 (absent, unknown or expired).

    A session checked within the last minute is answered from memory (see :mod:`portal.kit.cache`);
    otherwise one query reads the token with its account, and ``last_used_at`` is moved on.
    """
    if not token:
        raise NotAuthenticated()
    token_hmac = state.tokens.digest(token)
    now = state.clock.now()
    remembered = principal_from_memory(state, token_hmac, kinds, now)
    if remembered is not None:
        return remembered
    repo = AuthRepository(session)
    row = await repo.token_with_account_number(token_hmac)
    refusal = _refusal(state, row, kinds, now)
    if refusal is SessionExpired:
        assert row is not None
        await repo.delete_token(row.id)
        await session.commit()  # the expired row goes even though this request now fails
        state.cache.apply(f"session:{token_hmac}")
    if refusal is not None:
        raise refusal()
    assert row is not None
    return await _accepted(state, repo, token_hmac, row, now)


async def checked_principal(
    state: PortalState, session: AsyncSession, token_hmac: str, kinds: frozenset[TokenKind]
) -> Principal | None:
    """What :func:`authenticate` answers for a token (by its HMAC) it accepts, or None for one it refuses,
    then without changing anything: the route's own authentication refuses it and says why."""
    now = state.clock.now()
    remembered = principal_from_memory(state, token_hmac, kinds, now)
    if remembered is not None:
        return remembered
    repo = AuthRepository(session)
    row = await repo.token_with_account_number(token_hmac)
    if row is None or _refusal(state, row, kinds, now) is not None:
        return None
    return await _accepted(state, repo, token_hmac, row, now)


def _refusal(
    state: PortalState, row: TokenRow | None, kinds: frozenset[TokenKind], now: dt.datetime
) -> type[TokenNotValid | SessionExpired] | None:
    if row is None or row.kind not in kinds:
        return TokenNotValid
    if row.kind == TokenKind.SESSION and not row.attached:
        # The session's account was detached from its login (or belongs to another one now).
        return TokenNotValid
    idle_limit = dt.timedelta(minutes=state.settings.session_idle_minutes)
    if now >= row.expires_at or (row.kind == TokenKind.SESSION and now - row.last_used_at > idle_limit):
        return SessionExpired
    return None


async def _accepted(
    state: PortalState, repo: AuthRepository, token_hmac: str, row: TokenRow, now: dt.datetime
) -> Principal:
    """The principal of a token row that passed :func:`_refusal`; ``last_used_at`` moves on if due."""
    last_used_at = row.last_used_at
    if now - last_used_at > TOUCH_INTERVAL:
        await repo.touch_token(row.id, now)
        last_used_at = now
    principal = Principal(
        row.account_id, row.account_number, row.user_id, row.id, TokenKind(row.kind), row.expires_at
    )
    state.cache.remember_session(token_hmac, CachedSession(principal, last_used_at))
    return principal


async def end_sessions(session: AsyncSession, account_id: int, *, except_token_id: int | None = None) -> None:
    """End every session of the login the account belongs to, on any of its accounts, and any session
    still on the account itself (a password change keeps the one it was made in)."""
    repo = AuthRepository(session)
    user_ids = await repo.users_of_account(account_id)
    await repo.delete_tokens(account_id, TokenKind.SESSION, except_id=except_token_id)
    await repo.delete_user_tokens(user_ids, TokenKind.SESSION, except_id=except_token_id)
    # Caches drop all of those sessions; a kept one is simply read again from its row.
    await invalidate_after_commit(
        session, f"sessions:{account_id}", *(f"user:{user_id}" for user_id in user_ids)
    )


async def logout(session: AsyncSession, principal: Principal) -> None:
    await AuthRepository(session).delete_token(principal.token_id)
    await invalidate_after_commit(session, f"session-id:{principal.token_id}")
