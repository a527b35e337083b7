"""The command palette in the interface's language, finding commands by their title and their help.

Textual's palette says "No matches found" in English whatever the app's language, and its system
commands provider matches the title only: «пароль» found nothing though «Профиль — Сменить e-mail или
пароль» is there. Here the help text counts too (a little less than the title).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.align import Align
from rich.text import Text
from textual import command
from textual.system_commands import SystemCommandsProvider
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from tui.i18n import Translator

#: A match in a command's help weighs this much against the same match in its title.
HELP_WEIGHT = 0.8


class Commands(SystemCommandsProvider):
    """The app's commands (``App.get_system_commands``), found by title or help."""

    async def search(self, query: str) -> command.Hits:
        matcher = self.matcher(query)
        for name, help_text, callback, *_ in self.app.get_system_commands(self.screen):
            score = max(matcher.match(name), HELP_WEIGHT * matcher.match(help_text or ""))
            if score > 0:
                yield command.Hit(score, matcher.highlight(name), callback, help=help_text)


class CommandPalette(command.CommandPalette):
    """Textual's command palette with its words from the app's catalogue."""

    def __init__(self, t: Translator, **kwargs: object) -> None:
        super().__init__(placeholder=t("app.palette_prompt"), **kwargs)  # type: ignore[arg-type]
        self._t = t

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's own method with the sentence translated (it has no attribute for it).
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(command.CommandList).add_option(
                    Option(
                        Align.center(Text(self._t("app.palette_no_matches"), style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


__all__ = ["CommandPalette", "Commands"]
