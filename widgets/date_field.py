"""A date typed as ``ДД.ММ.ГГГГ`` or chosen in a calendar (F4, Alt+Down or the ``[…]`` button).

The text is read with :func:`tui.formatting.parse_date`, the one date parser of the app. While the
resident types, :attr:`DateField.value` follows the text (a date once it is complete and valid, else
``None``); the field posts :class:`DateField.Changed` whenever that value changes. A message saying what
is wrong — naming the field and the format — appears under the field on Enter, when the focus leaves
the field, or when the screen calls :meth:`DateField.validate` before using the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar, Self

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from tui.formatting import InputError, format_date, parse_date
from tui.i18n import Translator
from widgets.calendar import CalendarPopup
from widgets.keys import translate_bindings

DATE_CHARACTERS = r"[0-9.\-]*"
"""What the input accepts: digits and the separators of ``25.11.2026`` and ``2026-11-25``."""


class DateField(Widget):
    """An input for one date with a calendar popup; see the module docstring for the behaviour."""

    DEFAULT_CSS = """
    DateField {
        width: auto;
        height: auto;
    }
    DateField > .date-field--row {
        width: auto;
        height: auto;
    }
    DateField .date-field--input {
        width: 17;  /* 25.11.2026 and the cursor (11), Input's padding (4) and border (2) */
    }
    DateField .date-field--calendar {
        width: 5;
        min-width: 5;
        height: 3;
        margin-left: 1;
        content-align: center middle;
    }
    DateField > .date-field--error {
        width: auto;
        max-width: 60;
        height: auto;
        color: $text-error;
        display: none;
    }
    DateField.-invalid > .date-field--error {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f4,alt+down", "open_calendar", "Календарь", key_display="F4", id="date-field-calendar"),
    ]

    BINDING_DESCRIPTIONS: ClassVar[dict[str, str]] = {"open_calendar": "calendar.footer"}
    """Catalogue keys of the footer words of :attr:`BINDINGS`, by action."""

    value: reactive[dt.date | None] = reactive(None, init=False, repaint=False)
    """The date in the field, or ``None`` while the text is empty or not a valid date.

    Setting it writes the date into the input (``25.11.2026``) and posts :class:`Changed`.
    """

    class Changed(Message):
        """:attr:`DateField.value` changed: the resident typed or picked a date, or cleared the field."""

        def __init__(self, date_field: DateField, value: dt.date | None) -> None:
            super().__init__()
            self.date_field = date_field
            """The field whose date changed."""
            self.value = value
            """The new date, or ``None`` when the text is not (yet) a valid date."""

        @property
        def control(self) -> DateField:
            """The field whose date changed (for ``@on(DateField.Changed, "#date-from")``)."""
            return self.date_field

    class ErrorChanged(Message):
        """The message under the field appeared, changed or went (``error`` is ``None`` then)."""

        def __init__(self, date_field: DateField, error: str | None) -> None:
            super().__init__()
            self.date_field = date_field
            """The field whose message changed."""
            self.error = error
            """The message now shown, or ``None``."""

        @property
        def control(self) -> DateField:
            """The field whose message changed."""
            return self.date_field

    def __init__(
        self,
        value: dt.date | None = None,
        *,
        label: str | None = None,
        translator: Translator | None = None,
        error_text: Callable[[InputError], str] | None = None,
        required: bool = False,
        min_date: dt.date | None = None,
        max_date: dt.date | None = None,
        today: dt.date | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """A date field holding ``value``.

        ``label`` names the field in error messages («Поле «Начало периода»: …»); ``error_text``, when
        given, writes the whole message for a parse error instead. ``required`` makes an empty field an
        error; ``min_date``/``max_date`` bound both typing and the calendar; ``today`` fixes the
        calendar's today (tests).
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.translator = translator or Translator()
        """Words of the placeholder, the messages and the calendar."""
        self.label = label
        """The field's name in messages, or ``None``."""
        self.error_text = error_text
        """Writes the message for a parse error, overriding the translator's words; or ``None``."""
        self.required = required
        """Whether an empty field is an error (otherwise it is the value ``None``)."""
        self.min_date = min_date
        """The earliest date accepted, or ``None``."""
        self.max_date = max_date
        """The latest date accepted, or ``None``."""
        self.today = today
        """Today for the calendar; ``None`` means the system date."""
        self._error: str | None = None
        self._calendar_open = False
        self.set_reactive(DateField.value, value)
        translate_bindings(self, self.translator, self.BINDING_DESCRIPTIONS)

    # --- parts ---------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(classes="date-field--row"):
            yield Input(
                format_date(self.value) if self.value else "",
                placeholder=self.translator("common.date_hint"),
                restrict=DATE_CHARACTERS,
                max_length=10,
                validate_on=[],  # this widget sets -invalid itself, with its own message
                classes="date-field--input",
            )
            button = Button(Content("[…]"), compact=True, classes="date-field--calendar")
            button.tooltip = self.translator("calendar.open")
            button.can_focus = False  # F4 / Alt+Down from the input; the button is for the mouse
            yield button
        yield Static("", classes="date-field--error", markup=False)

    @property
    def input(self) -> Input:
        """The text input inside the field."""
        return self.query_one(".date-field--input", Input)

    @property
    def error(self) -> str | None:
        """The message shown under the field, or ``None`` when none is shown."""
        return self._error

    def focus(self, scroll_visible: bool = True) -> Self:
        """Focus the text input (the field itself takes no focus)."""
        self.input.focus(scroll_visible)
        return self

    def update_language(self) -> None:
        """Re-read the words after ``translator.set_language(...)``; a shown error is re-checked."""
        translate_bindings(self, self.translator, self.BINDING_DESCRIPTIONS)
        self.input.placeholder = self.translator("common.date_hint")
        self.query_one(".date-field--calendar", Button).tooltip = self.translator("calendar.open")
        if self._error is not None:
            self.validate()
        self.refresh_bindings()

    # --- reading the text ----------------------------------------------------------------------------

    def parse(self, text: str) -> dt.date | None:
        """The date in ``text`` (``None`` for an empty optional field); :class:`InputError` otherwise."""
        if not text.strip() and not self.required:
            return None
        day = parse_date(text)
        if self.min_date is not None and day < self.min_date:
            raise InputError("calendar.before_min", date=format_date(self.min_date))
        if self.max_date is not None and day > self.max_date:
            raise InputError("calendar.after_max", date=format_date(self.max_date))
        return day

    def message_for(self, error: InputError) -> str:
        """The text shown for ``error``: ``error_text``'s, else «Поле «…»: …» in the translator's words."""
        if self.error_text is not None:
            return self.error_text(error)
        if self.label:
            return self.translator(
                "input.field_problem", field=self.label, problem=self.translator(error.key, **error.params)
            )
        return error.message(self.translator)

    def validate(self) -> dt.date | None:
        """Check the text now, show or clear the message, and return the date (``None`` if invalid or empty).

        A screen calls it before using the value; :attr:`is_valid` then says whether to go on.
        """
        try:
            day = self.parse(self.input.value)
        except InputError as error:
            self._show_error(self.message_for(error))
            self.value = None
            return None
        self._show_error(None)
        self.value = day
        return day

    @property
    def is_valid(self) -> bool:
        """Whether the text is a valid date (or empty in an optional field)."""
        try:
            self.parse(self.input.value)
        except InputError:
            return False
        return True

    def _show_error(self, message: str | None) -> None:
        changed = message != self._error
        self._error = message
        self.set_class(message is not None, "-invalid")
        self.input.set_class(message is not None, "-invalid")
        self.query_one(".date-field--error", Static).update(message or "")
        if changed:  # a form may show the message in a place of its own (PeriodForm does)
            self.post_message(self.ErrorChanged(self, message))

    @on(Input.Changed, ".date-field--input")
    def _text_changed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            day = self.parse(event.value)
        except InputError as error:
            self.value = None
            if self._error is not None:  # once shown, the message follows the typing
                self._show_error(self.message_for(error))
            return
        self.value = day
        self._show_error(None)

    @on(Input.Submitted, ".date-field--input")
    def _text_submitted(self) -> None:
        # Not stopped: a form may treat Enter in its last field as "submit".
        self.validate()

    @on(Input.Blurred, ".date-field--input")
    def _text_left(self) -> None:
        if not self._calendar_open:
            self.validate()

    def watch_value(self, value: dt.date | None) -> None:
        if self.is_mounted:
            text = self.input.value
            try:
                shown = self.parse(text)
            except InputError:
                shown = None
            if shown != value and (value is not None or shown is not None):
                # Set by code, not by typing: the text follows (None set by code clears the field).
                with self.input.prevent(Input.Changed):
                    self.input.value = format_date(value) if value is not None else ""
                self._show_error(None)
        self.post_message(self.Changed(self, value))

    # --- the calendar --------------------------------------------------------------------------------

    def action_open_calendar(self) -> None:
        """Open the calendar popup on the field's date; a chosen date fills the field."""
        if self.disabled or self._calendar_open:
            return
        try:
            initial = self.parse(self.input.value)
        except InputError:
            initial = None
        self._calendar_open = True
        self.app.push_screen(
            CalendarPopup(
                initial,
                today=self.today,
                min_date=self.min_date,
                max_date=self.max_date,
                field_label=self.label,
                translator=self.translator,
            ),
            self._calendar_closed,
        )

    def _calendar_closed(self, chosen: dt.date | None) -> None:
        self._calendar_open = False
        if chosen is not None:
            self.input.value = format_date(chosen)
            self.validate()
        self.input.focus()

    @on(Button.Pressed, ".date-field--calendar")
    def _button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_open_calendar()


__all__ = ["DATE_CHARACTERS", "DateField"]
