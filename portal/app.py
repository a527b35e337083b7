"""The ASGI application factory and its lifespan (which an embedder such as the terminal app enters)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import func, select

from portal import __version__
from portal.api import API_PREFIX, api_router, direct_views
from portal.kit.cache import InvalidationListener, ResidentCache
from portal.kit.clock import Clock
from portal.kit.db import create_engine, create_read_sessionmaker, create_sessionmaker
from portal.kit.errors import document_error_codes, install_error_handlers
from portal.kit.guards import BodyLimitMiddleware, refuse_nul
from portal.kit.state import PortalState
from portal.kit.storage import secure_storage, use_sandbox_secrets
from portal.kit.views import CachedViewsMiddleware
from portal.mail import Mailer
from portal.security.passwords import PasswordHashing
from portal.security.tokens import TokenDigest
from portal.settings import Settings
from portal.throttling.service import Throttle, ThrottlePolicy

log = logging.getLogger("kabinet.portal")


async def _prepare_database(state: PortalState) -> None:
    """Migrate, and in demo mode seed the demo on first start."""
    from portal.migrations import upgrade

    await upgrade(state.engine)
    if not state.settings.demo:
        return
    from portal.demo.seed import seed_demo
    from portal.models import Account

    async with state.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Account))
        if not count:
            log.info("seeding the demo data")
            await seed_demo(session, anchor=state.clock.today())
            await session.commit()


async def prepare_database(settings: Settings) -> None:
    """Migrate, and in demo mode seed the demo on first start, on an engine of its own, closed after.

    For an embedder that prepares the database apart from serving (the terminal app does it in a thread
    with an event loop of its own) and then creates the app with ``create_app(..., prepare_database=False)``.
    """
    state = build_state(settings)
    try:
        await _prepare_database(state)
    finally:
        await state.engine.dispose()


def build_state(settings: Settings, clock: Clock | None = None) -> PortalState:
    secure_storage(settings)  # folders 0700, files 0600, whatever the umask; mended on every start
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    return PortalState(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        read_sessionmaker=create_read_sessionmaker(engine),
        clock=clock or Clock(),
        hashing=PasswordHashing(settings.argon2_time_cost, settings.argon2_memory_cost),
        tokens=TokenDigest(settings.secret_key),
        mailer=Mailer(settings),
        # SQLite serves one process, so its own invalidations are all there is; PostgreSQL turns the
        # cache on once the invalidation listener is connected (see the lifespan).
        cache=ResidentCache(
            enabled=settings.cache_enabled and settings.is_sqlite, max_bytes=settings.cache_max_bytes
        ),
        throttle=Throttle(
            ThrottlePolicy(
                account_free_failures=settings.throttle_free_failures,
                client_free_failures=settings.throttle_client_free_failures,
                base_cooldown_seconds=settings.throttle_base_cooldown_seconds,
                max_cooldown_seconds=settings.throttle_max_cooldown_seconds,
                account_ceiling=settings.throttle_account_ceiling,
            )
        ),
    )


def _document_edge_errors(app: FastAPI) -> None:
    """Every operation's document also names the answers of the edge: 503 (database unavailable, with
    ``Retry-After``), and for those with a body 400 (not JSON) and 413 (over ``max_body_bytes``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                unavailable = responses.setdefault(
                    "503", {"description": "The database is unavailable or busy", "content": error}
                )
                unavailable.setdefault("headers", {}).setdefault(
                    "Retry-After", {"description": "Seconds to wait", "schema": {"type": "string"}}
                )
                if "requestBody" in operation:
                    responses.setdefault("400", {"description": "The body is not JSON", "content": error})
                    responses.setdefault("413", {"description": "The body is too large", "content": error})
        document_error_codes(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings, *, clock: Clock | None = None, prepare_database: bool = True) -> FastAPI:
    """The portal application. Nothing happens at import or here: the lifespan opens the database.

    ``prepare_database`` migrates (and in demo mode seeds) at startup; the CLI's ``serve`` turns it
    off for PostgreSQL deployments that run ``kabinet-portal migrate`` as a separate step.
    """
    settings.check_production_safety()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_sandbox_secrets(settings)
        state = build_state(settings, clock)
        app.state.portal = state
        listener: InvalidationListener | None = None
        try:
            if prepare_database:
                await _prepare_database(state)
            if settings.cache_enabled and not settings.is_sqlite:
                listener = InvalidationListener(settings.database_url, state.cache)
                await listener.start()
            yield
        finally:
            if listener is not None:
                await listener.stop()
            await state.engine.dispose()

    app = FastAPI(
        title="Kabinet portal API",
        version=__version__,
        description="Личный кабинет расчётного центра ЖКХ: API для жильцов. Ошибки: `code` и `message`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        # ``/receipts/`` is no path of the API (404), not a redirect to ``/receipts``.
        redirect_slashes=False,
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul)],
    )
    install_error_handlers(app)
    _document_edge_errors(app)
    app.include_router(api_router)
    if settings.payments_sandbox:
        # The payment services' sandbox twins (demo / embedded portal), outside the API document.
        from portal.payments.sandbox import router as sandbox_router

        app.include_router(sandbox_router)
    app.add_middleware(CachedViewsMiddleware, views=direct_views)
    # Added last, runs first: the body limit before anything reads a body.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger=(("/api/v1/operator/imports/", settings.import_max_body_bytes),),
    )
    return app
