"""Residents' read-only views, answered from the cache of :mod:`portal.kit.cache` when it has them.

A view is stored under its canonical URL (path and sorted query) and the billing day, for the
account of the session that asked. :class:`CachedViewsMiddleware` answers a repeat of the same URL
for the same account before routing and dependency resolution, which cost more than the answer
itself (``bench/portal.py``); anything it does not hold goes to the route as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.auth.service import Principal, principal_from_memory
from portal.kit.state import PortalState
from portal.models import TokenKind

_SESSION_ONLY = frozenset({TokenKind.SESSION})
_JSON_HEADERS = [(b"content-type", b"application/json")]


def view_key(path: str, query_string: bytes) -> str:
    """``/api/v1/history/payments?date_from=…&date_to=…`` with the query's keys sorted."""
    query = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return f"{path}?{urlencode(query)}" if query else path


async def cached_view(
    state: PortalState, request: Request, principal: Principal, compute: Callable[[], Awaitable[BaseModel]]
) -> Response:
    """The JSON of ``compute()`` for the principal's account, reused until the account's data changes.

    Views also depend on the date (reading windows, warnings, payments since the receipt): the key
    holds the billing day, so a view never outlives the day it was made on.
    """
    cache = state.cache
    key = (view_key(request.url.path, request.scope.get("query_string", b"")), state.clock.today())
    body = cache.view(principal.account_id, key)
    if body is None:
        epoch = cache.epoch(principal.account_id)  # read before computing: a change meanwhile voids it
        model = await compute()
        body = model.__pydantic_serializer__.to_json(model)
        cache.remember_view(principal.account_id, key, epoch, body)
    return Response(content=body, media_type="application/json")


class CachedViewsMiddleware:
    """Answers a GET for a cached view of a session checked within the last minute, else routes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            body = self._cached(scope)
            if body is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _cached(scope: Scope) -> bytes | None:
        state: PortalState | None = getattr(scope["app"].state, "portal", None)
        if state is None or not state.cache.enabled:
            return None
        authorization = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        if authorization is None or authorization[:7].lower() != b"bearer ":
            return None
        token = authorization[7:].strip().decode("latin-1")
        now = state.clock.now()
        principal = principal_from_memory(state, state.tokens.digest(token), _SESSION_ONLY, now)
        if principal is None:
            return None
        key = (view_key(scope["path"], scope.get("query_string", b"")), state.clock.today())
        return state.cache.view(principal.account_id, key)
