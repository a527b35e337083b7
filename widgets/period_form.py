"""The period form of the history screens: «С» and «По» dates and «Показать».

Two :class:`~widgets.date_field.DateField` (typed as ``ДД.ММ.ГГГГ`` or picked in the F4 calendar) and a
button. Enter in either field, a click on «Показать» or :meth:`PeriodForm.submit` (a screen binds it to
F2) checks the period and posts :class:`PeriodForm.Submitted`. What is wrong is said on one line under
the form, naming the field and what is allowed: a date in the wrong format, the start after the end, a
period of more than :data:`MAX_YEARS` years. The fields' own messages go there too, so an error never
widens a field and moves «По» and «Показать» away; a message goes as soon as its date is fixed.
Nothing typed is cleared.

By default the period is the last twelve months: from the first day of the month eleven months ago up to
today.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Label, Static

from tui.formatting import billing_today
from tui.i18n import Translator
from widgets.calendar import add_months
from widgets.date_field import DateField

MAX_YEARS: Final = 5
"""The longest period the portal answers for (its own rule, checked here first)."""

MIN_DATE: Final = dt.date(2000, 1, 1)
"""The earliest date the portal accepts in a history request."""

MAX_DATE: Final = dt.date(2099, 12, 31)
"""The latest date the portal accepts in a history request."""

DEFAULT_MONTHS: Final = 12
"""The default period spans this many calendar months, the current one included."""


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last :data:`DEFAULT_MONTHS` months up to ``today`` (from the 1st of the first month)."""
    return add_months(today.replace(day=1), -(DEFAULT_MONTHS - 1)), today


def years_later(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February → 28 February), as the portal counts."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class PeriodForm(Widget):
    """Dates «С» and «По» with «Показать»; see the module docstring."""

    DEFAULT_CSS = """
    PeriodForm {
        width: 1fr;
        height: auto;
    }
    PeriodForm > .period-form--row {
        width: 1fr;
        height: auto;
    }
    PeriodForm .period-form--label {
        width: auto;
        height: 3;
        content-align: left middle;
        padding: 0 1 0 1;
    }
    PeriodForm .period-form--show {
        margin-left: 2;
        min-width: 12;
    }
    PeriodForm > .period-form--error {
        width: 1fr;
        height: auto;
        color: $text-error;
        text-style: bold;
        display: none;
    }
    PeriodForm.-invalid > .period-form--error {
        display: block;
    }
    PeriodForm DateField.-invalid > .date-field--error {
        display: none;  /* said under the form instead: the row keeps its layout */
    }
    """

    class Submitted(Message):
        """The resident asked for the period ``date_from``…``date_to`` (both included, already checked)."""

        def __init__(self, form: PeriodForm, date_from: dt.date, date_to: dt.date) -> None:
            super().__init__()
            self.form = form
            """The form."""
            self.date_from = date_from
            """The first day of the period."""
            self.date_to = date_to
            """The last day of the period."""

        @property
        def control(self) -> PeriodForm:
            """The form."""
            return self.form

    def __init__(
        self,
        *,
        translator: Translator | None = None,
        today: dt.date | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A form holding ``date_from``…``date_to`` (default: the last twelve months up to ``today``)."""
        super().__init__(name=name, id=id, classes=classes)
        self.translator = translator or Translator()
        """Words of the labels and messages."""
        self.today = today or billing_today()
        """Today, for the default period and the calendars."""
        default_from, default_to = default_period(self.today)
        self._initial = (date_from or default_from, date_to or default_to)
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        t = self.translator
        with Horizontal(classes="period-form--row"):
            yield Label(t("common.date_from"), classes="period-form--label")
            yield DateField(
                self._initial[0],
                label=t("field.date_from"),
                translator=t,
                required=True,
                min_date=MIN_DATE,
                max_date=MAX_DATE,
                today=self.today,
                id="period-from",
            )
            yield Label(t("common.date_to"), classes="period-form--label")
            yield DateField(
                self._initial[1],
                label=t("field.date_to"),
                translator=t,
                required=True,
                min_date=MIN_DATE,
                max_date=MAX_DATE,
                today=self.today,
                id="period-to",
            )
            yield Button(t("common.show"), variant="primary", classes="period-form--show")
        yield Static("", classes="period-form--error", markup=False)

    @property
    def date_from_field(self) -> DateField:
        """The «С» field."""
        return self.query_one("#period-from", DateField)

    @property
    def date_to_field(self) -> DateField:
        """The «По» field."""
        return self.query_one("#period-to", DateField)

    @property
    def error(self) -> str | None:
        """The message under the form about the period as a whole, or ``None``."""
        return self._error

    def errors(self) -> list[str]:
        """Every message shown now: the fields' own and the period's."""
        messages = [field.error for field in (self.date_from_field, self.date_to_field) if field.error]
        return [*messages, *([self._error] if self._error else [])]

    def focus(self, scroll_visible: bool = True) -> PeriodForm:
        """Focus the «С» field."""
        self.date_from_field.focus(scroll_visible)
        return self

    def period(self) -> tuple[dt.date, dt.date] | None:
        """Check both dates and the period; show what is wrong and return ``None``, else the dates."""
        start_field, end_field = self.date_from_field, self.date_to_field
        date_from, date_to = start_field.validate(), end_field.validate()
        if date_from is None or date_to is None:
            self._show_error(None)
            (start_field if date_from is None else end_field).focus()
            return None
        t = self.translator
        if date_from > date_to:
            self._show_error(
                t("input.field_problem", field=t("field.date_from"), problem=t("input.period_reversed"))
            )
            start_field.focus()
            return None
        if date_to > years_later(date_from, MAX_YEARS):
            self._show_error(
                t(
                    "input.field_problem",
                    field=t("field.date_to"),
                    problem=t("input.period_too_long", years=MAX_YEARS),
                )
            )
            end_field.focus()
            return None
        self._show_error(None)
        return date_from, date_to

    def submit(self) -> bool:
        """Check the period and post :class:`Submitted` when it is right; returns whether it was."""
        period = self.period()
        if period is None:
            return False
        self.post_message(self.Submitted(self, *period))
        return True

    def show_error(self, message: str | None) -> None:
        """Show ``message`` under the form (e.g. the portal's answer about the period), or clear it."""
        self._show_error(message)

    def _show_error(self, message: str | None) -> None:
        self._error = message
        messages = self.errors()
        self.set_class(bool(messages), "-invalid")
        self.query_one(".period-form--error", Static).update("\n".join(messages))

    @on(DateField.Changed)
    def _date_changed(self) -> None:
        if self._error is not None:  # a period message goes once the dates change
            self._show_error(None)

    @on(DateField.ErrorChanged)
    def _field_error_changed(self, event: DateField.ErrorChanged) -> None:
        event.stop()
        self._show_error(self._error)

    @on(Button.Pressed, ".period-form--show")
    def _show_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    def on_input_submitted(self, event: Message) -> None:
        # Enter in either date field: the field has already checked its own text.
        event.stop()
        self.submit()


__all__ = ["DEFAULT_MONTHS", "MAX_YEARS", "PeriodForm", "default_period", "years_later"]
