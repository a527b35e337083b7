"""Opaque random tokens; the database stores only their HMAC-SHA256 under the server's secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets


class TokenDigest:
    """Makes tokens and the keyed digests under which they are stored and looked up."""

    def __init__(self, secret_key: str) -> None:
        self._key = secret_key.encode("utf-8")

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    def digest(self, token: str) -> str:
        return hmac.new(self._key, token.encode("utf-8"), hashlib.sha256).hexdigest()
