"""What a running portal holds: settings, database, clock, hashing, tokens, mail, throttling."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from portal.kit.cache import ResidentCache
from portal.kit.clock import Clock
from portal.mail import Mailer
from portal.security.passwords import PasswordHashing
from portal.security.tokens import TokenDigest
from portal.settings import Settings
from portal.throttling.service import Throttle


@dataclass
class PortalState:
    """Everything the request handlers share; built by the lifespan of :func:`portal.app.create_app`."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    hashing: PasswordHashing
    tokens: TokenDigest
    mailer: Mailer
    throttle: Throttle
    cache: ResidentCache
    #: Sessions of read-only views (:func:`portal.kit.db.create_read_sessionmaker`); None: ``sessionmaker``.
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
