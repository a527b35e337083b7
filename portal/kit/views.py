"""Residents' read-only views, answered from the cache of :mod:`portal.kit.cache` when it has them.

A view is stored under its canonical URL (path and sorted query) and the billing day, for the
account of the session that asked. :class:`CachedViewsMiddleware` answers a repeat of the same URL
for the same account before routing and dependency resolution, which cost more than the answer
itself (``bench/portal.py``); anything it does not hold goes to the route as usual.

A resident's *first* look at a view costs routing and dependency resolution too, and at a region's
scale most reads are first reads (``bench/cold_reads.py``). So the middleware also computes the
views it knows (:class:`DirectView`, declared beside their routes) itself: the same session check
(:func:`portal.auth.service.checked_principal`), the same computation and the same cache, without
routing or dependency injection. Whatever it is not sure to answer exactly as the route would (no
or another token, an unknown, repeated or malformed query parameter, a range the rules refuse) goes
to the route, which answers it (and its errors) as before; an error while computing is rendered by
the application's own exception handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.auth.service import Principal, checked_principal, principal_from_memory
from portal.kit.answers import PlainAnswer, answer_json
from portal.kit.db import session_scope
from portal.kit.state import PortalState
from portal.models import TokenKind

_SESSION_ONLY = frozenset({TokenKind.SESSION})
_JSON_HEADERS = [(b"content-type", b"application/json")]

#: A view's computation: the portal, the request's read-only session, the resident, the arguments.
Compute = Callable[[PortalState, AsyncSession, Principal, dict[str, Any]], Awaitable[BaseModel | PlainAnswer]]


@dataclass(frozen=True)
class DirectView:
    """A view the middleware may compute itself, for a GET with a resident's session token.

    ``arguments`` turns the query's parameters (each given once) into the computation's arguments
    exactly as the route's parameters would, or answers None for anything else (the route answers).
    """

    compute: Compute
    arguments: Callable[[Mapping[str, str]], dict[str, Any] | None]


def no_arguments(query: Mapping[str, str]) -> dict[str, Any] | None:
    """The arguments of a view without query parameters: none (any parameter goes to the route)."""
    return {} if not query else None


def view_key(path: str, query_string: bytes) -> str:
    """``/api/v1/history/payments?date_from=…&date_to=…`` with the query's keys sorted."""
    query = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return f"{path}?{urlencode(query)}" if query else path


async def _view_body(
    state: PortalState,
    path: str,
    query_string: bytes,
    principal: Principal,
    compute: Callable[[], Awaitable[BaseModel | PlainAnswer]],
) -> bytes:
    cache = state.cache
    key = (view_key(path, query_string), state.clock.today())
    body = cache.view(principal.account_id, key)
    if body is None:
        epoch = cache.epoch(principal.account_id)  # read before computing: a change meanwhile voids it
        body = answer_json(await compute())
        cache.remember_view(principal.account_id, key, epoch, body)
    return body


async def cached_view(
    state: PortalState,
    request: Request,
    principal: Principal,
    compute: Callable[[], Awaitable[BaseModel | PlainAnswer]],
) -> Response:
    """The JSON of ``compute()`` for the principal's account, reused until the account's data changes.

    Views also depend on the date (reading windows, warnings, payments since the receipt): the key
    holds the billing day, so a view never outlives the day it was made on.
    """
    body = await _view_body(
        state, request.url.path, request.scope.get("query_string", b""), principal, compute
    )
    return Response(content=body, media_type="application/json")


def _query(query_string: bytes) -> dict[str, str] | None:
    """The query's parameters, or None when one is given twice (the route refuses that)."""
    query: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in query:
            return None
        query[name] = value
    return query


_read_scope = asynccontextmanager(session_scope)


class CachedViewsMiddleware:
    """Answers a GET for a cached view of a session checked within the last minute, computes a
    :class:`DirectView` of a valid session itself, and routes anything else."""

    def __init__(self, app: ASGIApp, views: Mapping[str, DirectView] | None = None) -> None:
        self.app = app
        #: Direct views by their full path (``/api/v1/account``).
        self.views = dict(views or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answered = await self._answer(scope, receive, send)
            if answered:
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> bool:
        state: PortalState | None = getattr(scope["app"].state, "portal", None)
        if state is None:
            return False
        view = self.views.get(scope["path"])
        if view is None and not state.cache.enabled:
            return False
        authorization = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        if authorization is None or authorization[:7].lower() != b"bearer ":
            return False
        token = authorization[7:].strip().decode("latin-1")
        if not token:
            return False
        token_hmac = state.tokens.digest(token)
        query_string: bytes = scope.get("query_string", b"")
        principal = principal_from_memory(state, token_hmac, _SESSION_ONLY, state.clock.now())
        if principal is not None:
            body = state.cache.view(
                principal.account_id, (view_key(scope["path"], query_string), state.clock.today())
            )
            if body is not None:
                await _send_json(send, body)
                return True
        if view is None:
            return False
        query = _query(query_string)
        arguments = view.arguments(query) if query is not None else None
        if arguments is None:
            return False
        try:
            async with _read_scope(state.read_sessionmaker or state.sessionmaker, state.cache) as session:
                principal = await checked_principal(state, session, token_hmac, _SESSION_ONLY)
                if principal is None:
                    return False  # the route refuses it, saying why
                resident = principal
                body = await _view_body(
                    state,
                    scope["path"],
                    query_string,
                    resident,
                    lambda: view.compute(state, session, resident, arguments),
                )
        except Exception as exc:
            handler = _handler(scope, exc)
            if handler is None:
                raise  # Starlette's ServerErrorMiddleware answers it, as for a route
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return True
        await _send_json(send, body)
        return True


def _handler(scope: Scope, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
    """The application's handler of ``exc`` as its ExceptionMiddleware would pick it (not the catch-all,
    which belongs to ServerErrorMiddleware)."""
    handlers: dict[Any, Any] = scope["app"].exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            handler: Callable[[Request, Exception], Awaitable[Response]] = handlers[cls]
            return handler
    return None


async def _send_json(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
