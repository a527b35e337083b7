"""Throttling rules: every guess is reserved in the database before it is checked.

Three counters per knowledge check (scope):

- **account and client** (``pair:``): a few free attempts, then cool-downs that double (30 s … 900 s).
  This is the limit a guesser meets; it is keyed by the client too, so someone else's guesses from
  another address never block the resident's right answer.
- **client** (``client:``): more free attempts across all accounts, then doubling cool-downs: one
  address cannot try one guess on many accounts.
- **account** (``account:``): all attempts on the account from anywhere within a day. Beyond the
  ceiling the account is *guarded*: each address gets a single attempt on it until the account has been
  quiet for a day. Someone with many addresses then gets one guess per new address, and a resident
  whose address has not failed still gets in.

A reservation counts the attempt before the secret is checked (one conditional upsert per counter,
committed at once), so concurrent requests on any number of workers and hosts cannot check more than
the free attempts; a right answer gives its reservation back. A refused reservation counts nothing and
does not prolong a cool-down. The counters live in the database, never in a process's memory or cache.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.throttling.errors import TooManyAttempts, TooManyRequests
from portal.throttling.repository import FailureCounterRepository

#: A quiet day forgives earlier failures.
RESET_AFTER = dt.timedelta(hours=24)


class Scope(enum.StrEnum):
    """The guessable knowledge checks."""

    LOGIN = "login"
    REGISTRATION = "registration"
    #: Asking for a recovery code (every request counts).
    RECOVERY = "recovery"
    #: Using a recovery code.
    RECOVERY_CONFIRM = "recovery_confirm"
    READINGS_CHECK = "readings_check"
    #: Capital repair account numbers looked up without login (to pay the contribution).
    CAPITAL_REPAIR = "capital_repair"


class Window(enum.StrEnum):
    """Per-client windows of public requests (and the per-order gate of payment status queries)."""

    REGISTRATION_LOOKUP = "w_registration_lookup"
    READINGS_LOOKUP = "w_readings_lookup"
    CAPITAL_REPAIR_LOOKUP = "w_capital_repair_lookup"
    CAPITAL_REPAIR_PAYMENT = "w_capital_repair_payment"
    PAYMENT_POLL = "w_payment_poll"
    #: Requests of one operator key to the operator API.
    OPERATOR = "w_operator"


@dataclass(frozen=True)
class ThrottlePolicy:
    #: Free attempts on one account from one client address.
    account_free_failures: int = 5
    #: Free attempts from one client address across all accounts.
    client_free_failures: int = 20
    base_cooldown_seconds: int = 30
    max_cooldown_seconds: int = 900
    #: Attempts on one account from all addresses in a day before each address gets only one.
    account_ceiling: int = 50

    def ladder(self, now: dt.datetime) -> list[dt.datetime]:
        """The ends of the cool-downs after the free attempts: now + 30 s, 60 s … the maximum (last)."""
        steps: list[dt.datetime] = []
        step = 0
        while True:
            seconds = self.base_cooldown_seconds * 2**step
            if seconds >= self.max_cooldown_seconds or step >= 20:
                steps.append(now + dt.timedelta(seconds=self.max_cooldown_seconds))
                return steps
            steps.append(now + dt.timedelta(seconds=seconds))
            step += 1


def account_subject(account_number: str) -> str:
    return f"account:{account_number.strip()[:40]}"


def client_subject(client_address: str) -> str:
    return f"client:{client_address[:80]}"


def pair_subject(account_number: str, client_address: str) -> str:
    return f"pair:{account_number.strip()[:40]}|{client_address[:64]}"


@dataclass(frozen=True)
class Reservation:
    """An attempt counted before its check; give it back with :meth:`Throttle.succeeded`."""

    scope: Scope
    account_number: str
    client: str


def _retry_after(until: dt.datetime | None, now: dt.datetime, fallback: int) -> int:
    if until is None or until <= now:
        return fallback
    return max(1, math.ceil((until - now).total_seconds()))


class Throttle:
    """Reserves attempts of one knowledge check for an account number and a client."""

    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy

    async def reserve(
        self, session: AsyncSession, scope: Scope, account_number: str, client: str, now: dt.datetime
    ) -> Reservation:
        """Count the attempt and commit that, or raise :class:`TooManyAttempts` without counting it.

        Call it before anything the request writes: the commit makes the count visible to every
        worker at once (and the request then checks the secret outside the counters' row locks).
        """
        repo = FailureCounterRepository(session)
        policy = self.policy
        ladder = policy.ladder(now)
        reset_before = now - RESET_AFTER
        account, pair, by_client = (
            account_subject(account_number),
            pair_subject(account_number, client),
            client_subject(client),
        )
        guarded = await repo.count(scope, account, reset_before) >= policy.account_ceiling
        granted = await repo.reserve(
            scope,
            pair,
            now,
            free=1 if guarded else policy.account_free_failures,
            ladder=ladder,
            reset_before=reset_before,
            first_only=guarded,
        )
        if granted is not None:
            granted = await repo.reserve(
                scope,
                by_client,
                now,
                free=policy.client_free_failures,
                ladder=ladder,
                reset_before=reset_before,
            )
        if granted is None:
            until = await repo.blocked_until(scope, [pair, by_client])
            await session.commit()
            raise TooManyAttempts(_retry_after(until, now, policy.max_cooldown_seconds))
        await repo.add(scope, account, now, reset_before)
        await session.commit()
        if secrets.randbelow(256) == 0:  # now and then, forget counters quiet for a day (own transaction)
            await repo.purge(reset_before, now)
            await session.commit()
        return Reservation(scope, account_number, client)

    async def succeeded(self, session: AsyncSession, reservation: Reservation) -> None:
        """The right answer: the client's failures on this account are forgiven, the attempt given back.

        Written in the request's transaction: if the request fails later, the attempt stays counted.
        """
        repo = FailureCounterRepository(session)
        scope, number, client = reservation.scope, reservation.account_number, reservation.client
        await repo.clear(scope, pair_subject(number, client))
        await repo.refund(scope, client_subject(client), self.policy.client_free_failures)
        await repo.refund(scope, account_subject(number), self.policy.account_ceiling)

    async def forgive_account(
        self, session: AsyncSession, scope: Scope, account_number: str, client: str
    ) -> None:
        """The resident proved the account otherwise (a new password by e-mail): earlier guesses are moot."""
        repo = FailureCounterRepository(session)
        await repo.clear(scope, pair_subject(account_number, client))
        await repo.clear(scope, account_subject(account_number))


async def take_window(
    session: AsyncSession, window: Window, key: str, now: dt.datetime, *, limit: int, length: dt.timedelta
) -> bool:
    """Count one request in ``key``'s window of ``limit`` per ``length``; False (nothing counted) when full.

    Committed at once, so every worker sees it (and the row is not kept locked).
    """
    repo = FailureCounterRepository(session)
    taken = await repo.take_window(window, key[:120], now, limit=limit, window=length)
    await session.commit()
    return taken is not None


async def take_client_window(
    session: AsyncSession, window: Window, client: str, now: dt.datetime, *, limit: int, length: dt.timedelta
) -> None:
    """Count one public request of the client, or raise 429 with ``Retry-After`` (the window's end)."""
    if await take_window(session, window, client_subject(client), now, limit=limit, length=length):
        return
    until = await FailureCounterRepository(session).blocked_until(window, [client_subject(client)])
    await session.commit()
    raise TooManyRequests(_retry_after(until, now, int(length.total_seconds())))
