"""Typed dependencies: the resident (or readings-without-login token) behind a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portal.auth.service import Principal, authenticate
from portal.kit.deps import DbSession, ReadSession, State
from portal.models import TokenKind

bearer = HTTPBearer(auto_error=False, description="The token from login (or from the readings check).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_resident(state: State, session: DbSession, credentials: Credentials) -> Principal:
    """A logged-in resident's session."""
    token = credentials.credentials if credentials else None
    return await authenticate(state, session, token, frozenset({TokenKind.SESSION}))


async def current_reader(state: State, session: ReadSession, credentials: Credentials) -> Principal:
    """A logged-in resident's session, for a read-only view (on the view's own session)."""
    token = credentials.credentials if credentials else None
    return await authenticate(state, session, token, frozenset({TokenKind.SESSION}))


async def current_readings_access(state: State, session: DbSession, credentials: Credentials) -> Principal:
    """The short-lived token of readings without login (a logged-in session is accepted too)."""
    token = credentials.credentials if credentials else None
    return await authenticate(state, session, token, frozenset({TokenKind.READINGS, TokenKind.SESSION}))


CurrentResident = Annotated[Principal, Depends(current_resident)]
CurrentReader = Annotated[Principal, Depends(current_reader)]
ReadingsAccess = Annotated[Principal, Depends(current_readings_access)]
