"""An input field that keeps out what it cannot take — and says so, instead of dropping it silently.

A plain ``Input(restrict=…)`` swallows a letter typed into a reading or an account number: the resident
sees nothing happen and does not know why. :class:`FilteredInput` rings the bell, says in a
notification which characters the field takes and which one was refused («Поле «Новое показание»:
только цифры и запятая (или точка) — «a» не вводится»), and posts :class:`FilteredInput.Refused` so a
form may also show it beside the field.
"""

from __future__ import annotations

import re
import time
from typing import Any

from textual.message import Message
from textual.widgets import Input

from tui.i18n import Translator

#: A field says a refusal at most once within this many seconds (a burst of letters makes one message).
REPEAT_SECONDS = 2.0


class FilteredInput(Input):
    """An ``Input`` with ``restrict`` whose refusals are said in words."""

    class Refused(Message):
        """Something typed or pasted was kept out of the field; ``text`` says why."""

        def __init__(self, field: FilteredInput, text: str) -> None:
            super().__init__()
            self.field = field
            self.text = text

        @property
        def control(self) -> FilteredInput:
            return self.field

    def __init__(self, translator: Translator, *, field: str, allowed: str, **kwargs: Any) -> None:
        """``field``: the field's name as its label says it; ``allowed``: what it takes, in words."""
        super().__init__(**kwargs)
        self.t = translator
        self.field_name = field
        self.allowed = allowed
        self._typed = ""
        self._said_at: float | None = None

    def replace(self, text: str, start: int, end: int) -> None:
        self._typed = text
        super().replace(text, start, end)

    def refusal(self, typed: str) -> str:
        """Why ``typed`` was kept out: a character the field does not take, or no room left."""
        t = self.t
        wrong = [char for char in typed if self.restrict and re.fullmatch(self.restrict, char) is None]
        if wrong:
            shown = "".join(dict.fromkeys(wrong))[:10]
            return t("input.refused_characters", field=self.field_name, allowed=self.allowed, typed=shown)
        return t("input.refused_too_long", field=self.field_name, maximum=self.max_length)

    def restricted(self) -> None:
        self.app.bell()
        text = self.refusal(self._typed)
        self.post_message(self.Refused(self, text))
        now = time.monotonic()
        if self._said_at is not None and now - self._said_at < REPEAT_SECONDS:
            return  # a burst of letters: one message (the note beside a reading shows the latest)
        self._said_at = now
        self.notify(text, severity="warning", timeout=4, markup=False)


def account_number_input(
    translator: Translator, *, field: str, id: str, placeholder: bool = True
) -> FilteredInput:
    """A field for an account number as a receipt prints it: digits and spaces, at most 24 characters.

    ``field``: its name as its label says it; ``placeholder``: show the example number in it.
    """
    return FilteredInput(
        translator,
        field=field,
        allowed=translator("input.allowed_digits"),
        placeholder=translator("login.account_number_placeholder") if placeholder else "",
        restrict=r"[0-9 ]*",
        max_length=24,
        id=id,
    )


__all__ = ["FilteredInput", "account_number_input"]
