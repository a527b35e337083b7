"""Восстановление пароля: a code by e-mail, then a new password, then back to the login screen.

Step 1 asks for «Лицевой счет» and the e-mail given at registration; the answer is always the same
(«если данные верны, …») so the screen tells nobody whether the pair exists. Step 2: «Код из письма»,
«Новый пароль» and «Новый пароль повторно». The account number and e-mail stay on screen, read-only;
Esc goes back to change them or to ask for another code. Nothing typed is lost when a check fails.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal, get_args

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Static

from screens.base import ScreenSpec
from screens.form_base import FormScreen
from tui.validation import (
    DONE_MARK,
    MIN_PASSWORD_LENGTH,
    account_number_problem,
    email_problem,
    field_problem,
)
from widgets.filtered_input import FilteredInput, account_number_input
from widgets.header import Header

Step = Literal["request", "confirm"]

#: The code from the letter: six digits (typed with or without a space or a dash in the middle).
CODE = re.compile(r"[0-9]{6}")


class RecoveryScreen(FormScreen):
    """A forgotten password replaced with the help of the e-mail given at registration."""

    #: The request fields the portal may name in an error → the id of the widget that holds each.
    FIELD_WIDGETS: ClassVar[dict[str, str]] = {
        "account_number": "recovery-account",
        "email": "recovery-email",
        "code": "recovery-code",
        "new_password": "recovery-new-password",
        "new_password_repeat": "recovery-new-password-repeat",
    }
    FORM = "recovery"
    SPEC = ScreenSpec("recovery", "recovery.title", help_topic="recovery", offered_to="public", order=2)
    DEFAULT_CSS = """
    RecoveryScreen #recovery-confirm { height: auto; display: none; }
    RecoveryScreen #recovery-sent { margin-top: 1; text-style: bold; }
    """
    BINDINGS = [
        # One key, two meanings: check_action shows and runs only the one of the current step.
        Binding("f2", "request_code", "recovery.request_code", id="request-code"),
        Binding("f2", "confirm", "recovery.submit", id="confirm"),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    #: Which actions belong to which step (all others are always available).
    STEP_ACTIONS: ClassVar[dict[str, Step]] = {"request_code": "request", "confirm": "confirm"}
    STEPS = get_args(Step)
    #: Step 2 shows them read-only: Esc goes back to change them (or to ask for another code).
    EDITABLE_IN: ClassVar[dict[str, Step]] = {"account_number": "request", "email": "request"}
    NEXT_FIELD: ClassVar[dict[str, str]] = {
        "recovery-account": "recovery-email",
        "recovery-code": "recovery-new-password",
        "recovery-new-password": "recovery-new-password-repeat",
    }

    def __init__(self) -> None:
        super().__init__()
        #: Asking for the code, or entering it with the new password.
        self.step: Step = "request"
        #: The account number the code was asked for (step 2 confirms exactly this one).
        self.requested_number: str | None = None

    # --- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with (
            VerticalScroll(id="recovery-body", classes="form-body"),
            Center(),
            Vertical(id="recovery-form", classes="form"),
        ):
            yield Static(t("recovery.intro"), classes="hint in-request")
            yield Static(t("recovery.step_request"), classes="step in-request")
            yield Label(t("recovery.account_number"))
            yield account_number_input(t, field=t("recovery.account_number"), id="recovery-account")
            yield Static("", id="recovery-account-error", classes="error")
            yield Label(t("recovery.email"))
            yield Input(max_length=320, id="recovery-email")
            yield Static("", id="recovery-email-error", classes="error")
            yield Button(
                t("recovery.request_code"), id="recovery-request", variant="primary", classes="in-request"
            )
            with Vertical(id="recovery-confirm", classes="in-confirm"):
                yield Static("", id="recovery-sent")
                yield Static(t("recovery.step_back_hint"), classes="hint")
                yield Static(t("recovery.step_confirm"), classes="step")
                yield Label(t("recovery.code"))
                yield FilteredInput(
                    t,
                    field=t("recovery.code"),
                    allowed=t("input.allowed_code"),
                    placeholder=t("recovery.code_placeholder"),
                    restrict=r"[0-9 \-]*",
                    max_length=11,
                    id="recovery-code",
                )
                yield Static("", id="recovery-code-error", classes="error")
                yield Label(t("recovery.new_password"))
                yield Input(password=True, max_length=128, id="recovery-new-password")
                yield Static(t("recovery.password_rules", length=MIN_PASSWORD_LENGTH), classes="hint")
                yield Static("", id="recovery-new-password-error", classes="error")
                yield Label(t("recovery.new_password_repeat"))
                yield Input(password=True, max_length=128, id="recovery-new-password-repeat")
                yield Static("", id="recovery-new-password-repeat-error", classes="error")
                yield Button(t("recovery.submit"), id="recovery-submit", variant="primary")
            yield Static("", id="recovery-message", classes="form-message")
        yield Footer(compact=True)

    # --- keys ---------------------------------------------------------------------------------------

    def action_request_code(self) -> None:
        self._request()

    def action_confirm(self) -> None:
        self._submit()

    def action_back(self) -> None:
        if self.step == "confirm":
            self._show_step("request")
            self.query_one("#recovery-email", Input).focus()
        else:
            self.app.pop_screen()

    # --- step 1: ask for a code ---------------------------------------------------------------------

    @on(Input.Submitted, "#recovery-email")
    @on(Button.Pressed, "#recovery-request")
    def _request(self) -> None:
        if self._busy or self.step != "request":
            return
        t = self.t
        self._clear_errors()
        self._message("")
        number = self.query_one("#recovery-account", Input).value.replace(" ", "")
        email = self.query_one("#recovery-email", Input).value.strip()
        problems = {
            field: problem
            for field, problem in (
                ("account_number", account_number_problem(t, number)),
                ("email", email_problem(t, email)),
            )
            if problem is not None
        }
        if problems:
            self._show_problems(problems)
            return
        self._ask_for_code(number, email)

    @work(exclusive=True, group="recovery", exit_on_error=False)
    async def _ask_for_code(self, number: str, email: str) -> None:
        busy = self.t("recovery.request_in_progress")
        if await self._ask(busy, lambda client: client.request_recovery(number, email)) is None:
            return
        self.requested_number = number
        # The same words whatever the portal found: it never says whether the pair exists.
        self.query_one("#recovery-sent", Static).update(DONE_MARK + self.t("recovery.code_sent", email=email))
        self._show_step("confirm")
        self.query_one("#recovery-code", Input).focus()
        self._reveal(self.query_one("#recovery-sent", Static), top=True)

    # --- step 2: the code and the new password ------------------------------------------------------

    @on(Input.Submitted, "#recovery-new-password-repeat")
    @on(Button.Pressed, "#recovery-submit")
    def _submit(self) -> None:
        if self._busy or self.step != "confirm" or self.requested_number is None:
            return
        t = self.t
        self._clear_errors()
        self._message("")
        code = self.query_one("#recovery-code", Input).value.strip()
        password = self.query_one("#recovery-new-password", Input).value
        repeat = self.query_one("#recovery-new-password-repeat", Input).value
        problems: dict[str, str] = {}
        if not code:
            problems["code"] = t("input.required", field=t("field.code"))
        elif not CODE.fullmatch(code.replace(" ", "").replace("-", "")):
            problems["code"] = field_problem(t, "field.code", "recovery.code_invalid")
        if not password:
            problems["new_password"] = t("input.required", field=t("field.new_password"))
        elif len(password) < MIN_PASSWORD_LENGTH:
            problems["new_password"] = field_problem(
                t, "field.new_password", "recovery.password_too_short", length=MIN_PASSWORD_LENGTH
            )
        if not repeat:
            problems["new_password_repeat"] = t("input.required", field=t("field.new_password_repeat"))
        elif password and repeat != password:
            problems["new_password_repeat"] = t("error.passwords_differ")
        if problems:
            self._show_problems(problems)
            return
        self._confirm(self.requested_number, code, password, repeat)

    @work(exclusive=True, group="recovery", exit_on_error=False)
    async def _confirm(self, number: str, code: str, password: str, repeat: str) -> None:
        busy = self.t("recovery.in_progress")
        confirm = self._ask(busy, lambda client: client.confirm_recovery(number, code, password, repeat))
        if await confirm is not None:
            self._back_to_login(number)

    # --- helpers ------------------------------------------------------------------------------------

    def _back_to_login(self, number: str | None) -> None:
        """The new password works: back to the login screen with the account number filled in."""
        self.app.notify(DONE_MARK + self.t("recovery.success"), timeout=8)
        super()._back_to_login(number)
