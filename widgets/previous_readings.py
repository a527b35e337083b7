"""Step 2 of readings without login: a «Предыдущее показание» field per meter, Up/Down between them."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input


class PreviousReadingsList(VerticalScroll):
    """Step 2: a «Предыдущее показание» field per meter; Up/Down move, Enter in the last one checks."""

    DEFAULT_CSS = """
    PreviousReadingsList { height: 1fr; }
    PreviousReadingsList .previous-meter { height: auto; margin-bottom: 1; border-left: blank; }
    PreviousReadingsList .previous-meter:focus-within { border-left: thick $accent; }
    PreviousReadingsList .previous-title { text-style: bold; }
    PreviousReadingsList .previous-entry { height: auto; }
    PreviousReadingsList .previous-label { width: auto; padding-right: 1; }
    PreviousReadingsList Input.previous-input {
        width: 16; height: 1; border: none; padding: 0 1; background: $boost;
    }
    PreviousReadingsList Input.previous-input:focus { background: $accent 30%; }
    PreviousReadingsList .previous-note { width: 1fr; height: auto; padding-left: 1; }
    PreviousReadingsList .previous-note.-error { color: $text-error; text-style: bold; }
    PreviousReadingsList .previous-note.-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]
    can_focus = False

    class Done(Message):
        """Enter in the last field: check the previous readings."""

    @property
    def inputs(self) -> list[Input]:
        return list(self.query(Input))

    def action_move(self, step: int) -> None:
        inputs = self.inputs
        focused = self.screen.focused
        if focused in inputs:
            index = inputs.index(focused) + step
            if 0 <= index < len(inputs):
                inputs[index].focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = self.inputs
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self.post_message(self.Done())
