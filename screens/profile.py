"""Профиль: change the e-mail or the password, each behind the current password and a captcha.

As the FAQ says: the current address is shown; the new one is typed twice, then «введите код с
картинки» and «Сохранить изменения». The password: the current one, the new one twice, the code. Each
form has its own captcha image, bound to its purpose on the portal; F5 (or ``r``/``к`` outside a
field) fetches a new one, and a wrong code brings a new image with a clear message. A failed attempt
keeps everything typed except the code (its image is gone).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Static, TabbedContent, TabPane

from screens.base import CallAbandoned, PortalScreen, ScreenSpec
from tui.errors import CaptchaRejected, PortalError
from tui.models import Captcha, CaptchaPurpose
from tui.validation import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from widgets.captcha import CaptchaImage
from widgets.header import Header
from widgets.mail_subscriptions import MailSubscriptionsForm

Form = Literal["email", "password"]

PURPOSES: dict[Form, CaptchaPurpose] = {
    "email": CaptchaPurpose.EMAIL_CHANGE,
    "password": CaptchaPurpose.PASSWORD_CHANGE,
}

#: Request fields the portal may name → the input holding each, per form.
FIELD_INPUTS: dict[Form, dict[str, str]] = {
    "email": {
        "current_password": "email-current-password",
        "new_email": "email-new",
        "new_email_repeat": "email-new-repeat",
        "captcha_answer": "email-captcha",
        "captcha_id": "email-captcha",
    },
    "password": {
        "current_password": "password-current",
        "new_password": "password-new",
        "new_password_repeat": "password-new-repeat",
        "captcha_answer": "password-captcha",
        "captcha_id": "password-captcha",
    },
}

#: Portal codes with the screen's own words (they name this screen's fields); others: the catalogue.
PROFILE_ERRORS: dict[str, str] = {
    "invalid_email": "profile.email_invalid",
    "emails_differ": "profile.emails_differ",
    "current_password_wrong": "profile.current_password_wrong",
    "passwords_differ": "profile.passwords_differ",
    "password_unchanged": "profile.password_unchanged",
    "captcha_wrong": "profile.captcha_wrong",
    "captcha_invalid": "profile.captcha_invalid",
}


class ProfileScreen(PortalScreen):
    """«Профиль»: two forms in tabs, «Смена e-mail» and «Смена пароля», each with its captcha."""

    SPEC = ScreenSpec("profile", "profile.title", help_topic="profile", menu_key="p", order=80)
    DEFAULT_CSS = """
    ProfileScreen TabbedContent { height: 1fr; }
    ProfileScreen TabPane { padding: 0; }
    ProfileScreen VerticalScroll { height: 1fr; padding: 0 1; }
    ProfileScreen .row { height: auto; }
    ProfileScreen .row Label { width: 24; padding: 0 1 0 0; }
    ProfileScreen Input { width: 1fr; background: $boost; }
    ProfileScreen Input:focus { background: $primary 30%; }
    ProfileScreen .hint { color: $text-muted; }
    ProfileScreen .current { text-style: bold; }
    ProfileScreen CaptchaImage { margin: 0 0 0 0; }
    ProfileScreen .captcha-part { height: auto; margin-top: 1; }
    /* A fixed frame (the widest picture, MAX_COLUMNS, + its border): a new picture never moves the form. */
    ProfileScreen .captcha-box {
        height: auto; border: round $primary; padding: 0; width: 46; align-horizontal: center;
    }
    ProfileScreen .captcha-side { height: auto; width: 1fr; padding: 0 0 0 1; }
    ProfileScreen .captcha-side Input { margin-bottom: 1; }
    ProfileScreen .message { height: auto; text-style: bold; }
    ProfileScreen .message.-error { color: $text-error; }
    ProfileScreen Button { margin: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "save", "footer.save", id="save"),
        Binding("f3", "show_form('email')", "footer.email_form", id="email-form"),
        Binding("f4", "show_form('password')", "footer.password_form", id="password-form"),
        Binding("f6", "show_letters", "footer.letters_form", id="letters-form"),
        Binding("f5,ctrl+r", "new_captcha", "footer.new_captcha", id="new-captcha"),
        Binding("r,к", "new_captcha", "footer.new_captcha", show=False),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.captchas: dict[Form, Captcha | None] = {"email": None, "password": None}
        """The image each form shows now (its id goes with the answer)."""
        self.busy: dict[Form, bool] = {"email": False, "password": False}
        self.error_inputs: dict[Form, str | None] = {"email": None, "password": None}
        """The field each form's error message is about: editing it takes the message away."""

    # --- layout ------------------------------------------------------------------------------------

    def _row(self, label: str, input_id: str, *, password: bool = False, max_length: int = 320) -> Horizontal:
        return Horizontal(
            Label(label),
            Input(password=password, max_length=max_length, id=input_id, compact=True),
            classes="row",
        )

    def _captcha_part(self, form: Form) -> ComposeResult:
        """The picture (at most 8 rows) with the prompt, the code field and «Сохранить» beside it.

        At 80×24 the whole form — the code, the button and the message under it — fits without
        scrolling: nothing a resident types or must read is below the visible area.
        """
        t = self.t
        with Horizontal(classes="captcha-part"):
            with Vertical(classes="captcha-box"):
                yield CaptchaImage(id=f"{form}-captcha-image")
            with Vertical(classes="captcha-side"):
                yield Static(t("profile.captcha_prompt"), classes="hint")
                yield Static("", id=f"{form}-captcha-status", classes="hint")
                yield Label(t("profile.captcha"))
                yield Input(max_length=40, id=f"{form}-captcha", compact=True)
                yield Button(t("profile.save"), id=f"{form}-save", variant="primary", compact=True)

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with TabbedContent(id="profile-tabs", initial="email-tab"):
            with TabPane(t("profile.email_section"), id="email-tab"), VerticalScroll(id="email-form"):
                yield Static("", id="email-current", classes="current", markup=False)
                yield self._row(t("profile.new_email"), "email-new")
                yield self._row(t("profile.new_email_repeat"), "email-new-repeat")
                yield self._row(
                    t("profile.current_password"), "email-current-password", password=True, max_length=1024
                )
                yield from self._captcha_part("email")
                yield Static("", id="email-message", classes="message", markup=False)
            with (
                TabPane(t("profile.password_section"), id="password-tab"),
                VerticalScroll(id="password-form"),
            ):
                yield self._row(
                    t("profile.current_password"), "password-current", password=True, max_length=1024
                )
                yield self._row(t("profile.new_password"), "password-new", password=True, max_length=1024)
                yield Static(
                    t("profile.password_rules", minimum=MIN_PASSWORD_LENGTH, maximum=MAX_PASSWORD_LENGTH),
                    classes="hint",
                )
                yield self._row(
                    t("profile.new_password_repeat"), "password-new-repeat", password=True, max_length=1024
                )
                yield from self._captcha_part("password")
                yield Static("", id="password-message", classes="message", markup=False)
            with TabPane(t("profile.letters_section"), id="letters-tab"):
                yield MailSubscriptionsForm(t, id="letters")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p still opens it; F1 whole

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        for scroll in self.query(VerticalScroll):
            scroll.can_focus = False
        self.load_profile()
        self.fetch_captcha("email")
        self.query_one("#email-new", Input).focus()

    # --- which form --------------------------------------------------------------------------------

    @property
    def form(self) -> Form:
        active = self.query_one("#profile-tabs", TabbedContent).active
        return "password" if active == "password-tab" else "email"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # On «Письма» a switch is saved as it is ticked and there is no picture: F2 and F5 leave the
        # footer (which then fits at 80 columns, F1 whole).
        if action in ("save", "new_captcha") and self.query("#profile-tabs"):
            return not self._on_letters()
        return True

    @on(TabbedContent.TabActivated, "#profile-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        if event.pane.id == "letters-tab":
            if self.query_one(MailSubscriptionsForm).saved is None:
                self.load_letters()
            return
        form: Form = "password" if event.pane.id == "password-tab" else "email"
        if self.captchas[form] is None:
            self.fetch_captcha(form)

    def _input(self, input_id: str) -> Input:
        return self.query_one(f"#{input_id}", Input)

    def _say(self, form: Form, text: str, *, error: bool = False, about: str | None = None) -> None:
        message = self.query_one(f"#{form}-message", Static)
        message.update(text)
        message.set_class(error, "-error")
        self.error_inputs[form] = about if error else None

    @on(Input.Changed)
    def _field_edited(self, event: Input.Changed) -> None:
        """The resident fixes the field an error named: the message goes (it no longer holds)."""
        for form, input_id in self.error_inputs.items():
            if input_id is not None and event.input.id == input_id and not self.busy[form]:
                self._say(form, "")

    # --- the profile and the images ------------------------------------------------------------------

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): «Текущий e-mail» again (typed fields stay)."""
        self.load_profile()

    @work(exclusive=True, group="profile", exit_on_error=False)
    async def load_profile(self) -> None:
        current = self.query_one("#email-current", Static)
        current.update(self.t("app.loading"))
        try:
            profile = await self.portal(lambda client: client.profile())
        except CallAbandoned:
            return
        except PortalError as exc:
            current.update(self.error_text(exc))
            return
        # A kiosk's screen is seen by strangers: the address stays masked there.
        email = profile.email_masked if self.kabinet.config.kiosk else profile.email
        current.update(f"{self.t('profile.current_email')}: {email}")

    def action_show_form(self, form: Form) -> None:
        """F3 / F4: the e-mail or the password form, its first field focused."""
        self.query_one("#profile-tabs", TabbedContent).active = f"{form}-tab"
        self._input("email-new" if form == "email" else "password-current").focus()

    def action_new_captcha(self) -> None:
        self.fetch_captcha(self.form)

    # --- letters: the receipt and reading reminders by e-mail --------------------------------------

    def _on_letters(self) -> bool:
        return self.query_one("#profile-tabs", TabbedContent).active == "letters-tab"

    def action_show_letters(self) -> None:
        """F6: the «Письма» tab, its first switch focused."""
        self.query_one("#profile-tabs", TabbedContent).active = "letters-tab"
        self.query_one(MailSubscriptionsForm).focus_first()

    @work(exclusive=True, group="letters", exit_on_error=False)
    async def load_letters(self) -> None:
        form = self.query_one(MailSubscriptionsForm)
        try:
            subscriptions = await self.portal(lambda client: client.mail_subscriptions())
        except CallAbandoned:
            return
        except PortalError as exc:
            form.say(self.error_text(exc), error=True)
            return
        form.show(subscriptions)

    @on(MailSubscriptionsForm.Changed)
    def _letters_changed(self, event: MailSubscriptionsForm.Changed) -> None:
        self._save_letters(event.receipt, event.reminders)

    @work(exclusive=True, group="letters", exit_on_error=False)
    async def _save_letters(self, receipt: bool, reminders: bool) -> None:
        form = self.query_one(MailSubscriptionsForm)
        try:
            saved = await self.portal(
                lambda client: client.set_mail_subscriptions(receipt=receipt, reminders=reminders)
            )
        except CallAbandoned:
            return
        except PortalError as exc:
            form.failed(self.error_text(exc))
            return
        form.show(saved, self.t("profile.saved"))

    def fetch_captcha(self, form: Form) -> None:
        if form == "email":
            self._fetch_email_captcha()
        else:
            self._fetch_password_captcha()

    @work(exclusive=True, group="captcha-email", exit_on_error=False)
    async def _fetch_email_captcha(self) -> None:
        await self._load_captcha("email")

    @work(exclusive=True, group="captcha-password", exit_on_error=False)
    async def _fetch_password_captcha(self) -> None:
        await self._load_captcha("password")

    async def _load_captcha(self, form: Form) -> None:
        status = self.query_one(f"#{form}-captcha-status", Static)
        image = self.query_one(f"#{form}-captcha-image", CaptchaImage)
        status.update(self.t("profile.captcha_loading"))
        self._input(f"{form}-captcha").value = ""
        try:
            captcha = await self.portal(lambda client: client.captcha(PURPOSES[form]))
            image.show_png(captcha.image_png)
        except CallAbandoned:
            return
        except PortalError as exc:
            status.update(self.error_text(exc))
            return
        except ValueError:
            status.update(self.t("profile.captcha_unreadable"))
            return
        self.captchas[form] = captcha
        status.update(self.t("profile.captcha_hint"))

    # --- saving ------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_save(self) -> None:
        self.save(self.form)

    @on(Button.Pressed, "#email-save")
    def _save_email(self) -> None:
        self.save("email")

    @on(Button.Pressed, "#password-save")
    def _save_password(self) -> None:
        self.save("password")

    @on(Input.Submitted)
    def _next_or_save(self, event: Input.Submitted) -> None:
        """Enter moves to the next field of the form; in the code's field it saves."""
        event.stop()
        input_id = event.input.id or ""
        form: Form = "password" if input_id.startswith("password-") else "email"
        if input_id == f"{form}-captcha":
            self.save(form)
        else:
            self.focus_next(Input)

    def _field_name(self, field_key: str) -> str:
        return self.t(f"profile.{field_key}")

    def _problem(self, field_key: str, problem_key: str, **params: object) -> str:
        return self.t(
            "input.field_problem", field=self._field_name(field_key), problem=self.t(problem_key, **params)
        )

    def _required(self, field_key: str) -> str:
        return self.t("input.required", field=self._field_name(field_key))

    def email_problems(self) -> tuple[str, str] | None:
        """(input id, message) of the first thing wrong with the e-mail form, or None."""
        new = self._input("email-new").value.strip()
        repeat = self._input("email-new-repeat").value.strip()
        current = self._input("email-current-password").value
        code = self._input("email-captcha").value.strip()
        if not new:
            return "email-new", self._required("new_email")
        local, _, domain = new.rpartition("@")
        if not local or "." not in domain.strip(".") or " " in new:
            return "email-new", self._problem("new_email", "input.email_invalid")
        if not repeat:
            return "email-new-repeat", self._required("new_email_repeat")
        if repeat.casefold() != new.casefold():
            return "email-new-repeat", self.t("profile.emails_differ")
        if not current:
            return "email-current-password", self._required("current_password")
        if not code:
            return "email-captcha", self._required("captcha")
        return None

    def password_problems(self) -> tuple[str, str] | None:
        """(input id, message) of the first thing wrong with the password form, or None."""
        current = self._input("password-current").value
        new = self._input("password-new").value
        repeat = self._input("password-new-repeat").value
        code = self._input("password-captcha").value.strip()
        number = self.kabinet.account_number or ""
        if not current:
            return "password-current", self._required("current_password")
        if not new:
            return "password-new", self._required("new_password")
        if len(new) < MIN_PASSWORD_LENGTH:
            return "password-new", self._problem(
                "new_password", "profile.password_too_short", minimum=MIN_PASSWORD_LENGTH
            )
        if len(new) > MAX_PASSWORD_LENGTH:
            return "password-new", self._problem(
                "new_password", "profile.password_too_long", maximum=MAX_PASSWORD_LENGTH
            )
        if number and new.strip() == number:
            return "password-new", self._problem("new_password", "profile.password_is_account_number")
        if new == current:
            return "password-new", self.t("profile.password_unchanged")
        if not repeat:
            return "password-new-repeat", self._required("new_password_repeat")
        if repeat != new:
            return "password-new-repeat", self.t("profile.passwords_differ")
        if not code:
            return "password-captcha", self._required("captcha")
        return None

    def save(self, form: Form) -> None:
        if self.busy[form]:
            return
        problem = self.email_problems() if form == "email" else self.password_problems()
        if problem is not None:
            input_id, message = problem
            self._say(form, message, error=True, about=input_id)
            self._input(input_id).focus()
            return
        if self.captchas[form] is None:
            self._say(form, self.t("profile.captcha_unreadable"), error=True)
            self.fetch_captcha(form)
            return
        self.busy[form] = True
        if form == "email":
            self._change_email()
        else:
            self._change_password()

    @work(exclusive=True, group="save-email", exit_on_error=False)
    async def _change_email(self) -> None:
        captcha = self.captchas["email"]
        assert captcha is not None
        new = self._input("email-new").value.strip()
        repeat = self._input("email-new-repeat").value.strip()
        current = self._input("email-current-password").value
        code = self._input("email-captcha").value.strip()
        old = str(self.query_one("#email-current", Static).render()).partition(": ")[2]
        self._say("email", self.t("profile.saving"))
        try:
            changed = await self.portal(
                lambda client: client.change_email(current, new, repeat, captcha.captcha_id, code)
            )
        except CallAbandoned:
            self._say("email", "")
            return
        except PortalError as exc:
            self._failed("email", exc)
            return
        finally:
            self.busy["email"] = False
        for input_id in ("email-new", "email-new-repeat", "email-current-password"):
            self._input(input_id).value = ""
        self.captchas["email"] = None
        self._say("email", self.t("profile.email_changed", new=changed.email_masked, old=old))
        self.load_profile()
        self.fetch_captcha("email")

    @work(exclusive=True, group="save-password", exit_on_error=False)
    async def _change_password(self) -> None:
        captcha = self.captchas["password"]
        assert captcha is not None
        current = self._input("password-current").value
        new = self._input("password-new").value
        repeat = self._input("password-new-repeat").value
        code = self._input("password-captcha").value.strip()
        self._say("password", self.t("profile.saving"))
        try:
            await self.portal(
                lambda client: client.change_password(current, new, repeat, captcha.captcha_id, code)
            )
        except CallAbandoned:
            self._say("password", "")
            return
        except PortalError as exc:
            self._failed("password", exc)
            return
        finally:
            self.busy["password"] = False
        for input_id in ("password-current", "password-new", "password-new-repeat"):
            self._input(input_id).value = ""
        self.captchas["password"] = None
        self._say("password", self.t("profile.password_changed"))
        self.fetch_captcha("password")

    def _failed(self, form: Form, error: PortalError) -> None:
        """Say what went wrong, naming the field; a captcha that failed is replaced by a new one."""
        key = PROFILE_ERRORS.get(error.code)
        if key is not None:
            message = self.t(key)
        elif error.code == "weak_password" and self.t.lang == "ru":
            message = error.message  # the portal says which rule, naming the field
        else:
            message = self.error_text(error)
        target = FIELD_INPUTS[form].get(error.field or "")
        # A wrong code stays said while a new one is typed; another field's message goes once it is edited.
        self._say(form, message, error=True, about=None if target == f"{form}-captcha" else target)
        # Any refusal after the captcha was checked may have used it up: a fresh one is always safe.
        if isinstance(error, CaptchaRejected) or error.field in {"captcha_answer", "captcha_id"}:
            self.captchas[form] = None
            self.fetch_captcha(form)
            self._input(f"{form}-captcha").focus()
            return
        self._input(f"{form}-captcha").value = ""
        self.captchas[form] = None
        self.fetch_captcha(form)
        if target is not None:
            self._input(target).focus()
