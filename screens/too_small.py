"""Shown instead of a broken layout while the terminal is smaller than 80×24."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from app import KabinetApp


class TooSmallScreen(ModalScreen[None]):
    """Asks for a bigger window; goes away by itself when the terminal grows."""

    DEFAULT_CSS = """
    TooSmallScreen {
        align: center middle;
        background: $background;
    }
    TooSmallScreen Static {
        width: auto;
        max-width: 100%;
        padding: 0 1;
        text-align: center;
    }
    """

    def compose(self) -> ComposeResult:
        app = cast("KabinetApp", self.app)
        yield Static(app.t("app.too_small", width=80, height=24))
