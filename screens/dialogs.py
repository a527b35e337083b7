"""Modal dialogs: confirm, retry when the portal is unreachable, log in again when a session lapsed,
and the terms of use to read before registering."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.errors import PortalError, PortalUnavailable
from tui.i18n import Translator

if TYPE_CHECKING:
    from app import KabinetApp

DIALOG_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 64;
    max-width: 100%;
    height: auto;
    border: thick $accent;
    background: $surface;
    padding: 1 2;
}}
{name} .message {{
    width: 100%;
    margin-bottom: 1;
}}
{name} .error {{
    color: $error;
    text-style: bold;
}}
{name} Horizontal {{
    height: auto;
    align-horizontal: right;
}}
{name} Button {{
    margin-left: 1;
}}
"""


class _Dialog(ModalScreen[bool]):
    """A yes/no dialog: Enter on a button, Esc answers no."""

    BINDINGS = [Binding("escape", "dismiss(False)", show=False)]

    @property
    def kabinet(self) -> KabinetApp:
        return cast("KabinetApp", self.app)


class ConfirmDialog(_Dialog):
    """Asks the resident to confirm something (an unusual reading, logging out)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(
        self, message: str, *, yes: str | None = None, no: str | None = None, safe_default: bool = False
    ) -> None:
        super().__init__()
        self.message = message
        self.yes = yes
        self.no = no
        #: «Нет» is the focused, highlighted answer: Enter pressed without reading keeps nothing wrong.
        self.safe_default = safe_default

    def compose(self) -> ComposeResult:
        t = self.kabinet.t
        with Vertical():
            yield Static(self.message, classes="message", markup=False)
            with Horizontal():
                yield Button(
                    self.no or t("common.no"), id="no", variant="primary" if self.safe_default else "default"
                )
                yield Button(
                    self.yes or t("common.yes"),
                    id="yes",
                    variant="default" if self.safe_default else "primary",
                )

    def on_mount(self) -> None:
        self.query_one("#no" if self.safe_default else "#yes", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class RetryDialog(_Dialog):
    """The portal did not answer: try again or give up."""

    DEFAULT_CSS = DIALOG_CSS.format(name="RetryDialog")

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        t = self.kabinet.t
        with Vertical():
            yield Static(self.message, classes="message error")
            with Horizontal():
                yield Button(t("common.cancel"), id="cancel")
                yield Button(t("connection.retry"), id="retry", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#retry", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "retry")


class ReloginDialog(_Dialog):
    """The session lapsed: the password again, and the resident carries on where they were."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ReloginDialog")

    def compose(self) -> ComposeResult:
        t = self.kabinet.t
        with Vertical():
            yield Static(t("session.expired"), classes="message")
            yield Label(t("login.account_number") + ": " + (self.kabinet.account_number or ""))
            yield Label(t("login.password"))
            yield Input(password=True, id="password")
            yield Static("", id="relogin-error", classes="error")
            with Horizontal():
                yield Button(t("nav.logout"), id="cancel")
                yield Button(t("session.relogin"), id="relogin", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#relogin")
    def _relogin(self) -> None:
        self._login(self.query_one("#password", Input).value)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @work(exclusive=True, group="relogin", exit_on_error=False)
    async def _login(self, password: str) -> None:
        t = self.kabinet.t
        error = self.query_one("#relogin-error", Static)
        client = self.kabinet.client
        number = self.kabinet.account_number
        if client is None or not number:
            self.dismiss(False)
            return
        error.update(t("login.in_progress"))
        try:
            await client.login(number, password)
        except PortalUnavailable:
            error.update(t("connection.portal_unreachable"))
        except PortalError as exc:
            error.update(t.error(exc.code, exc.message))
            self.query_one("#password", Input).value = ""
        else:
            self.dismiss(True)


class TermsDialog(ModalScreen[None]):
    """The terms of use of the service, to read before ticking «Принять условия соглашения»."""

    DEFAULT_CSS = """
    TermsDialog { align: center middle; }
    TermsDialog > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    TermsDialog #terms-title { text-style: bold; margin-bottom: 1; }
    TermsDialog #terms-scroll { height: auto; max-height: 16; }
    TermsDialog Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape,f3", "dismiss", show=False)]

    def __init__(self, t: Translator) -> None:
        super().__init__()
        self.t = t

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.t("registration.terms_title"), id="terms-title")
            with VerticalScroll(id="terms-scroll"):
                yield Static(self.t("registration.terms_text"), id="terms-text")
            with Horizontal():
                yield Button(self.t("common.close"), id="terms-close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#terms-close", Button).focus()

    @on(Button.Pressed, "#terms-close")
    def _close(self) -> None:
        self.dismiss(None)
