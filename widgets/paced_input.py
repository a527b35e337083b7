"""The terminal read no faster than the app handles what it read (shared terminals: kiosk, SSH).

Textual's Linux driver reads the terminal in a thread as fast as bytes come and posts one event per key
or mouse report. An app that handles input slower than it arrives queues events without end: a
keystroke flood over SSH grew one app past a gigabyte. :class:`PacedLinuxDriver` sends a marker after
every :data:`BATCH` events, the same way as the events; the app passes it on to the widget that gets
the keys (the focused one, else the screen), and it comes back when that widget has handled everything
before it. With :data:`MARKERS_OUT` markers not back, the thread stops reading. The unread bytes stay
in the terminal, whose buffer fills, and whoever writes to it waits: ``kabinet serve-ssh`` then holds
the client back (and ends a flood). A marker not back after :data:`STALL_SECONDS` (its widget went
away with it, or the app is busy) is given up: input is slowed, never stopped.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import partial
from typing import Any, Final

from textual import events
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

BATCH: Final = 32
MARKERS_OUT: Final = 2
STALL_SECONDS: Final = 2.0


class PacedLinuxDriver(LinuxDriver):
    """A :class:`LinuxDriver` whose input thread waits while the app is behind with its input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._posted = 0
        self._markers: deque[threading.Event] = deque()
        self.waits = 0
        """How often the reader had to wait for the app."""

    def process_message(self, message: Message) -> None:  # in the input thread
        super().process_message(message)
        self._posted += 1
        if self._posted % BATCH:
            return
        marker = threading.Event()
        self._markers.append(marker)
        # Sent like the events (in order on the app's queue), so it cannot overtake them.
        self.send_message(events.Callback(callback=partial(self._pass_marker, marker)))
        while len(self._markers) > MARKERS_OUT:
            self._wait_for(self._markers.popleft())

    def _pass_marker(self, marker: threading.Event) -> None:
        """In the app, after it took the events before the marker: on to where it sent the keys."""
        try:
            app = self._app
            # Keys the app holds back until a focus change has happened (application/key_order.py) are not
            # handled yet: the marker waits behind them.
            hold = getattr(app, "call_after_held_input", None)
            if hold is not None and hold(partial(self._pass_marker, marker)):
                return
            target = app.focused or app.screen
        except Exception:  # no screen yet or any more
            marker.set()
            return
        if not target.call_later(marker.set):
            marker.set()

    def _wait_for(self, marker: threading.Event) -> None:
        if marker.is_set():
            return
        self.waits += 1
        deadline = time.monotonic() + STALL_SECONDS
        while not marker.wait(0.1):
            if self.exit_event.is_set() or time.monotonic() > deadline:
                return


def paced(driver_class: type[Driver]) -> type[Driver]:
    """The paced driver in place of Textual's Linux one; any other driver (Windows, headless) as is."""
    return PacedLinuxDriver if driver_class is LinuxDriver else driver_class
