"""Unsubscribe links: ``<account id>.<topic>.<HMAC>``, signed with the portal's secret key.

A link only ever turns a subscription off, so it does not expire; it names one account and one topic,
and cannot be forged for another without the key.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote


class Topic(enum.StrEnum):
    RECEIPT = "receipt"
    REMINDERS = "reminders"


@dataclass(frozen=True)
class Unsubscribe:
    account_id: int
    topic: Topic


#: What a token may look like (the query parameter's schema).
TOKEN_PATTERN = r"^[0-9]{1,12}\.(receipt|reminders)\.[A-Za-z0-9_-]{22}$"  # noqa: S105 - a format


def _signature(key: str, account_id: int, topic: Topic) -> str:
    mac = hmac.new(key.encode(), f"unsubscribe:{account_id}:{topic.value}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def make_token(key: str, account_id: int, topic: Topic) -> str:
    return f"{account_id}.{topic.value}.{_signature(key, account_id, topic)}"


def read_token(key: str, token: str) -> Unsubscribe | None:
    """The account and topic of a genuine token, or None."""
    number, _, rest = token.partition(".")
    topic_text, _, signature = rest.partition(".")
    if not number.isascii() or not number.isdigit() or topic_text not in {t.value for t in Topic}:
        return None
    account_id, topic = int(number), Topic(topic_text)
    if not hmac.compare_digest(signature, _signature(key, account_id, topic)):
        return None
    return Unsubscribe(account_id, topic)


def unsubscribe_url(public_url: str, key: str, account_id: int, topic: Topic) -> str:
    token = make_token(key, account_id, topic)
    return f"{public_url.rstrip('/')}/api/v1/unsubscribe?token={quote(token)}"
