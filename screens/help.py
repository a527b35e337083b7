"""Справка (F1): the FAQ inside the app, opened at the part about the screen it was called from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Markdown

from screens.base import PortalScreen, ScreenSpec
from tui.help import help_markdown
from widgets.header import Header


class HelpScreen(PortalScreen):
    """The help document with the current screen's topic first; Esc or F1 closes it."""

    SPEC = ScreenSpec("help", "help.title", offered_to=None)
    DEFAULT_CSS = """
    HelpScreen VerticalScroll {
        height: 1fr;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,f1", "app.pop_screen", "footer.back", id="back"),
    ]

    def __init__(self, topic: str) -> None:
        super().__init__()
        #: The FAQ topic of the screen F1 was pressed on.
        self.topic = topic

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="help-scroll"):
            yield Markdown(help_markdown(self.t.lang, self.topic), id="help-text")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.t("help.title")
        self.query_one("#help-scroll", VerticalScroll).focus()
