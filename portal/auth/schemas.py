"""Request and response bodies of login, logout and the session."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

#: An account number as residents type it from the receipt: ASCII digits only (``\d`` would take any
#: script's digits), spaces around allowed.
AccountNumber = Field(min_length=1, max_length=20, pattern=r"^ *[0-9]{1,20} *$", examples=["3500012001"])


class LoginRequest(BaseModel):
    account_number: str = AccountNumber
    password: str = Field(min_length=1, max_length=1024)


class SessionInfo(BaseModel):
    """A session of a logged-in resident. The token is shown once, at login."""

    token: str | None = Field(default=None, description="Bearer token; only in the login answer.")
    account_number: str
    expires_at: dt.datetime = Field(description="Absolute end of the session.")
    idle_timeout_seconds: int = Field(description="The session ends after this long without a request.")
