"""Dependencies shared by every domain: the portal state, the request's database session, the client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.db import session_scope
from portal.kit.state import PortalState


async def get_state(request: Request) -> PortalState:
    state: PortalState = request.app.state.portal
    return state


State = Annotated[PortalState, Depends(get_state)]


async def db_session(state: State) -> AsyncIterator[AsyncSession]:
    async for session in session_scope(state.sessionmaker, state.cache):
        yield session


async def read_session(state: State) -> AsyncIterator[AsyncSession]:
    """The session of a read-only view: no transaction around its statements on PostgreSQL."""
    async for session in session_scope(state.read_sessionmaker or state.sessionmaker, state.cache):
        yield session


#: ``scope="function"``: the session commits when the route returns, before the answer is sent, so a
#: resident never gets a 200 for something a failed commit then lost (FastAPI's default "request"
#: scope would close it only after the response, background tasks included).
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]
#: For routes that only read (the cached views) and the authentication of their resident.
ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]


async def client_address(request: Request, state: State) -> str:
    """The client's address for per-client throttling (X-Forwarded-For only behind a trusted proxy)."""
    if state.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
