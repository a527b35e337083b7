"""Per-process caches of validated sessions and of residents' read-only views, kept coherent.

Why: a resident's summary or 36-month history is many aggregate queries, and every request first
proves its session; with a database round trip costing more than FastAPI's whole request handling
(``bench/portal.py``), reads served from memory are what let one worker keep p99 under 50 ms.

Coherence: every write that changes what a view shows records an *invalidation* in its database
session (:func:`invalidate_after_commit`). After the commit, this process applies it; on PostgreSQL
the same invalidation is also sent with ``pg_notify`` inside the transaction, so it reaches every
other worker exactly when the change becomes visible. Without a working listener on PostgreSQL
the caches are switched off (nothing is served that could be stale). Views carry their account's
epoch: a view computed while an invalidation arrived is never served.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("kabinet.portal.cache")

CHANNEL = "kabinet_cache"
_PENDING = "cache_invalidations"


@dataclass(frozen=True)
class CachedSession:
    """A session token known to be valid at ``last_used_at`` (as stored)."""

    principal: Any  # portal.auth.service.Principal (kept untyped here to avoid an import cycle)
    last_used_at: dt.datetime


class ResidentCache:
    """Sessions by token HMAC and views by (account, key), each bounded and least-recently-used."""

    def __init__(self, *, enabled: bool, max_sessions: int = 20_000, max_views: int = 20_000) -> None:
        self.enabled = enabled
        self._sessions: OrderedDict[str, CachedSession] = OrderedDict()
        self._views: OrderedDict[tuple[int, Hashable], tuple[int, bytes]] = OrderedDict()
        self._epochs: dict[int, int] = {}
        #: How many times everything was dropped (part of every account's epoch).
        self._cleared = 0
        self._max_sessions = max_sessions
        self._max_views = max_views

    # --- sessions -----------------------------------------------------------------------------------

    def session(self, token_hmac: str) -> CachedSession | None:
        if not self.enabled:
            return None
        found = self._sessions.get(token_hmac)
        if found is not None:
            self._sessions.move_to_end(token_hmac)
        return found

    def remember_session(self, token_hmac: str, cached: CachedSession) -> None:
        if not self.enabled:
            return
        self._sessions[token_hmac] = cached
        self._sessions.move_to_end(token_hmac)
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)

    # --- views --------------------------------------------------------------------------------------

    def epoch(self, account_id: int) -> int:
        # ``_cleared`` also moves accounts never seen before: a view computed across a clear is dropped.
        return self._epochs.get(account_id, 0) + self._cleared

    def view(self, account_id: int, key: Hashable) -> bytes | None:
        if not self.enabled:
            return None
        found = self._views.get((account_id, key))
        if found is None or found[0] != self.epoch(account_id):
            return None
        self._views.move_to_end((account_id, key))
        return found[1]

    def remember_view(self, account_id: int, key: Hashable, epoch: int, body: bytes) -> None:
        """Keep a view computed under ``epoch`` (read before computing); a stale one is dropped."""
        if not self.enabled or epoch != self.epoch(account_id):
            return
        self._views[(account_id, key)] = (epoch, body)
        self._views.move_to_end((account_id, key))
        while len(self._views) > self._max_views:
            self._views.popitem(last=False)

    # --- invalidation -------------------------------------------------------------------------------

    def apply(self, message: str) -> None:
        """Apply one invalidation.

        ``account:<id>`` (the account's data changed: its views go), ``sessions:<account id>`` (all
        its sessions ended or it was detached from its login), ``user:<user id>`` (all sessions of a
        login ended), ``session:<token hmac>`` or ``session-id:<token row id>`` (one ended),
        ``views:all`` (the billing center's import changed any number of accounts: every view goes).
        """
        kind, _, value = message.partition(":")
        if message == "views:all":
            self.clear()
        elif kind == "account" and value.isdigit():
            account_id = int(value)
            self._epochs[account_id] = self.epoch(account_id) + 1
        elif kind == "sessions" and value.isdigit():
            account_id = int(value)
            for token_hmac in [h for h, s in self._sessions.items() if s.principal.account_id == account_id]:
                del self._sessions[token_hmac]
        elif kind == "user" and value.isdigit():
            user_id = int(value)
            for token_hmac in [h for h, s in self._sessions.items() if s.principal.user_id == user_id]:
                del self._sessions[token_hmac]
        elif kind == "session":
            self._sessions.pop(value, None)
        elif kind == "session-id" and value.isdigit():
            token_id = int(value)
            for token_hmac in [h for h, s in self._sessions.items() if s.principal.token_id == token_id]:
                del self._sessions[token_hmac]
        else:
            log.warning("unknown cache invalidation %r", message[:40])

    def clear(self) -> None:
        self._sessions.clear()
        self._views.clear()
        # Epochs only grow: a view being computed right now must not match a restarted count.
        self._cleared += 1


async def invalidate_after_commit(session: AsyncSession, *messages: str) -> None:
    """Record invalidations for when ``session`` commits (and send them to other workers with it)."""
    pending: list[str] = session.info.setdefault(_PENDING, [])
    pending.extend(messages)
    if session.get_bind().dialect.name == "postgresql":
        for message in messages:
            # Delivered by PostgreSQL at commit, to every listening worker, or never on rollback.
            await session.execute(
                text("SELECT pg_notify(:channel, :message)"), {"channel": CHANNEL, "message": message}
            )


def apply_committed(session: AsyncSession, cache: ResidentCache) -> None:
    """After a commit: apply this process's own invalidations at once (not waiting for its echo)."""
    for message in session.info.pop(_PENDING, []):
        cache.apply(message)


def discard_pending(session: AsyncSession) -> None:
    session.info.pop(_PENDING, None)


class InvalidationListener:
    """LISTENs on PostgreSQL for other workers' invalidations; the cache is off while it cannot."""

    def __init__(self, url: str, cache: ResidentCache) -> None:
        self._url = url.replace("postgresql+asyncpg://", "postgresql://")
        self._cache = cache
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Start listening; waits up to 10 s for the first connection (the cache stays off until then)."""
        self._cache.enabled = False
        self._task = asyncio.create_task(self._run(), name="kabinet-cache-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await self._ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        import asyncpg

        delay = 0.5
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self._url)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(
                    CHANNEL, lambda _c, _pid, _ch, payload: self._cache.apply(payload)
                )
                # Anything may have changed while nobody listened: start from nothing.
                self._cache.clear()
                self._cache.enabled = True
                self._ready.set()
                delay = 0.5
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "cache listener unavailable (%s); caching is off until it reconnects", type(exc).__name__
                )
            finally:
                self._cache.enabled = False
                self._cache.clear()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
