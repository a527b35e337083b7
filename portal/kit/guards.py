"""Guards in front of the routes: the size of a request body, and NUL characters.

:class:`BodyLimitMiddleware` refuses a body over ``max_body_bytes`` with 413 before reading it when
``Content-Length`` says so, and counts the bytes of a streamed (chunked) body as they arrive: once over
the limit it answers 413 itself, tells the application the client went away and drops whatever the
application still sends. Nothing larger than the limit is ever held in memory.

:func:`refuse_nul` refuses a NUL character (U+0000) in a path parameter, a query parameter or a
string (or key) of a JSON body with 422 naming the field: PostgreSQL cannot store it (a 500 otherwise)
and no honest value contains it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.kit.errors import NUL_ERROR_TYPE, BodyTooLarge, ErrorBody

_JSON_HEADERS = [(b"content-type", b"application/json")]
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _json_response_messages(status: int, body: ErrorBody, extra: list[tuple[bytes, bytes]]) -> list[Message]:
    content = body.model_dump_json(exclude_none=True).encode()
    headers = [*_JSON_HEADERS, (b"content-length", str(len(content)).encode()), *extra]
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": content},
    ]


def _too_large(limit: int) -> list[Message]:
    error = BodyTooLarge(kib=max(1, limit // 1024))
    body = ErrorBody(code=error.code, message=error.message)
    return _json_response_messages(413, body, [(b"connection", b"close")])


class BodyLimitMiddleware:
    """413 for a request body over ``max_bytes``, decided before the body (or its excess) is read."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: tuple[tuple[str, int], ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        #: (path prefix, limit) of the routes that take larger bodies (the operator's batch import).
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS:
            # No route of these reads a body; the server buffers no more of one than its flow control allows.
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        max_bytes = next((limit for prefix, limit in self.larger if path.startswith(prefix)), self.max_bytes)
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
            for message in _too_large(max_bytes):
                await send(message)
            return

        received = 0
        refused = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    refused = True
                    if not response_started:
                        for answer in _too_large(max_bytes):
                            await send(answer)
                    # The application sees a client that went away; the rest of the body is never read.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the 413 has been answered; the application's own answer goes nowhere
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # Reading a body cut short may fail in the application (a disconnect); the 413 stands.


def _nul_field(value: Any) -> list[str] | None:
    """The location of the first string with a NUL in parsed JSON (keys count too), or None."""
    if isinstance(value, str):
        return [] if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return [key.replace("\x00", "") or "body"]
            found = _nul_field(item)
            if found is not None:
                return [key, *found]
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_field(item)
            if found is not None:
                return [str(index), *found]
    return None


def _refuse(where: str, location: list[str], value: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": NUL_ERROR_TYPE, "loc": (where, *location), "msg": "NUL character", "input": value}]
    )


async def refuse_nul(request: Request) -> None:
    """An application-wide dependency: 422 naming the field for a NUL character anywhere in the request.

    It runs after routing (so a path parameter has its name) and before the route's own dependencies
    touch the database. A JSON body has been read by then (FastAPI caches it); it is parsed again only
    when its text holds the escape ``\\u0000``.
    """
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise _refuse("path", [name], value)
    if "%00" in request.url.query:
        for name, value in request.query_params.multi_items():
            if "\x00" in name or "\x00" in value:
                raise _refuse("query", [name.replace("\x00", "") or "query"], value)
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    # Whatever the Content-Type says: FastAPI parses a body without one as JSON too.
    body = await request.body()
    if b"\\u0000" not in body:
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # the route answers malformed JSON itself
    location = _nul_field(parsed)
    if location is not None:
        raise _refuse("body", location, "")
