"""The demo portal running inside the terminal app: no server, no network, a SQLite file of its own.

:class:`EmbeddedPortal` starts the real portal application (:func:`portal.app.create_app` with
:func:`portal.settings.demo_settings`) in this process and hands out an ``httpx`` transport that
calls it directly; :class:`tui.client.PortalClient` takes that transport instead of a URL::

    async with EmbeddedPortal() as portal:
        client = PortalClient(transport=portal.transport)
        number, password = portal.demo_account()
        await client.login(number, password)

Start-up cost, and where it is paid: importing the portal (FastAPI, SQLAlchemy, Alembic; ~0.9 s)
and, on the very first run, migrating and seeding the demo database (~1 s of password hashing and
inserts). Both run in a worker **thread** (:func:`asyncio.to_thread`) with an event loop and a
database engine of their own, so the app's event loop keeps drawing. Afterwards the application's
lifespan is entered on the app's loop with its own preparation turned off (already done), which only
opens the engine. The portal's SQLite statements then run inline on the event loop
(:mod:`portal.sqlite_inline`): each takes microseconds. Even so, the app should enter this context in
a worker after the first paint, e.g. ``@work(exclusive=True, group="portal")``.

This module imports neither Textual nor, until :meth:`EmbeddedPortal.__aenter__`, the portal.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx
import platformdirs

if TYPE_CHECKING:
    from fastapi import FastAPI

    from portal.settings import Settings

#: The client address the embedded portal sees (its throttle counts per client address).
EMBEDDED_CLIENT_ADDRESS = ("127.0.0.1", 0)


def default_data_dir() -> Path:
    """Where the embedded portal keeps its database and outbox: ``<user data>/kabinet/embedded``."""
    return platformdirs.user_data_path("kabinet") / "embedded"


def _prepare(data_dir: Path) -> Settings:
    """Import the portal, then migrate and (first run only) seed the demo database; in a worker thread.

    A fresh event loop and engine of its own: the engine's single SQLite connection must not be
    shared with the app's loop. Returns the settings the app is then created with.
    """
    from portal.app import prepare_database
    from portal.settings import demo_settings

    settings = demo_settings(data_dir)
    asyncio.run(prepare_database(settings))
    return settings


class EmbeddedPortal:
    """The demo portal in-process, as an async context manager that yields itself.

    After entering: :attr:`transport` for :class:`~tui.client.PortalClient`, :attr:`outbox_dir` where
    the portal's "sent" letters land (registration passwords, recovery codes), :attr:`data_dir`.
    Leaving it closes the database. Not re-entrant; enter once.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir: Path = data_dir if data_dir is not None else default_data_dir()
        """The folder of the SQLite database (``portal.sqlite3``) and the outbox."""
        self._app: FastAPI | None = None
        self._lifespan: AbstractAsyncContextManager[object] | None = None
        self._transport: httpx.ASGITransport | None = None
        self._outbox_dir: Path | None = None

    async def __aenter__(self) -> Self:
        if self._lifespan is not None:
            raise RuntimeError("EmbeddedPortal is already running")
        settings = await asyncio.to_thread(_prepare, self.data_dir)
        # Already imported by the thread: these imports only look up sys.modules.
        from portal.app import create_app

        app = create_app(settings, prepare_database=False)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        self._app = app
        self._lifespan = lifespan
        self._transport = httpx.ASGITransport(app=app, client=EMBEDDED_CLIENT_ADDRESS)
        self._outbox_dir = settings.outbox_dir or self.data_dir / "outbox"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        transport, self._transport = self._transport, None
        self._app = None
        if transport is not None:
            await transport.aclose()
        if lifespan is not None:
            await lifespan.__aexit__(exc_type, exc, traceback)

    @property
    def running(self) -> bool:
        """Entered and not yet left."""
        return self._lifespan is not None

    @property
    def transport(self) -> httpx.ASGITransport:
        """The transport that calls the portal in-process (``PortalClient(transport=...)``)."""
        if self._transport is None:
            raise RuntimeError("EmbeddedPortal is not running: use `async with EmbeddedPortal() as portal`")
        return self._transport

    @property
    def outbox_dir(self) -> Path:
        """The maildir of the letters the demo portal "sends" (read by ``portal.mail.mailer.read_outbox``)."""
        if self._outbox_dir is None:
            raise RuntimeError("EmbeddedPortal is not running: use `async with EmbeddedPortal() as portal`")
        return self._outbox_dir

    @staticmethod
    def demo_account() -> tuple[str, str]:
        """``(account_number, password)`` of the first demo account: a registered, typical resident."""
        from portal.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

        return DEMO_ACCOUNTS[0].account_number, DEMO_PASSWORD


__all__ = ["EMBEDDED_CLIENT_ADDRESS", "EmbeddedPortal", "default_data_dir"]
