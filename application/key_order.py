"""Keys typed in one burst land where they were meant: after a key that may move the focus, wait.

Textual hands each key to the focused widget through that widget's message queue and goes on with the
next key at once. A Tab (or an Enter that submits a field and focuses the next one, or a function key
that opens a screen) takes effect only once it has come back up to the app — by then the keys typed
after it have already been handed to the *old* field. Over SSH a resident's typing arrives in bursts, so
``3500012007`` Tab ``Demo-Pass-2026`` sent at once left ``35000120072026`` in the account field and the
password empty.

:class:`KeyOrderMixin` (one of :class:`app.KabinetApp`'s bases, before ``App[None]``) therefore holds the
keys that follow any key which is not plain text until every message that key set off on the screen has
been handled (bounded by :data:`SETTLE_SECONDS`), then hands them on in order.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

    _AppBase = App[None]
else:
    _AppBase = object

#: The longest the keys after a focus-moving key wait (a screen that never settles must not eat them).
SETTLE_SECONDS = 0.5


def _busy(pump: MessagePump) -> bool:
    """Whether ``pump`` has messages queued or one being handled (``Queue.task_done`` follows each)."""
    queue: asyncio.Queue[object] = pump._message_queue
    return bool(getattr(queue, "_unfinished_tasks", 0)) or not queue.empty()


class KeyOrderMixin(_AppBase):
    """Hands keys to widgets only once the key before has had its effect (focus moved, screen opened)."""

    _held_input: deque[events.Key | events.Paste | Callable[[], object]] | None = None
    _settle_task: asyncio.Task[None] | None = None

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key | events.Paste) or event.is_forwarded:
            await super().on_event(event)
            return
        if self._held_input is not None:
            self._held_input.append(event)
            return
        await self._input_now(event)

    def call_after_held_input(self, callback: Callable[[], object]) -> bool:
        """Call ``callback`` once the keys held now have been handed on; False when none are held.

        The paced terminal reader (widgets/paced_input.py) waits this way too, so keys held here count
        as not yet handled and a flood cannot pile them up in this queue.
        """
        if self._held_input is None:
            return False
        self._held_input.append(callback)
        return True

    async def _input_now(self, event: events.Key | events.Paste) -> None:
        await super().on_event(event)
        if isinstance(event, events.Key) and (not event.is_printable or not isinstance(self.focused, Input)):
            # Tab, Enter, F-keys, Escape, a letter key outside a field: what they do may move the focus
            # or open a screen; the next keys wait for it. Text typed into a field does not.
            self._held_input = deque()
            self._settle_task = asyncio.get_running_loop().create_task(self._wait_until_settled())

    def _settled(self) -> bool:
        try:
            screen = self.screen
        except Exception:
            return True
        if _busy(self):
            return False
        return not any(_busy(node) for node in screen.walk_children(with_self=True))

    async def _wait_until_settled(self) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        spins = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0 if spins < 50 else 0.002)
            spins += 1
            if self._settled():
                break
        self.call_later(self._release_held_input)

    async def _release_held_input(self) -> None:
        held, self._held_input = self._held_input, None
        while held:
            item = held.popleft()
            if not isinstance(item, events.Key | events.Paste):
                item()  # a waiter for the keys before it (they have been handed on)
                continue
            await self._input_now(item)
            if self._held_input is not None:
                # That key moved the focus again: the rest wait behind it, still in order.
                self._held_input.extend(held)
                return
