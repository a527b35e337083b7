"""The baseline of bench/startup.py: a minimal Textual app (a header, an input, a button and a footer)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Button, Footer, Header, Input


class MinimalApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Лицевой счет")
        yield Button("Войти")
        yield Footer()


if __name__ == "__main__":
    MinimalApp().run()
