"""Передача показаний без входа: the account number, its meters' previous readings, then the new ones.

Step 1 «Номер лицевого счета» and «ОК» find the account's meters (serials masked, no values shown).
Step 2 «Предыдущее показание» per meter proves the account is the resident's: every meter that has a
previous reading is needed (an empty one is named before asking); a mismatch gets one
message that never says which meter was wrong, and too many attempts a time to wait. Step 3 is the
same form as for a logged-in resident, with «Новое показание» and «Внести показания». The short-lived
readings token stays inside the client and is forgotten when the resident leaves the screen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from enum import IntEnum
from typing import TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ContentSwitcher, Footer, Input, Label, Static

from screens.base import CallAbandoned, PortalScreen, ScreenSpec
from screens.readings_submitter import ReadingsSubmitter
from tui.errors import PortalError, PortalUnavailable, SessionExpired
from tui.formatting import InputError, parse_reading, reading_example
from tui.models import PublicLookup, PublicMeter, ReadingEntry, ReadingWindow, SubmitResult
from tui.reading_window import window_text
from widgets.filtered_input import FilteredInput, account_number_input
from widgets.header import Header
from widgets.meter_readings import SIGN_ERROR, SIGN_OK, MeterReadingsForm
from widgets.previous_readings import PreviousReadingsList

T = TypeVar("T")


class Step(IntEnum):
    """Where the resident is."""

    ACCOUNT = 1
    PREVIOUS = 2
    NEW = 3


_STEP_IDS = {Step.ACCOUNT: "step-account", Step.PREVIOUS: "step-previous", Step.NEW: "step-new"}


class ReadingsWithoutLoginScreen(PortalScreen):
    """«Передача показаний без входа» (F5 on the login screen)."""

    SPEC = ScreenSpec(
        "readings_without_login",
        "readings_without_login.title",
        help_topic="readings_without_login",
        offered_to="public",
        order=3,
    )
    DEFAULT_CSS = """
    ReadingsWithoutLoginScreen #public-window { padding: 0 1; text-style: bold; height: auto; }
    ReadingsWithoutLoginScreen #public-steps { height: 1fr; padding: 0 1; }
    ReadingsWithoutLoginScreen #public-steps > * { height: 1fr; }
    ReadingsWithoutLoginScreen .intro { margin-bottom: 1; height: auto; }
    ReadingsWithoutLoginScreen #account-number { width: 30; }
    ReadingsWithoutLoginScreen #public-actions { height: 3; padding: 0 1; }
    ReadingsWithoutLoginScreen #public-status { width: 1fr; height: auto; }
    ReadingsWithoutLoginScreen #public-status.-error { color: $text-error; text-style: bold; }
    ReadingsWithoutLoginScreen #public-status.-warning { color: $text-warning; }
    ReadingsWithoutLoginScreen #public-status.-ok { color: $text-success; }
    ReadingsWithoutLoginScreen #public-action { margin-left: 1; width: 22; }
    ReadingsWithoutLoginScreen #public-form { padding: 0; }
    """
    BINDINGS = [
        # One key, a word per step: check_action shows and runs only the current step's.
        Binding("f2", "find", "readings_without_login.find", id="find"),
        Binding("f2", "check", "readings_without_login.check", id="check"),
        Binding("f2", "submit", "readings_without_login.submit", id="submit"),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The step shown.
        self.step = Step.ACCOUNT
        #: The account's meters as step 1 found them.
        self.lookup: PublicLookup | None = None
        self._window: ReadingWindow | None = None
        self._submitter: ReadingsSubmitter | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Static("", id="public-window", markup=False)
        with ContentSwitcher(initial=_STEP_IDS[Step.ACCOUNT], id="public-steps"):
            with Vertical(id="step-account"):
                yield Static(t("readings_without_login.intro"), classes="intro")
                yield Label(t("readings_without_login.account_number"))
                yield account_number_input(
                    t,
                    field=t("readings_without_login.account_number"),
                    id="account-number",
                    placeholder=False,
                )
            with Vertical(id="step-previous"):
                yield Static("", id="previous-intro", classes="intro", markup=False)
                yield PreviousReadingsList(id="previous-list")
            with Vertical(id="step-new"):
                yield Static("", id="new-intro", classes="intro", markup=False)
                yield MeterReadingsForm(t, public=True, id="public-form")
        with Horizontal(id="public-actions"):
            yield Static("", id="public-status", markup=False)
            yield Button(t("readings_without_login.find"), id="public-action", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        self.query_one("#public-window", Static).display = False
        self.query_one("#account-number", Input).focus()

    def on_unmount(self) -> None:
        self._forget_access()

    def _forget_access(self) -> None:
        client = self.kabinet.client
        if client is not None:
            client.forget_readings_access()

    # --- steps ------------------------------------------------------------------------------------------

    @property
    def form(self) -> MeterReadingsForm:
        return self.query_one("#public-form", MeterReadingsForm)

    def _say(self, text: str, kind: str = "") -> None:
        status = self.query_one("#public-status", Static)
        status.update(text)
        for name in ("ok", "error", "warning"):
            status.set_class(name == kind, f"-{name}")

    def _show_step(self, step: Step) -> None:
        t = self.t
        self.step = step
        self.query_one("#public-steps", ContentSwitcher).current = _STEP_IDS[step]
        labels = {
            Step.ACCOUNT: "readings_without_login.find",
            Step.PREVIOUS: "readings_without_login.check",
            Step.NEW: "readings_without_login.submit",
        }
        button = self.query_one("#public-action", Button)
        button.label = t(labels[step])
        button.disabled = step is Step.NEW and self._window is not None and not self._window.open
        self.refresh_bindings()

    def _show_window(self, window: ReadingWindow) -> None:
        self._window = window
        label = self.query_one("#public-window", Static)
        text = window_text(self.t, window)
        label.update(text if window.open else f"{SIGN_ERROR} {text}")
        label.display = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        steps = {"find": Step.ACCOUNT, "check": Step.PREVIOUS, "submit": Step.NEW}
        if action in steps:
            return self.step is steps[action]
        return True

    def action_find(self) -> None:
        if self.step is Step.ACCOUNT:
            self._find()

    def action_check(self) -> None:
        if self.step is Step.PREVIOUS:
            self._check()

    def action_back(self) -> None:
        """One step back; from the first step, back to the login screen."""
        if self.step is Step.ACCOUNT:
            self.app.pop_screen()
            return
        self._forget_access()
        self._say("")
        if self.step is Step.NEW:
            self._show_step(Step.PREVIOUS)
            inputs = self.query_one("#previous-list", PreviousReadingsList).inputs
            if inputs:
                inputs[0].focus()
        else:
            self._show_step(Step.ACCOUNT)
            self.query_one("#account-number", Input).focus()

    def action_submit(self) -> None:
        if self.step is Step.NEW:
            self._submit_new()

    @on(Button.Pressed, "#public-action")
    def _action_button(self) -> None:
        if self.step is Step.ACCOUNT:
            self._find()
        elif self.step is Step.PREVIOUS:
            self._check()
        else:
            self._submit_new()

    @on(Input.Submitted, "#account-number")
    def _find(self) -> None:
        number = self.query_one("#account-number", Input).value.replace(" ", "")
        if not number:
            self._say(
                self.t("input.required", field=self.t("readings_without_login.account_number")), "error"
            )
            return
        self.find_account(number)

    @on(PreviousReadingsList.Done)
    def _check(self) -> None:
        self.check_previous()

    @on(MeterReadingsForm.ValueChanged)
    def _value_changed(self) -> None:
        self.submitter.value_changed()

    @on(MeterReadingsForm.SubmitRequested)
    def _submit_new(self) -> None:
        self.submit_new()

    # --- step 1: the account ----------------------------------------------------------------------------

    @work(exclusive=True, group="public", exit_on_error=False)
    async def find_account(self, number: str) -> None:
        if self._busy:
            return
        self._busy = True
        self._say(self.t("app.loading"))
        try:
            lookup = await self._call(lambda: self.client.public_lookup(number))
        except CallAbandoned:
            self._say("")
            return
        except PortalError as exc:
            self._say(f"{SIGN_ERROR} {self.error_text(exc)}", "error")
            self.query_one("#account-number", Input).focus()
            return
        finally:
            self._busy = False
        self._say("")
        self.lookup = lookup
        self._show_window(lookup.window)
        if not lookup.meters:
            self._say(self.t("readings_without_login.no_meters"), "error")
            return
        await self._build_previous(lookup)
        self._show_step(Step.PREVIOUS)
        self._focus_first_previous()

    def _focus_first_previous(self) -> None:
        inputs = [field for field in self.query_one("#previous-list", PreviousReadingsList).inputs]
        enabled = [field for field in inputs if not field.disabled]
        if enabled:
            enabled[0].focus()

    async def _build_previous(self, lookup: PublicLookup) -> None:
        t = self.t
        self.query_one("#previous-intro", Static).update(
            t("readings_without_login.account_for", account=lookup.account_number)
            + "\n"
            + t("readings_without_login.previous_intro")
        )
        listing = self.query_one("#previous-list", PreviousReadingsList)
        await listing.remove_children()
        for meter in lookup.meters:
            title = f"{self._service(meter.service, meter.service_name)}, {t.unit(meter.unit)} · "
            title += f"{t('readings.serial')} {meter.serial_masked}"
            example = reading_example(meter.integer_digits, meter.decimals)
            note = Static(
                t("readings.format_hint", example=example)
                if meter.previous_required
                else t("readings_without_login.no_previous"),
                id=f"previous-note-{meter.meter_id}",
                classes="previous-note -hint",
                markup=False,
            )
            await listing.mount(
                Vertical(
                    Static(title, classes="previous-title", markup=False),
                    Horizontal(
                        Label(t("readings_without_login.previous"), classes="previous-label"),
                        FilteredInput(
                            t,
                            field=t("readings_without_login.previous"),
                            allowed=t("input.allowed_reading"),
                            restrict=r"[0-9 ,.\u00a0]*",
                            max_length=24,
                            id=f"previous-{meter.meter_id}",
                            classes="previous-input",
                            disabled=not meter.previous_required,
                        ),
                        note,
                        classes="previous-entry",
                    ),
                    classes="previous-meter",
                )
            )

    def _service(self, code: str, name: str) -> str:
        key = f"service.{code}"
        return self.t(key) if self.t.has(key) else name

    # --- step 2: the previous readings ------------------------------------------------------------------

    def _check_previous_field(self, meter: PublicMeter) -> Decimal | None:
        """The typed previous reading of ``meter`` if it fits the meter's format; the note says why not."""
        t = self.t
        field = self.query_one(f"#previous-{meter.meter_id}", Input)
        note = self.query_one(f"#previous-note-{meter.meter_id}", Static)
        if not meter.previous_required:
            return None
        if not field.value.strip():
            note.update(
                t("readings.format_hint", example=reading_example(meter.integer_digits, meter.decimals))
            )
            note.set_classes("previous-note -hint")
            return None
        try:
            value = parse_reading(field.value, meter.integer_digits, meter.decimals)
        except InputError as error:
            note.update(f"{SIGN_ERROR} {error.message(t)}")
            note.set_classes("previous-note -error")
            return None
        note.update("")
        note.set_classes("previous-note")
        return value

    @on(Input.Changed, ".previous-input")
    def _previous_typed(self, event: Input.Changed) -> None:
        if self.lookup is None:
            return
        meter = next((m for m in self.lookup.meters if f"previous-{m.meter_id}" == event.input.id), None)
        if meter is not None:
            self._check_previous_field(meter)

    @work(exclusive=True, group="public", exit_on_error=False)
    async def check_previous(self) -> None:
        lookup = self.lookup
        if lookup is None or self._busy:
            return
        t = self.t
        typed: dict[int, str] = {}
        wrong: list[Input] = []
        empty: list[Input] = []
        for meter in lookup.meters:
            field = self.query_one(f"#previous-{meter.meter_id}", Input)
            value = self._check_previous_field(meter)
            if value is None:
                if field.value.strip():
                    wrong.append(field)
                elif meter.previous_required:
                    empty.append(field)
                    note = self.query_one(f"#previous-note-{meter.meter_id}", Static)
                    note.update(f"{SIGN_ERROR} {t('readings_without_login.previous_missing')}")
                    note.set_classes("previous-note -error")
                continue
            typed[meter.meter_id] = format(value, "f")
        if wrong:
            wrong[0].focus()
            self._say(f"{SIGN_ERROR} {t('readings.fix_errors')}", "error")
            return
        if empty:
            # The portal checks every meter's previous reading together: one missing is a mismatch.
            needed = sum(1 for meter in lookup.meters if meter.previous_required)
            self._say(
                f"{SIGN_ERROR} "
                + t("readings_without_login.previous_required", missing=len(empty), total=needed),
                "error",
            )
            empty[0].focus()
            return
        self._busy = True
        self._say(t("readings_without_login.checking"))
        try:
            access = await self._call(lambda: self.client.public_check(lookup.account_number, typed))
        except CallAbandoned:
            self._say("")
            return
        except PortalError as exc:
            # One message for any mismatch: it never says which meter was wrong.
            self._say(f"{SIGN_ERROR} {self.error_text(exc)}", "error")
            return
        finally:
            self._busy = False
        self._show_window(access.window)
        self._say(f"{SIGN_OK} {t('readings_without_login.verified')}", "ok")
        self.query_one("#new-intro", Static).update(
            t("readings_without_login.account_for", account=access.account_number)
        )
        await self.form.set_meters(access.meters)
        self._show_step(Step.NEW)
        self.form.focus_first()

    # --- step 3: the new readings -----------------------------------------------------------------------

    @property
    def submitter(self) -> ReadingsSubmitter:
        if self._submitter is None:
            self._submitter = ReadingsSubmitter(
                self,
                self.form,
                self.query_one("#public-status", Static),
                self.query_one("#public-action", Button),
                self._send,
            )
        return self._submitter

    async def _send(self, entries: Sequence[ReadingEntry], key: str) -> SubmitResult:
        return await self._call(lambda: self.client.public_submit(entries, key))

    @work(exclusive=False, group="public-submit", exit_on_error=False)
    async def submit_new(self) -> None:
        if self.step is not Step.NEW:
            return
        if self._window is not None and not self._window.open:
            self._say(f"{SIGN_ERROR} {window_text(self.t, self._window)}", "error")
            return
        stored = await self.submitter.submit()
        if not self.client.has_readings_access:
            # The readings token lapsed: prove the account again; the typed values stay in the form.
            self._show_step(Step.PREVIOUS)
            inputs = self.query_one("#previous-list", PreviousReadingsList).inputs
            if inputs:
                inputs[0].focus()
            return
        if stored:
            await self.refresh_meters()

    async def refresh_meters(self) -> None:
        try:
            overview = await self._call(lambda: self.client.public_meters())
        except (CallAbandoned, PortalError):
            return
        await self.form.set_meters(overview.meters)

    # --- the portal -------------------------------------------------------------------------------------

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        """A public call; an unreachable portal offers a retry (there is no session to renew here)."""
        from screens.dialogs import RetryDialog

        while True:
            try:
                return await call()
            except PortalUnavailable:
                if not await self.app.push_screen_wait(RetryDialog(self.t("connection.portal_unreachable"))):
                    raise CallAbandoned from None

    def error_text(self, error: Exception) -> str:
        if isinstance(error, SessionExpired):
            return self.t("readings_without_login.access_expired")
        return super().error_text(error)
