"""Idempotency keys: the first result of a request is stored and replayed on repeats.

Used by readings submission and payment creation. The record is written in the same transaction as
the effect, unique per (account, key); the same key with another body is refused.
"""

from portal.idempotency.service import (
    REPLAYED_HEADER,
    IdempotencyKey,
    IdempotencyKeys,
    StoredResponse,
    request_hash,
)

__all__ = ["REPLAYED_HEADER", "IdempotencyKey", "IdempotencyKeys", "StoredResponse", "request_hash"]
