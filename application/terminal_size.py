"""The app's part that watches the terminal's size: below 80×24 a message covers the broken layout.

:class:`TerminalSizeMixin` is one of :class:`app.KabinetApp`'s bases (before ``App[None]``); the message
itself is :class:`screens.too_small.TooSmallScreen`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.geometry import Size

if TYPE_CHECKING:
    from textual.app import App

    _AppBase = App[None]
else:
    _AppBase = object

MIN_WIDTH, MIN_HEIGHT = 80, 24


class TerminalSizeMixin(_AppBase):
    """Shows the too-small message while the terminal is smaller than 80×24, takes it away after."""

    #: The too-small message is on the screen stack.
    _too_small_shown: bool = False

    if TYPE_CHECKING:
        #: Set by the app once its first screen is up.
        _started: bool

    def on_resize(self, event: events.Resize) -> None:
        # This handler runs before App._on_resize has stored the new size: go by the event's.
        if self._started:  # before the first screen is up, on_mount checks the size itself
            self._check_size(event.size)

    def _check_size(self, size: Size | None = None) -> None:
        from screens.too_small import TooSmallScreen

        size = size or self.size
        small = size.width < MIN_WIDTH or size.height < MIN_HEIGHT
        if small and not self._too_small_shown:
            self._too_small_shown = True
            self.push_screen(TooSmallScreen())
        elif not small and self._too_small_shown:
            if isinstance(self.screen, TooSmallScreen):
                self._too_small_shown = False
                self.pop_screen()
            else:
                # Something was pushed over the message meanwhile: look again once it is on top.
                self.set_timer(0.1, self._check_size)
