"""Reading portal answers in tests with their types: a JSON object is a ``dict[str, Any]``."""

from __future__ import annotations

from typing import Any

import httpx


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object ``response`` carries (failing the test when it carries something else)."""
    body = response.json()
    assert isinstance(body, dict), response.text
    return body
