"""What every screen of the app shares: the translator, the portal client, and portal calls.

Portal calls run in workers (never on the event loop's critical path) through :meth:`PortalScreen.portal`,
which turns a lapsed session into a re-login dialog and then carries on where the resident was (the
screen and everything typed on it stay), and an unreachable portal into a message with a way to retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from textual.screen import Screen

from tui.errors import PortalError, PortalUnavailable, SessionExpired, TooManyAttempts
from tui.i18n import Translator
from widgets.keys import translate_bindings

if TYPE_CHECKING:
    from app import KabinetApp
    from tui.client import PortalClient

T = TypeVar("T")


class CallAbandoned(Exception):
    """The resident declined to log in again or to retry: the call is given up quietly."""


class PortalScreen(Screen[None]):
    """Base of the app's screens."""

    #: The FAQ section F1 opens for this screen (see screens/help.py).
    HELP_TOPIC: ClassVar[str] = "general"
    #: The translation key of the screen's title.
    TITLE_KEY: ClassVar[str] = "app.title"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retranslate_keys()

    def retranslate_keys(self) -> None:
        """Footer labels in the current language (called again when the language changes)."""
        translate_bindings(self, self.t)

    @property
    def kabinet(self) -> KabinetApp:
        return cast("KabinetApp", self.app)

    @property
    def t(self) -> Translator:
        return self.kabinet.t

    @property
    def client(self) -> PortalClient:
        client = self.kabinet.client
        if client is None:
            raise PortalUnavailable("portal_unreachable")  # the embedded portal is still starting
        return client

    def on_screen_resume(self) -> None:
        self.title = self.t(self.TITLE_KEY)

    def error_text(self, error: Exception) -> str:
        """The resident's words for a failed portal call."""
        if isinstance(error, TooManyAttempts):
            return self.t("error.too_many_attempts_wait", minutes=max(1, (error.retry_after + 59) // 60))
        if isinstance(error, PortalUnavailable):
            return self.t("connection.portal_unreachable")
        if isinstance(error, PortalError):
            return self.t.error(error.code, error.message)
        return self.t("connection.server_error")

    async def portal(self, call: Callable[[PortalClient], Awaitable[T]]) -> T:
        """Run ``call`` against the portal from a worker, seeing a resident through lapses.

        A lapsed session opens the re-login dialog; after logging in again the same call is made
        again and the screen keeps everything typed on it. An unreachable portal offers a retry.
        Raises :class:`CallAbandoned` when the resident gives up, and :class:`PortalError` for
        answers the screen handles itself (wrong values and the like).
        """
        from screens.dialogs import ReloginDialog, RetryDialog

        while True:
            try:
                return await call(self.client)
            except SessionExpired:
                if not await self.app.push_screen_wait(ReloginDialog()):
                    self.kabinet.forget_resident()
                    raise CallAbandoned from None
            except PortalUnavailable:
                if not await self.app.push_screen_wait(RetryDialog(self.t("connection.portal_unreachable"))):
                    raise CallAbandoned from None
