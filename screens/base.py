"""What every screen of the app shares: the translator, the portal client, and portal calls.

Portal calls run in workers (never on the event loop's critical path) through :meth:`PortalScreen.portal`,
which turns a lapsed session into a re-login dialog and then carries on where the resident was (the
screen and everything typed on it stay), and an unreachable portal into a message with a way to retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, TypeVar, cast

from textual.message import Message
from textual.screen import Screen

from tui.errors import PortalError, PortalUnavailable, SessionExpired, TooManyAttempts
from tui.i18n import Translator
from tui.models import LoginAccounts
from widgets.keys import translate_bindings

if TYPE_CHECKING:
    from app import KabinetApp
    from tui.client import PortalClient

T = TypeVar("T")


@dataclass(frozen=True)
class ScreenSpec:
    """What the app needs to know of a screen, declared once on its class (``SPEC``).

    The app's registry, the command palette, the home menu and its footer keys are derived from these
    declarations (``screens/registry.py``); a screen's module is named after it (``screens/<name>.py``).
    Its catalogue keys are :meth:`catalogue_keys`, its help section ``## … {#<help_topic>}``.
    """

    name: str
    """How the app opens it (``open_screen("reading_history")``), and the stem of its catalogue keys."""
    title_key: str
    """The catalogue key of its title."""
    help_topic: str = "general"
    """The help section F1 opens at."""
    offered_to: Literal["resident", "public", "everyone"] | None = "resident"
    """Who the command palette offers it to: logged in only, before login only, or both; None: nobody
    (it is opened otherwise, like the login screen)."""
    menu_key: str | None = None
    """Its key on the home screen, where the menu lists it; None: not in the home menu. A Latin
    letter key gets its Cyrillic-layout twin (``p`` → ``p,з``)."""
    in_footer: bool = True
    """Whether the home footer shows its key (80 columns hold only some; the menu names every key)."""
    more_keys: tuple[str, ...] = ()
    """Further keys that open it from home, shown nowhere (``k`` for the receipts)."""
    order: int = 0
    """Its place in the home menu and in the command palette (smaller first)."""

    @property
    def needs_login(self) -> bool:
        return self.offered_to == "resident"

    @property
    def binding_id(self) -> str:
        """The id of its key binding on the home screen (for ``[keymap]`` in the config)."""
        return self.name.replace("_", "-")

    def catalogue_keys(self) -> list[str]:
        """The translation keys it needs in every catalogue."""
        keys = [self.title_key]
        if self.offered_to is not None:
            keys += [f"command.{self.name}", f"command.{self.name}_help"]
        if self.menu_key is not None:
            keys += [f"nav.{self.name}", f"footer.{self.name}"]
        return keys


#: The declaration of a screen that declares none (a base, a screen not opened by name).
UNDECLARED = ScreenSpec("", "app.title", offered_to=None)


class PortalReady(Message):
    """The portal is reachable (the embedded one has started): screens that waited for it go on."""


class CallAbandoned(Exception):
    """The resident declined to log in again or to retry: the call is given up quietly."""


class PortalScreen(Screen[None]):
    """Base of the app's screens."""

    #: The screen's declaration: its name, title, help topic, menu key and who may open it.
    SPEC: ClassVar[ScreenSpec] = UNDECLARED

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
        self.title = self.t(self.SPEC.title_key)

    def account_number_known(self, number: str) -> None:
        """A screen above learnt the resident's account number (registered, password recovered).

        Called on the screen below before that screen leaves; the login screen fills the number in.
        """

    def error_text(self, error: Exception) -> str:
        """The resident's words for a failed portal call."""
        if isinstance(error, TooManyAttempts):
            return self.t("error.too_many_attempts_wait", minutes=max(1, (error.retry_after + 59) // 60))
        if isinstance(error, PortalUnavailable):
            return self.t("connection.portal_unreachable")
        if isinstance(error, PortalError):
            return self.t.error(error.code, error.message)
        return self.t("connection.server_error")

    async def work_on_account(self, number: str) -> LoginAccounts:
        """Move the session onto another account of the login (home's digit, «Лицевые счета»'s Enter);
        the app follows it, and the resident is told which account every screen now shows."""
        chosen = await self.portal(lambda client: client.choose_account(number))
        self.follow_account(chosen)
        if chosen.current is not None:
            self.notify(self.t("accounts.chosen", account=chosen.current.account_number))
        return chosen

    def follow_account(self, accounts: LoginAccounts) -> None:
        """The app's idea of the resident's account number follows the session's (re-login uses it)."""
        if accounts.current is not None:
            self.kabinet.account_number = accounts.current.account_number

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
