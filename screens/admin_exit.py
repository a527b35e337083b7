"""The administrator's way out of kiosk mode: a PIN, checked against the hash in the admin config."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.config import ADMIN_CONFIG_PATH
from tui.kiosk import verify_pin

if TYPE_CHECKING:
    from app import KabinetApp


class AdminExitScreen(ModalScreen[bool]):
    """Asks for the administrator's PIN; dismisses with True when it is right (the app then exits).

    Wrong PINs are throttled by the app's :class:`tui.kiosk.PinThrottle` (it outlives this dialog, so
    closing and reopening it does not reset the wait).
    """

    DEFAULT_CSS = """
    AdminExitScreen { align: center middle; }
    AdminExitScreen Vertical#admin-exit {
        width: 60;
        max-width: 100%;
        height: auto;
        border: heavy $error;
        background: $surface;
        padding: 1 2;
    }
    AdminExitScreen #admin-exit-title { text-style: bold; }
    AdminExitScreen #admin-exit-message { color: $error; height: auto; }
    AdminExitScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False)]

    @property
    def kabinet(self) -> KabinetApp:
        return cast("KabinetApp", self.app)

    def compose(self) -> ComposeResult:
        t = self.kabinet.t
        with Vertical(id="admin-exit"):
            yield Static(t("kiosk.admin_exit_title"), id="admin-exit-title")
            yield Label(t("kiosk.pin"))
            yield Input(password=True, max_length=64, id="admin-pin")
            yield Static("", id="admin-exit-message")
            yield Static(t("kiosk.admin_exit_hint"), id="admin-exit-hint", classes="hint")

    def on_mount(self) -> None:
        if self.kabinet.config.admin_pin_hash is None:
            path = self.kabinet.config.admin_path or ADMIN_CONFIG_PATH
            self._say(self.kabinet.t("kiosk.pin_not_set", path=path))
            self.query_one("#admin-pin", Input).disabled = True
            # Without a PIN, Enter closes nothing: only the way back is offered.
            self.query_one("#admin-exit-hint", Static).update(self.kabinet.t("kiosk.admin_exit_hint_no_pin"))
        else:
            self.query_one("#admin-pin", Input).focus()

    def _say(self, text: str) -> None:
        self.query_one("#admin-exit-message", Static).update(text)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted, "#admin-pin")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        self._check(event.value)

    @work(exclusive=True, group="admin-pin", exit_on_error=False)
    async def _check(self, pin: str) -> None:
        t = self.kabinet.t
        throttle = self.kabinet.pin_throttle
        pin_hash = self.kabinet.config.admin_pin_hash
        field = self.query_one("#admin-pin", Input)
        wait = throttle.wait_seconds()
        if wait > 0:
            self._say(t("kiosk.pin_wait", seconds=int(-(-wait // 1))))
            return
        if pin_hash is None or not pin:
            return
        field.disabled = True
        self._say(t("kiosk.pin_checking"))
        try:
            right = await asyncio.to_thread(verify_pin, pin_hash, pin)
        finally:
            field.value = ""
            field.disabled = False
            field.focus()
        if right:
            throttle.record_success()
            self.dismiss(True)
        else:
            delay = throttle.record_failure()
            self._say(t("kiosk.pin_wrong", seconds=int(-(-delay // 1))))
