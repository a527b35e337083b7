"""Shared fixtures: the portal app on a seeded demo database, on SQLite and on PostgreSQL.

The demo is seeded once per backend into a template (a SQLite file; a PostgreSQL template
database); every test gets its own copy, so tests never see each other's writes.
PostgreSQL runs when ``KABINET_TEST_DATABASE_URL`` is set (``.ci/run`` sets it), otherwise those
tests are skipped with that reason.

The suite runs in parallel (pytest-xdist, ``make test``): each worker seeds its own templates, and
every PostgreSQL database a test makes is named after the URL's database and the worker
(``test_gw0_tpl``, ``test_gw0_7``), created and dropped through the server's ``postgres`` database —
so two workers, or a run left behind by a crash, never meet on one name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import pytest
from fastapi import FastAPI

from portal.app import create_app
from portal.kit.clock import Clock
from portal.kit.state import PortalState
from portal.settings import Settings

if TYPE_CHECKING:
    from tests.support.captcha import Answers

#: The tests' "now": 20 November 2026, 12:00 in Moscow; the demo history ends with October 2026.
TEST_NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
TEST_ANCHOR = dt.date(2026, 11, 20)
PG_URL_ENV = "KABINET_TEST_DATABASE_URL"
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BASE_URL = "http://portal.test"

_counter = itertools.count()


def pg_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def worker_id() -> str:
    """This xdist worker's name (``gw0``, ``gw1``, ...), or ``main`` when the suite runs in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pg_database_name(kind: str) -> str:
    """A database name of this worker's own: the test URL's database, the worker, then ``kind``."""
    url = pg_url()
    assert url is not None
    return f"{url.rsplit('/', 1)[1]}_{worker_id()}_{kind}"


async def pg_create_database(name: str, template: str | None = None) -> str:
    """Create (again, if a crashed run left it) the database ``name`` on the test server; its URL."""
    url = pg_url()
    assert url is not None
    create = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
    await _pg_admin(_with_database(url, "postgres"), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", create)
    return _with_database(url, name)


async def pg_drop_database(name: str) -> None:
    url = pg_url()
    assert url is not None
    await _pg_admin(_with_database(url, "postgres"), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _pg_admin(url: str, *statements: str) -> None:
    import asyncpg

    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(plain)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _seed(url: str) -> None:
    from portal.app import build_state
    from portal.demo.seed import seed_demo
    from portal.migrations import upgrade

    state = build_state(Settings(database_url=url, demo=True, secret_key=TEST_SECRET))
    try:
        await upgrade(state.engine)
        async with state.sessionmaker() as session:
            await seed_demo(session, anchor=TEST_ANCHOR)
            await session.commit()
    finally:
        await state.engine.dispose()


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """What a test leaves in ``os.environ`` is taken back. ``kabinet-portal``'s options become ``KABINET_*``
    variables of the process that runs it (for uvicorn's workers), and the tests run it in their xdist
    worker: the next test there would get the last one's database (``monkeypatch.delenv`` of a variable not
    set records nothing to take back)."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    asyncio.run(_seed(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    url = pg_url()
    if url is None:
        pytest.skip(
            f"PostgreSQL tests need {PG_URL_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    name = pg_database_name("tpl")
    asyncio.run(_seed(asyncio.run(pg_create_database(name))))
    yield name
    asyncio.run(pg_drop_database(name))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded demo database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        copy = tmp_path / "portal.sqlite3"
        shutil.copyfile(template, copy)
        yield f"sqlite+aiosqlite:///{copy}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = pg_database_name(str(next(_counter)))
    yield asyncio.run(pg_create_database(name, template=template_name))
    asyncio.run(pg_drop_database(name))


@dataclass
class Portal:
    """A running portal app with its client, clock and outbox, for one test."""

    client: httpx.AsyncClient
    app: FastAPI
    clock: Clock
    settings: Settings
    outbox: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> PortalState:
        state: PortalState = self.app.state.portal
        return state

    def letters(self) -> list[EmailMessage]:
        from portal.mail.mailer import read_outbox

        return read_outbox(self.outbox) if self.outbox.exists() else []

    async def login(self, account_number: str, password: str) -> dict[str, str]:
        """Log in and return the Authorization header of the new session."""
        response = await self.client.post(
            "/api/v1/auth/login", json={"account_number": account_number, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    async def login_as(self, apartment: int | None = None) -> dict[str, str]:
        """Log in the demo resident of ``apartment`` (the happy path's by default); the header."""
        from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number

        return await self.login(account_number(apartment or HAPPY_PATH_APARTMENT), DEMO_PASSWORD)

    async def login_status(self, account_number: str, password: str) -> int:
        """The status code of a login attempt (the session it may open is not kept)."""
        response = await self.client.post(
            "/api/v1/auth/login", json={"account_number": account_number, "password": password}
        )
        return int(response.status_code)

    async def account_id(self, apartment: int) -> int:
        """The database id of the demo account of ``apartment``."""
        from sqlalchemy import select

        from portal.demo.accounts import account_number
        from portal.models import Account

        async with self.state.sessionmaker() as session:
            found = await session.scalar(
                select(Account.id).where(Account.number == account_number(apartment))
            )
        assert found is not None
        return int(found)


class PortalFactory(Protocol):
    """``make_portal``: start a portal with setting overrides (``Settings`` field names)."""

    async def __call__(self, **overrides: Any) -> Portal: ...


@pytest.fixture
async def make_portal(database_url: str, tmp_path: Path) -> AsyncIterator[PortalFactory]:
    """Start a portal on this test's database with optional setting overrides (e.g. a closed window)."""
    started: list[tuple[AbstractAsyncContextManager[object], httpx.AsyncClient]] = []

    async def start(**overrides: Any) -> Portal:
        values: dict[str, Any] = {
            "database_url": database_url,
            "demo": True,
            "secret_key": TEST_SECRET,
            "reading_window_always_open": True,
            "outbox_dir": tmp_path / "outbox",
            "data_dir": tmp_path,
        }
        values.update(overrides)
        settings = Settings(**values)
        clock = Clock()
        clock.set(TEST_NOW)
        app = create_app(settings, clock=clock)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 50000))
        client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        started.append((lifespan, client))
        assert settings.outbox_dir is not None
        return Portal(client=client, app=app, clock=clock, settings=settings, outbox=settings.outbox_dir)

    yield start
    for lifespan, client in reversed(started):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def portal(make_portal: PortalFactory) -> Portal:
    """The demo portal with its reading window open, on a fresh copy of the demo database."""
    return await make_portal()


# --- the terminal app --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def seeded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded portal's data folder, seeded once with the tests' anchor day, then started once.

    Seeding with a fixed day (not the real today) keeps what screens show — and so the snapshots —
    the same on any day the tests run; the embedded portal then finds its data and only migrates.
    """
    from hosting.embedded import EmbeddedPortal

    data_dir = tmp_path_factory.mktemp("embedded-template")
    asyncio.run(_seed(f"sqlite+aiosqlite:///{data_dir / 'portal.sqlite3'}"))

    async def start_once() -> None:
        async with EmbeddedPortal(data_dir=data_dir) as embedded:
            assert embedded.running

    asyncio.run(start_once())
    return data_dir


@pytest.fixture
def app_data_dir(seeded_data_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the seeded embedded portal for one app test."""
    data_dir = tmp_path / "embedded"
    shutil.copytree(seeded_data_dir, data_dir)
    return data_dir


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Every captcha answer the portal draws in this test (see ``tests/support/captcha.py``)."""
    from tests.support.captcha import watch_answers

    return watch_answers(monkeypatch)
