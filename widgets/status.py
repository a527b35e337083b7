"""One status line for a screen's background work: a spinner while loading, an error with a retry hint.

A screen calls :meth:`LoadingStatus.show_loading` when its worker starts,
:meth:`LoadingStatus.show_error` with the resident's message when it fails, and
:meth:`LoadingStatus.clear` when it is done. The spinner is
ASCII (``| / - \\``) so it turns in any console font, and the state is always said in words
(«Загрузка…», «Ошибка: …»), never by colour alone.
"""

from __future__ import annotations

import enum
from typing import ClassVar, Final

from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from tui.i18n import Translator

SPINNER_FRAMES: Final = ("|", "/", "-", "\\")
"""Frames of the spinner, ASCII so any console shows them."""

SPINNER_INTERVAL: Final = 0.15
"""Seconds per spinner frame."""


class StatusState(enum.Enum):
    """What the status line shows."""

    IDLE = "idle"
    """Nothing (the line is hidden)."""
    LOADING = "loading"
    """The spinner and the loading text."""
    ERROR = "error"
    """The error and how to retry."""


class LoadingStatus(Static):
    """A one-line status: hidden when idle, a spinner with text while loading, an error with a retry hint.

    A click on the error posts :class:`LoadingStatus.RetryRequested` (the keyboard uses the screen's
    retry key, named in the hint).
    """

    DEFAULT_CSS = """
    LoadingStatus {
        width: 1fr;
        height: auto;
        padding: 0 1;
        display: none;
    }
    LoadingStatus.-loading {
        display: block;
        color: $text-muted;
    }
    LoadingStatus.-error {
        display: block;
        color: $text-error;
        background: $error-muted;
        text-style: bold;
    }
    """

    state: reactive[StatusState] = reactive(StatusState.IDLE, init=False)
    """What the line shows now; change it with :meth:`show_loading`, :meth:`show_error` and :meth:`clear`."""

    class RetryRequested(Message):
        """The resident clicked the error: the screen should run the failed work again."""

        def __init__(self, status: LoadingStatus) -> None:
            super().__init__()
            self.status = status
            """The status line that was clicked."""

        @property
        def control(self) -> LoadingStatus:
            """The status line that was clicked."""
            return self.status

    FRAMES: ClassVar[tuple[str, ...]] = SPINNER_FRAMES
    """Spinner frames; a subclass may use other characters."""

    def __init__(
        self,
        *,
        translator: Translator | None = None,
        retry_key: str = "F5",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A hidden status line; ``retry_key`` is the key named in the error hint (``F5: повторить``)."""
        super().__init__("", name=name, id=id, classes=classes, markup=False)
        self.translator = translator or Translator()
        """Words of «Загрузка…», «Ошибка: …» and the retry hint."""
        self.retry_key = retry_key
        """The key the screen binds to retrying, as shown to the resident."""
        self.text: str = ""
        """The loading text or the error message shown (without spinner and hint)."""
        self._frame = 0
        self._timer: Timer | None = None

    def show_loading(self, text: str | None = None) -> None:
        """Show the spinner with ``text`` (default «Загрузка…»)."""
        self.text = text or self.translator("app.loading")
        self._frame = 0
        self.state = StatusState.LOADING
        if self._timer is None:
            self._timer = self.set_interval(SPINNER_INTERVAL, self._spin)
        else:
            self._timer.resume()
        self._show()

    def show_error(self, message: str, *, retry: bool = True) -> None:
        """Show «Ошибка: ``message``» and, when ``retry``, the hint «F5: повторить»."""
        self.text = message
        self.state = StatusState.ERROR
        self._stop()
        self._show(retry=retry)

    def clear(self) -> None:
        """Hide the line (the work is done)."""
        self.text = ""
        self.state = StatusState.IDLE
        self._stop()
        self._show()

    @property
    def is_loading(self) -> bool:
        """Whether the spinner is shown."""
        return self.state is StatusState.LOADING

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def _spin(self) -> None:
        if self.state is StatusState.LOADING:
            self._frame = (self._frame + 1) % len(self.FRAMES)
            self._show()

    def _show(self, *, retry: bool = True) -> None:
        self.set_class(self.state is StatusState.LOADING, "-loading")
        self.set_class(self.state is StatusState.ERROR, "-error")
        if self.state is StatusState.LOADING:
            self.update(f"{self.FRAMES[self._frame]} {self.text}")
        elif self.state is StatusState.ERROR:
            line = self.translator("status.error", message=self.text)
            if retry:
                line = f"{line} {self.translator('status.retry_hint', key=self.retry_key)}"
            self.update(line)
        else:
            self.update("")

    def on_click(self) -> None:
        if self.state is StatusState.ERROR:
            self.post_message(self.RetryRequested(self))


__all__ = ["SPINNER_FRAMES", "LoadingStatus", "StatusState"]
