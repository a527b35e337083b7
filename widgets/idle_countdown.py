"""A large countdown of the seconds left before an idle session ends."""

from __future__ import annotations

from collections.abc import Callable

from textual.reactive import reactive
from textual.widgets import Static


class IdleCountdown(Static):
    """``1 5`` … ``1`` in bold spaced digits, with a sentence below (``describe(seconds)``)."""

    DEFAULT_CSS = """
    IdleCountdown {
        width: 100%;
        height: auto;
        content-align: center middle;
        text-align: center;
        text-style: bold;
        color: $warning;
        padding: 1 0;
    }
    """

    seconds_left: reactive[int] = reactive(0)
    """Whole seconds until the session ends."""

    def __init__(self, describe: Callable[[int], str], seconds_left: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.describe = describe
        """The sentence under the number, in the interface's language, for a number of seconds."""
        self.set_reactive(IdleCountdown.seconds_left, seconds_left)

    def on_mount(self) -> None:
        self._show()

    def watch_seconds_left(self) -> None:
        self._show()

    def _show(self) -> None:
        # Digits spaced out read as "large" even on a console font of one size.
        number = " ".join(str(self.seconds_left))
        self.update(f"{number}\n\n{self.describe(self.seconds_left)}")
