"""Показания: the logged-in resident types «Новое показание» per meter and presses «Внести показания».

The submission itself is :class:`~screens.readings_submitter.ReadingsSubmitter`, shared with readings
without login.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Static

from screens.base import CallAbandoned, PortalScreen, ScreenSpec
from screens.readings_submitter import ReadingsSubmitter
from tui.errors import PortalError
from tui.models import (
    MetersOverview,
    ReadingWindow,
)
from tui.reading_window import window_text
from widgets.header import Header
from widgets.meter_readings import (
    SIGN_ERROR,
    MeterReadingsForm,
)
from widgets.status import LoadingStatus


class ReadingsScreen(PortalScreen):
    """«Показания»: the window, a row per meter, «Внести показания» (F2, or Enter in the last field)."""

    SPEC = ScreenSpec("readings", "readings.title", help_topic="readings", menu_key="f2", order=10)
    DEFAULT_CSS = """
    ReadingsScreen #readings-window { padding: 0 1; text-style: bold; height: auto; }
    ReadingsScreen #readings-actions { height: 3; padding: 0 1; }
    ReadingsScreen #readings-status { width: 1fr; height: auto; content-align-vertical: middle; }
    ReadingsScreen #readings-status.-error { color: $text-error; text-style: bold; }
    ReadingsScreen #readings-status.-warning { color: $text-warning; }
    ReadingsScreen #readings-status.-ok { color: $text-success; }
    ReadingsScreen #readings-submit { margin-left: 1; }
    """
    BINDINGS = [
        Binding("f2", "submit", "readings.submit", id="submit"),
        Binding("f5,ctrl+r", "refresh", "footer.refresh", id="refresh"),
        Binding("escape", "back", "footer.back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The meters and the window as last loaded.
        self.overview: MetersOverview | None = None
        self._submitter: ReadingsSubmitter | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Static("", id="readings-window", markup=False)
        yield LoadingStatus(translator=t, id="readings-loading")
        yield MeterReadingsForm(t, id="readings-form")
        with Horizontal(id="readings-actions"):
            yield Static("", id="readings-status", markup=False)
            yield Button(t("readings.submit"), id="readings-submit", variant="primary")
        yield Footer()

    @property
    def form(self) -> MeterReadingsForm:
        return self.query_one("#readings-form", MeterReadingsForm)

    @property
    def submitter(self) -> ReadingsSubmitter:
        if self._submitter is None:
            self._submitter = ReadingsSubmitter(
                self,
                self.form,
                self.query_one("#readings-status", Static),
                self.query_one("#readings-submit", Button),
                lambda entries, key: self.portal(lambda client: client.submit_readings(entries, key)),
            )
        return self._submitter

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        self.load_meters(focus=True)

    # --- loading ----------------------------------------------------------------------------------------

    @work(exclusive=True, group="meters", exit_on_error=False)
    async def load_meters(self, focus: bool = False) -> None:
        loading = self.query_one("#readings-loading", LoadingStatus)
        loading.show_loading()
        try:
            overview = await self.portal(lambda client: client.meters())
        except CallAbandoned:
            loading.clear()
            return
        except PortalError as exc:
            loading.show_error(self.error_text(exc))
            return
        loading.clear()
        self.overview = overview
        await self.form.set_meters(overview.meters)
        self.show_window(overview.window)
        if focus:
            self.form.focus_first()

    def show_window(self, window: ReadingWindow) -> None:
        label = self.query_one("#readings-window", Static)
        if window.open:
            label.update(window_text(self.t, window))
        else:
            label.update(f"{SIGN_ERROR} {window_text(self.t, window)}")
        self.query_one("#readings-submit", Button).disabled = not window.open

    # --- actions ----------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load_meters()

    def action_submit(self) -> None:
        self.submit_readings()

    @on(Button.Pressed, "#readings-submit")
    @on(MeterReadingsForm.SubmitRequested)
    def _submit_requested(self) -> None:
        self.submit_readings()

    @on(MeterReadingsForm.ValueChanged)
    def _value_changed(self) -> None:
        self.submitter.value_changed()

    @on(LoadingStatus.RetryRequested)
    def _retry(self) -> None:
        self.load_meters()

    @work(exclusive=False, group="submit", exit_on_error=False)
    async def submit_readings(self) -> None:
        """Send the filled rows; after anything was stored, load the meters again."""
        if self.overview is None:
            return
        if not self.overview.window.open:
            status = self.query_one("#readings-status", Static)
            status.update(f"{SIGN_ERROR} {window_text(self.t, self.overview.window)}")
            status.set_class(True, "-error")
            return
        if await self.submitter.submit():
            self.load_meters()
