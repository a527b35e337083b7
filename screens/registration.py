"""Регистрация: the FAQ's two steps — find the account, then prove the receipt total and get a password.

Step 1: «Лицевой счет» and «Найти»; the portal answers with the address (apartment hidden) so the
resident sees it is the right account. Step 2: «Итого к оплате за указанный месяц» (without the capital
repair contribution), the e-mail twice and «Принять условия соглашения»; the password arrives by
e-mail. The account number stays on screen, read-only, in step 2; Esc goes back to change it. Every
value typed stays where it is when a check or the portal refuses it.
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Static

from screens.base import ScreenSpec
from screens.dialogs import TermsDialog
from screens.form_base import FormScreen
from tui.errors import NotFound, PortalError
from tui.formatting import InputError, Money
from tui.models import RegistrationLookup
from tui.validation import DONE_MARK, ERROR_MARK, account_number_problem, email_problem, field_problem
from widgets.filtered_input import account_number_input
from widgets.header import Header
from widgets.toggles import Checkbox

Step = Literal["account", "details", "done"]


class RegistrationScreen(FormScreen):
    """Registration with the last receipt at hand: the password is sent to the e-mail given here."""

    #: The request fields the portal may name in an error → the id of the widget that holds each.
    FIELD_WIDGETS: ClassVar[dict[str, str]] = {
        "account_number": "account-number",
        "receipt_total": "receipt-total",
        "email": "email",
        "email_repeat": "email-repeat",
        "accept_terms": "accept-terms",
    }
    FORM = "registration"
    SPEC = ScreenSpec(
        "registration", "registration.title", help_topic="registration", offered_to="public", order=1
    )
    DEFAULT_CSS = """
    RegistrationScreen #registration-details { height: auto; display: none; }
    RegistrationScreen #registration-found { margin-top: 1; text-style: bold; }
    RegistrationScreen #registration-done { display: none; margin-top: 1; }
    RegistrationScreen #registration-success { text-style: bold; color: $success; margin-bottom: 1; }
    """
    BINDINGS = [
        # One key, three meanings: check_action shows and runs only the one of the current step.
        Binding("f2", "find", "registration.find", id="find"),
        Binding("f2", "register", "registration.submit", id="register"),
        Binding("f2", "to_login", "registration.to_login", id="to-login"),
        Binding("f3", "terms", "registration.terms_title", id="terms"),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    #: Which actions belong to which step (all others are always available).
    STEP_ACTIONS: ClassVar[dict[str, Step]] = {
        "find": "account",
        "register": "details",
        "terms": "details",
        "to_login": "done",
    }
    STEPS = get_args(Step)
    #: Step 2 shows it read-only: Esc goes back to change it.
    EDITABLE_IN: ClassVar[dict[str, Step]] = {"account_number": "account"}
    NEXT_FIELD: ClassVar[dict[str, str]] = {"receipt-total": "email", "email": "email-repeat"}

    def __init__(self) -> None:
        super().__init__()
        #: Where the resident is: finding the account, filling step 2, or registered.
        self.step: Step = "account"
        #: The account number the portal found (step 2 registers exactly this one).
        self.found_number: str | None = None

    # --- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with VerticalScroll(id="registration-body", classes="form-body"), Center():
            with Vertical(id="registration-form", classes="form in-account in-details"):
                yield Static(t("registration.intro"), classes="hint in-account")
                yield Static(t("registration.step_account"), classes="step in-account")
                yield Label(t("registration.account_number"))
                yield account_number_input(t, field=t("registration.account_number"), id="account-number")
                yield Static(t("registration.account_number_hint"), classes="hint in-account")
                yield Static("", id="account-number-error", classes="error")
                yield Button(
                    t("registration.find"), id="registration-find", variant="primary", classes="in-account"
                )
                with Vertical(id="registration-details", classes="in-details"):
                    yield Static("", id="registration-found")
                    yield Static(t("registration.step_back_hint"), classes="hint")
                    yield Static(t("registration.step_details"), classes="step")
                    yield Label(t("registration.receipt_total"))
                    yield Input(placeholder="1023,12", max_length=24, id="receipt-total")
                    yield Static(t("registration.receipt_total_hint"), classes="hint")
                    yield Static("⚠ " + t("registration.receipt_total_warning"), classes="hint")
                    yield Static("", id="receipt-total-error", classes="error")
                    yield Label(t("registration.email"))
                    yield Input(max_length=320, id="email")
                    yield Static(t("registration.email_hint"), classes="hint")
                    yield Static("", id="email-error", classes="error")
                    yield Label(t("registration.email_repeat"))
                    yield Input(max_length=320, id="email-repeat")
                    yield Static("", id="email-repeat-error", classes="error")
                    yield Checkbox(t("registration.accept_terms"), id="accept-terms")
                    yield Static(t("registration.terms_hint"), classes="hint")
                    yield Static("", id="accept-terms-error", classes="error")
                    yield Button(t("registration.submit"), id="registration-submit", variant="primary")
                yield Static("", id="registration-message", classes="form-message")
            with Vertical(id="registration-done", classes="form in-done"):
                yield Static("", id="registration-success")
                yield Static(t("registration.after_success_hint"), classes="hint")
                yield Button(t("registration.to_login"), id="registration-to-login", variant="primary")
        yield Footer(compact=True)

    # --- keys ---------------------------------------------------------------------------------------

    def action_find(self) -> None:
        self._find()

    def action_register(self) -> None:
        self._submit()

    def action_terms(self) -> None:
        self.app.push_screen(TermsDialog(self.t))

    def action_to_login(self) -> None:
        self._back_to_login(self.found_number)

    def action_back(self) -> None:
        if self.step == "details":
            self._show_step("account")
            self.query_one("#account-number", Input).focus()
        elif self.step == "done":
            self._back_to_login(self.found_number)
        else:
            self._back_to_login(None)

    # --- step 1: find the account -------------------------------------------------------------------

    @on(Input.Submitted, "#account-number")
    @on(Button.Pressed, "#registration-find")
    def _find(self) -> None:
        if self._busy or self.step != "account":
            return
        self._clear_errors()
        number = self.query_one("#account-number", Input).value.replace(" ", "")
        problem = account_number_problem(self.t, number)
        if problem is not None:
            self._field_error("account_number", problem)
            return
        self._lookup(number)

    @work(exclusive=True, group="registration", exit_on_error=False)
    async def _lookup(self, number: str) -> None:
        busy = self.t("registration.looking_up")
        lookup = self._ask(busy, lambda client: client.registration_lookup(number), refused=self._not_found)
        if (found := await lookup) is not None:
            self._show_found(found.value)

    def _not_found(self, exc: PortalError) -> None:
        self._message("")
        if isinstance(exc, NotFound) or exc.field == "account_number":
            self._field_error("account_number", self.error_text(exc))
        else:
            self._message(ERROR_MARK + self.error_text(exc), error=True)

    def _show_found(self, found: RegistrationLookup) -> None:
        self.found_number = found.account_number
        account_line = self.t("registration.account_found", account=found.account_number)
        address_line = self.t("registration.address", address=found.masked_address)
        self.query_one("#registration-found", Static).update(f"{DONE_MARK}{account_line}\n{address_line}")
        self._show_step("details")
        self.query_one("#receipt-total", Input).focus()
        self._reveal(self.query_one("#registration-found", Static), top=True)

    # --- step 2: the receipt total, the e-mail and the terms ----------------------------------------

    @on(Input.Submitted, "#email-repeat")
    def _after_email_repeat(self) -> None:
        # The last text field: Enter registers once the terms are accepted, else goes to the checkbox.
        terms = self.query_one("#accept-terms", Checkbox)
        if terms.value:
            self._submit()
        else:
            terms.focus()

    @on(Checkbox.Changed, "#accept-terms")
    def _terms_changed(self, event: Checkbox.Changed) -> None:
        if event.value:
            self._field_error("accept_terms", "")

    @on(Button.Pressed, "#registration-submit")
    def _submit(self) -> None:
        if self._busy or self.step != "details" or self.found_number is None:
            return
        t = self.t
        self._clear_errors()
        self._message("")
        problems: dict[str, str] = {}
        total: Money | None = None
        try:
            total = Money.parse(self.query_one("#receipt-total", Input).value)
        except InputError as exc:
            problems["receipt_total"] = field_problem(t, "field.receipt_total", exc.key, **exc.params)
        email = self.query_one("#email", Input).value.strip()
        email_repeat = self.query_one("#email-repeat", Input).value.strip()
        problem = email_problem(t, email)
        if problem is not None:
            problems["email"] = problem
        if not email_repeat:
            problems["email_repeat"] = t("input.required", field=t("field.email_repeat"))
        elif email and email_repeat.casefold() != email.casefold():
            problems["email_repeat"] = t("error.emails_differ")
        if not self.query_one("#accept-terms", Checkbox).value:
            problems["accept_terms"] = t("error.terms_not_accepted")
        if problems or total is None:
            self._show_problems(problems)
            return
        self._register(self.found_number, total, email, email_repeat)

    @work(exclusive=True, group="registration", exit_on_error=False)
    async def _register(self, number: str, total: Money, email: str, email_repeat: str) -> None:
        # The uniform refusal (registration_data_mismatch) too goes under the form.
        accepted = await self._ask(
            self.t("registration.in_progress"),
            lambda client: client.register(number, total, email, email_repeat, accept_terms=True),
        )
        if accepted is None:
            return
        self.query_one("#registration-success", Static).update(
            DONE_MARK + self.t("registration.success", email=accepted.value.email_masked)
        )
        self._show_step("done")
        self.query_one("#registration-to-login", Button).focus()

    @on(Button.Pressed, "#registration-to-login")
    def _to_login_pressed(self) -> None:
        self._back_to_login(self.found_number)
