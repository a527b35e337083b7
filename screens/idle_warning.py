"""The last seconds of an idle session on a shared terminal: a countdown that any key cancels."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.idle_countdown import IdleCountdown

if TYPE_CHECKING:
    from app import KabinetApp


class IdleWarningScreen(ModalScreen[None]):
    """Covers the resident's screen while counting down; the app removes it on a key or at zero.

    The app (not this screen) sees the key that cancels it, so that key does nothing else.
    """

    DEFAULT_CSS = """
    IdleWarningScreen { align: center middle; background: $background 90%; }
    IdleWarningScreen Vertical#idle-box {
        width: 64;
        max-width: 100%;
        height: auto;
        border: heavy $warning;
        background: $surface;
        padding: 1 2;
    }
    IdleWarningScreen #idle-title { text-style: bold; width: 100%; text-align: center; }
    IdleWarningScreen .idle-note { width: 100%; text-align: center; }
    """

    def __init__(self, seconds_left: int) -> None:
        super().__init__()
        self._initial = seconds_left

    def compose(self) -> ComposeResult:
        t = cast("KabinetApp", self.app).t
        with Vertical(id="idle-box"):
            yield Static(t("kiosk.idle_title"), id="idle-title")
            yield IdleCountdown(
                lambda seconds: t("session.idle_warning", seconds=seconds), self._initial, id="idle-countdown"
            )
            yield Static(t("kiosk.idle_keep"), classes="idle-note")
            yield Static(t("kiosk.idle_wipe"), classes="idle-note")

    def show_seconds(self, seconds_left: int) -> None:
        self.query_one(IdleCountdown).seconds_left = seconds_left
