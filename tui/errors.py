"""What can go wrong talking to the portal, as exceptions a screen can tell apart (no Textual here).

Every failure of :class:`tui.client.PortalClient` is a :class:`PortalError`; its subclass says what
the screen should do:

===================== ============================================ =====================================
exception             when                                         what a screen usually does
===================== ============================================ =====================================
ValidationFailed      422: a field is missing or badly formed      mark ``field``, show the message
Conflict              409: a business rule refused (``code``)      show the message (window closed, …)
NotFound              404: e.g. no such account number            show the message
LoginFailed           401 ``login_failed``                         «Неверный номер … или пароль»
SessionExpired        401 otherwise: session ended / no session    back to the login screen
TooManyAttempts       429: throttled, ``retry_after`` seconds      tell when to try again
PortalUnavailable     no connection, time-out, 5xx                 offer «Повторить»
PortalError (itself)  anything else, or an answer of the wrong     show the message
                      shape (code ``unexpected_response``)
===================== ============================================ =====================================

:meth:`PortalError.describe` gives the resident's sentence in the current language (one
error-to-message mapping: the ``error.<code>`` and ``connection.<reason>`` catalogue keys, falling
back to the portal's own Russian message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from tui.i18n import Translator

UnavailableReason = Literal["portal_unreachable", "timeout", "server_error"]
"""Why the portal could not answer; ``connection.<reason>`` in the catalogue."""

UNEXPECTED_RESPONSE: Final = "unexpected_response"
"""The code of an answer the client cannot read (not JSON, or not the documented shape)."""


class PortalError(Exception):
    """The portal refused a request, or could not be asked; ``str(error)`` is the Russian message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status; 0 when no answer arrived."""
        self.code = code
        """Machine-readable code, e.g. ``reading_window_closed``; ``error.<code>`` in the catalogue."""
        self.message = message
        """The portal's message in Russian (or the client's own, for failures without an answer)."""
        self.field = field
        """The request field the error is about (``account_number``, ``readings``…), if any."""
        self.details = details
        """Per-field problems of a validation error (``[{"loc": [...], "type": "..."}]``)."""
        self.idempotency_key: str | None = None
        """For readings submissions: the key the request was sent with, to repeat exactly this one."""

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r})"

    def describe(self, translate: Translator) -> str:
        """The resident's message in the translator's language."""
        return translate.error(self.code, self.message)


class ValidationFailed(PortalError):
    """422: a field is missing or has the wrong format; :attr:`field` names it."""


class Conflict(PortalError):
    """409: a business rule refused the request (window closed, data mismatch, in progress…)."""


class CaptchaRejected(Conflict):
    """409 ``captcha_wrong`` (wrong code) or ``captcha_invalid`` (expired, used, spent): the image is
    dead either way, so the screen fetches a new one and asks for its code; the rest is kept."""


CAPTCHA_CODES: Final = frozenset({"captcha_wrong", "captcha_invalid"})
"""The codes of :class:`CaptchaRejected`."""


class NotFound(PortalError):
    """404: e.g. no account with this number."""


class LoginFailed(PortalError):
    """401 ``login_failed``: wrong account number or password (never says which)."""


class SessionExpired(PortalError):
    """401 on a request that needs a session: it ended (``session_expired``), or there is none
    (``not_authenticated``: logged out, token no longer valid). The client has forgotten the token."""


class TooManyAttempts(PortalError):
    """429: too many failed attempts; the portal accepts the next one after :attr:`retry_after` seconds."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
        *,
        retry_after: int,
    ) -> None:
        super().__init__(status, code, message, field, details)
        self.retry_after = retry_after
        """Seconds to wait (the ``Retry-After`` header)."""


_UNAVAILABLE_MESSAGES: Final[dict[UnavailableReason, str]] = {
    "portal_unreachable": "Портал не отвечает. Проверьте подключение к сети и повторите.",
    "timeout": "Портал не ответил вовремя. Повторите позже.",
    "server_error": "На портале произошла ошибка. Повторите позже.",
}


class PortalUnavailable(PortalError):
    """No usable answer: the connection failed, timed out, or the portal answered 5xx.

    :attr:`code` is the :data:`UnavailableReason`; :attr:`cause` the underlying exception (also
    ``__cause__``), None for a 5xx answer. Safe requests were already retried before this is raised.
    """

    def __init__(
        self,
        reason: UnavailableReason,
        *,
        status: int = 0,
        cause: BaseException | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(status, reason, message or _UNAVAILABLE_MESSAGES[reason])
        self.reason: UnavailableReason = reason
        self.cause = cause
        """The ``httpx`` exception (connection error, time-out), if there was one."""

    def describe(self, translate: Translator) -> str:
        """``connection.<reason>`` in the translator's language."""
        return translate(f"connection.{self.reason}")


__all__ = [
    "CAPTCHA_CODES",
    "UNEXPECTED_RESPONSE",
    "CaptchaRejected",
    "Conflict",
    "LoginFailed",
    "NotFound",
    "PortalError",
    "PortalUnavailable",
    "SessionExpired",
    "TooManyAttempts",
    "UnavailableReason",
    "ValidationFailed",
]
