"""Rules of idempotency keys: replay the stored result, refuse a reused key, store a new result.

The caller decides the transaction: it looks up the key (after taking whatever lock serializes its
effect), performs the effect and calls :meth:`IdempotencyKeys.remember` before the transaction
commits, so the effect and its stored result are written together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header
from pydantic import WithJsonSchema
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.idempotency.errors import IdempotencyKeyReused, RequestInProgress
from portal.idempotency.repository import IdempotencyRepository

#: Response header that marks a replayed result.
REPLAYED_HEADER = "Idempotent-Replayed"

#: The optional ``Idempotency-Key`` request header: up to 200 visible ASCII characters (a UUID fits).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[!-~]{1,200}$",
        description=(
            "A key of your choice (e.g. a UUID) that makes a repeat of the same request safe: the first "
            "result is stored and replayed with the header `Idempotent-Replayed: true`."
        ),
    ),
    # Optional means "may be left out", not "may be null": a header has no null.
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[!-~]{1,200}$"}),
]


@dataclass(frozen=True)
class StoredResponse:
    """A stored result: the HTTP status and the exact JSON body that was answered."""

    status_code: int
    body: str


def request_hash(endpoint: str, payload: Any) -> str:
    """SHA-256 of the endpoint name and the request in canonical JSON (key order does not matter)."""
    canonical = json.dumps(
        {"endpoint": endpoint, "payload": payload},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeys:
    """Idempotency keys of one account (the account comes from the principal, never the request)."""

    def __init__(self, session: AsyncSession, account_id: int) -> None:
        self.repository = IdempotencyRepository(session, account_id)

    async def replay(self, key: str, endpoint: str, hashed_request: str) -> StoredResponse | None:
        """The stored result of ``key``, None for a new key; 422 when the key was used for another request."""
        record = await self.repository.find(key)
        if record is None:
            return None
        if record.endpoint != endpoint or record.request_hash != hashed_request:
            raise IdempotencyKeyReused()
        return StoredResponse(record.response_status, record.response_body)

    async def remember(
        self,
        key: str,
        endpoint: str,
        hashed_request: str,
        response: StoredResponse,
        now: dt.datetime,
    ) -> None:
        """Store the result in the current transaction.

        A concurrent request with the same key that got here first makes the insert fail: this request
        is then refused with 409 and its transaction (with its effect) rolls back.
        """
        try:
            await self.repository.add(
                key=key,
                endpoint=endpoint,
                request_hash=hashed_request,
                response_status=response.status_code,
                response_body=response.body,
                now=now,
            )
        except IntegrityError:
            raise RequestInProgress() from None
