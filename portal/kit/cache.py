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
import sys
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("kabinet.portal.cache")

CHANNEL = "kabinet_cache"
_PENDING = "cache_invalidations"


@dataclass(frozen=True, slots=True)
class CachedSession:
    """A session token known to be valid at ``last_used_at`` (as stored)."""

    principal: Any  # portal.auth.service.Principal (kept untyped here to avoid an import cycle)
    last_used_at: dt.datetime


#: Default bound of one process's cache (``KABINET_CACHE_MAX_BYTES``).
DEFAULT_MAX_BYTES = 32 * 1024 * 1024

#: What one cached session costs besides its key, counted rather than measured on every insert: the
#: CachedSession, its Principal (ints, the account number, an enum, a datetime), its datetime, the
#: ordered dict's slot and link. ``tests/test_cache.py`` checks it against tracemalloc.
SESSION_BYTES = 640
#: What one cached view costs besides its body and its path: the keys' tuples, the billing date,
#: the entry's tuple and ints, the ordered dict's slot and link (also checked by the test).
VIEW_OVERHEAD_BYTES = 400
#: One account's epoch (a dict slot and two ints).
EPOCH_BYTES = 120


def _str_bytes(value: str) -> int:
    return sys.getsizeof(value)


class ResidentCache:
    """Sessions by token HMAC and views by (account, key), least-recently-used within ``max_bytes``.

    Every entry is counted at its body's size plus a fixed overhead (the constants above; the bytes
    of a view's JSON dominate: a 36-month history is tens of KiB). Sessions and views share the
    bound: when it is exceeded the entry used longest ago goes, whichever kind it is. Accounts'
    epochs are counted too; when they alone would fill a quarter of the bound they are all dropped
    at once with every view (see :meth:`clear`), which keeps the rule "a view computed while an
    invalidation arrived is never served".
    """

    def __init__(self, *, enabled: bool, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.enabled = enabled
        self.max_bytes = max_bytes
        # Values carry their size and the tick of their last use (to pick the older of two heads).
        self._sessions: OrderedDict[str, tuple[CachedSession, int, int]] = OrderedDict()
        self._views: OrderedDict[tuple[int, Hashable], tuple[int, bytes, int, int]] = OrderedDict()
        self._epochs: dict[int, int] = {}
        #: Epoch of every account absent from ``_epochs``; raised by :meth:`clear` (epochs only grow).
        self._floor = 0
        self._generation = 0
        self._tick = 0
        self.bytes = 0

    def _next_tick(self) -> int:
        self._tick += 1
        return self._tick

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and (self._sessions or self._views):
            oldest_session = next(iter(self._sessions.values()), None)
            oldest_view = next(iter(self._views.values()), None)
            if oldest_view is None or (oldest_session is not None and oldest_session[2] < oldest_view[3]):
                _key, (_s, size, _t) = self._sessions.popitem(last=False)
            else:
                _vkey, (_e, _b, size, _t) = self._views.popitem(last=False)
            self.bytes -= size
        if len(self._epochs) * EPOCH_BYTES > self.max_bytes // 4:
            self.clear()

    # --- sessions -----------------------------------------------------------------------------------

    def session(self, token_hmac: str) -> CachedSession | None:
        if not self.enabled:
            return None
        found = self._sessions.get(token_hmac)
        if found is None:
            return None
        self._sessions[token_hmac] = (found[0], found[1], self._next_tick())
        self._sessions.move_to_end(token_hmac)
        return found[0]

    def remember_session(self, token_hmac: str, cached: CachedSession) -> None:
        if not self.enabled:
            return
        self._drop_session(token_hmac)
        size = SESSION_BYTES + _str_bytes(token_hmac)
        self._sessions[token_hmac] = (cached, size, self._next_tick())
        self.bytes += size
        self._evict()

    def _drop_session(self, token_hmac: str) -> None:
        found = self._sessions.pop(token_hmac, None)
        if found is not None:
            self.bytes -= found[1]

    # --- views --------------------------------------------------------------------------------------

    def epoch(self, account_id: int) -> int:
        return self._epochs.get(account_id, self._floor)

    def view(self, account_id: int, key: Hashable) -> bytes | None:
        if not self.enabled:
            return None
        found = self._views.get((account_id, key))
        if found is None or found[0] != self.epoch(account_id):
            return None
        self._views[(account_id, key)] = (found[0], found[1], found[2], self._next_tick())
        self._views.move_to_end((account_id, key))
        return found[1]

    def remember_view(self, account_id: int, key: Hashable, epoch: int, body: bytes) -> None:
        """Keep a view computed under ``epoch`` (read before computing); a stale one is dropped."""
        if not self.enabled or epoch != self.epoch(account_id):
            return
        old = self._views.pop((account_id, key), None)
        if old is not None:
            self.bytes -= old[2]
        size = VIEW_OVERHEAD_BYTES + sys.getsizeof(body) + _key_bytes(key)
        if size > self.max_bytes:
            return  # larger than the whole cache: not kept
        self._views[(account_id, key)] = (epoch, body, size, self._next_tick())
        self.bytes += size
        self._evict()

    def __len__(self) -> int:
        return len(self._sessions) + len(self._views)

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
            # A fresh number above every epoch handed out: views computed before it never match.
            self._generation += 1
            self._epochs[account_id] = self._floor + self._generation
            self._evict()
        elif kind == "sessions" and value.isdigit():
            account_id = int(value)
            for token_hmac in [
                h for h, s in self._sessions.items() if s[0].principal.account_id == account_id
            ]:
                self._drop_session(token_hmac)
        elif kind == "user" and value.isdigit():
            user_id = int(value)
            for token_hmac in [h for h, s in self._sessions.items() if s[0].principal.user_id == user_id]:
                self._drop_session(token_hmac)
        elif kind == "session":
            self._drop_session(value)
        elif kind == "session-id" and value.isdigit():
            token_id = int(value)
            for token_hmac in [h for h, s in self._sessions.items() if s[0].principal.token_id == token_id]:
                self._drop_session(token_hmac)
        else:
            log.warning("unknown cache invalidation %r", message[:40])

    def clear(self) -> None:
        self._sessions.clear()
        self._views.clear()
        self.bytes = 0
        # Epochs only grow: every account's epoch moves above any handed out so far, so a view being
        # computed right now cannot match a restarted count.
        self._floor += self._generation + 1
        self._generation = 0
        self._epochs.clear()


def _key_bytes(key: Hashable) -> int:
    if isinstance(key, tuple):
        return sum(sys.getsizeof(part) for part in key if isinstance(part, str))
    return sys.getsizeof(key) if isinstance(key, str) else 0


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
