"""Throttling rules: a few free failures, then cool-downs that double, per account and per client.

Cool-downs are temporary, so someone else's guesses can delay a resident but never disable the
account. The counters live in the database: they survive restarts and are shared by workers.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.errors import TooManyAttempts
from portal.throttling.repository import FailureCounterRepository

#: A quiet day forgives earlier failures.
RESET_AFTER = dt.timedelta(hours=24)


class Scope(enum.StrEnum):
    """The guessable knowledge checks."""

    LOGIN = "login"
    REGISTRATION = "registration"
    RECOVERY = "recovery"
    READINGS_CHECK = "readings_check"
    #: Capital repair account numbers looked up without login (to pay the contribution).
    CAPITAL_REPAIR = "capital_repair"


@dataclass(frozen=True)
class ThrottlePolicy:
    account_free_failures: int = 5
    client_free_failures: int = 20
    base_cooldown_seconds: int = 30
    max_cooldown_seconds: int = 900

    def cooldown(self, failures: int, free: int) -> dt.timedelta | None:
        """No cool-down within the free failures; then 30 s, 60 s, 120 s … up to the maximum."""
        if failures < free:
            return None
        seconds = self.base_cooldown_seconds * 2 ** min(failures - free, 20)
        return dt.timedelta(seconds=min(seconds, self.max_cooldown_seconds))


def account_subject(account_number: str) -> str:
    return f"account:{account_number.strip()[:40]}"


def client_subject(client_address: str) -> str:
    return f"client:{client_address[:80]}"


class Throttle:
    """Checks and counts failures of one knowledge check for an account number and a client."""

    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy

    async def ensure_allowed(
        self, session: AsyncSession, scope: Scope, account_number: str, client: str, now: dt.datetime
    ) -> None:
        """Raise :class:`TooManyAttempts` while the account or the client cools down."""
        repo = FailureCounterRepository(session)
        until = await repo.blocked_until(scope, [account_subject(account_number), client_subject(client)])
        if until is not None and until > now:
            raise TooManyAttempts(max(1, int((until - now).total_seconds()) + 1))

    async def record_failure(
        self, session: AsyncSession, scope: Scope, account_number: str, client: str, now: dt.datetime
    ) -> None:
        """Count a failure and commit it at once: the request then fails and rolls back, the count stays."""
        repo = FailureCounterRepository(session)
        for subject, free in (
            (account_subject(account_number), self.policy.account_free_failures),
            (client_subject(client), self.policy.client_free_failures),
        ):
            failures = await repo.add_failure(scope, subject, now, now - RESET_AFTER)
            cooldown = self.policy.cooldown(failures, free)
            if cooldown is not None:
                await repo.block(scope, subject, now + cooldown)
        await session.commit()

    async def record_success(self, session: AsyncSession, scope: Scope, account_number: str) -> None:
        """A correct answer forgives the account's earlier failures (the client's count stays)."""
        await FailureCounterRepository(session).clear(scope, account_subject(account_number))
