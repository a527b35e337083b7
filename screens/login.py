"""Вход в личный кабинет: account number and password; the way to registration, recovery and readings."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Button, Footer, Input, Label, Static

from screens.base import PortalReady, PortalScreen, ScreenSpec
from tui.errors import PortalError, PortalUnavailable, ValidationFailed
from widgets.filtered_input import account_number_input
from widgets.header import Header


class LoginScreen(PortalScreen):
    """The first screen: log in, or go where an unregistered resident can."""

    SPEC = ScreenSpec("login", "login.title", help_topic="login", offered_to=None)
    DEFAULT_CSS = """
    LoginScreen Vertical#login-form {
        width: 60;
        max-width: 100%;
        height: auto;
        border: round $primary;
        padding: 1 2;
    }
    LoginScreen .hint { color: $text-muted; }
    LoginScreen #login-error { color: $error; text-style: bold; height: auto; }
    LoginScreen #login-submit { width: 100%; margin-top: 1; }
    """
    BINDINGS = [
        Binding("f3", "open('registration')", "login.register", id="registration"),
        Binding("f4", "open('recovery')", "footer.forgot_password", id="recovery"),
        Binding(
            "f5",
            "open('readings_without_login')",
            "footer.readings_without_login",
            id="readings-without-login",
        ),
        Binding(
            "f6",
            "open('capital_repair_payment')",
            "footer.capital_repair_payment",
            id="capital-repair-payment",
        ),
    ]

    #: (number, password) of a login asked for before the portal was ready; sent when it is.
    _pending_login: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Center(), Vertical(id="login-form"):
            yield Label(t("login.account_number"))
            yield account_number_input(t, field=t("login.account_number"), id="account-number")
            yield Label(t("login.password"))
            yield Input(password=True, max_length=128, id="password")
            yield Static("", id="login-error")
            yield Button(t("login.submit"), id="login-submit", variant="primary")
            yield Static(t("app.loading"), id="demo-hint", classes="hint")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.title = self.t("login.title")
        remembered = None if self.kabinet.shared_terminal else self.kabinet.config.last_account_number
        if remembered:
            self.query_one("#account-number", Input).value = remembered
            self.query_one("#password", Input).focus()
        else:
            self.query_one("#account-number", Input).focus()
        self._show_demo_hint()

    def on_portal_ready(self, _: PortalReady) -> None:
        self._show_demo_hint()
        pending, self._pending_login = self._pending_login, None
        if pending is not None:
            # Enter was pressed while the portal was starting: sent now, from this screen's own task.
            self.call_later(self._login, *pending)

    def account_number_known(self, number: str) -> None:
        """Back from registration or recovery: the number filled in, the password to type."""
        self.query_one("#account-number", Input).value = number
        password = self.query_one("#password", Input)
        password.value = ""
        self.set_focus(password)

    def _show_demo_hint(self) -> None:
        hint = self.query_one("#demo-hint", Static)
        if self.kabinet.client is None:
            hint.update(self.t("app.loading"))
        elif self.kabinet.demo_login is not None:
            account, password = self.kabinet.demo_login
            hint.update(self.t("login.demo_hint", account=account, password=password))
        else:
            hint.update("")

    def action_open(self, name: str) -> None:
        self.kabinet.open_screen(name)

    @on(Input.Submitted, "#account-number")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login-submit")
    def _submit(self) -> None:
        number = self.query_one("#account-number", Input).value.replace(" ", "")
        password = self.query_one("#password", Input).value
        error = self.query_one("#login-error", Static)
        if not number:
            error.update(self.t("input.required", field=self.t("login.account_number")))
            self.query_one("#account-number", Input).focus()
            return
        if not password:
            error.update(self.t("input.required", field=self.t("login.password")))
            self.query_one("#password", Input).focus()
            return
        self._login(number, password)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def _login(self, number: str, password: str) -> None:
        error = self.query_one("#login-error", Static)
        button = self.query_one("#login-submit", Button)
        if self.kabinet.client is None:
            # The embedded portal is still starting: keep the login and send it once it is ready.
            self._pending_login = (number, password)
            error.update(self.t("login.waiting_for_portal"))
            return
        error.update(self.t("login.in_progress"))
        button.disabled = True
        try:
            await self.kabinet.client.login(number, password)
        except ValidationFailed as exc:
            error.update(self.t.error(exc.code, exc.message))
        except PortalUnavailable:
            error.update(self.t("connection.portal_unreachable"))
        except PortalError as exc:
            error.update(self.error_text(exc))
            self.query_one("#password", Input).value = ""
            self.query_one("#password", Input).focus()
        else:
            error.update("")
            self.query_one("#password", Input).value = ""
            self.kabinet.resident_logged_in(number)
        finally:
            button.disabled = False
