"""A month calendar driven by the keyboard, and the popup that picks a date with it.

No date picker ships with Textual, so :class:`MonthCalendar` draws its own grid: a title with the month,
a row of weekday names (Monday first, as in Russia) and six week rows. Days are marked without
relying on colour: the cursor day is ``[20]`` in reverse video, the field's current date ``(18)``,
today is underlined with a ``•`` beside it, days outside the allowed range are struck through.

:class:`CalendarPopup` is a ``ModalScreen[date | None]``: it dismisses with the chosen date on Enter
and with ``None`` on Esc.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from tui.formatting import format_date, month_name
from tui.i18n import Translator

CELL_WIDTH = 4
"""Cells per day: a marker, two digits, a marker (``[20]``)."""

GRID_WIDTH = 7 * CELL_WIDTH
"""Width of the day grid in cells."""

HEADER_LINES = 2
"""Lines above the first week: the month title and the weekday names."""

WEEKS_SHOWN = 6
"""Week rows always drawn, so the calendar keeps its height from month to month."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier), clamped to the month's last day (31.01 → 28.02)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def month_weeks(year: int, month: int) -> list[list[dt.date | None]]:
    """The month as :data:`WEEKS_SHOWN` weeks of seven days, Monday first; other months' days are ``None``."""
    weeks: list[list[dt.date | None]] = [
        [day if day.month == month else None for day in week]
        for week in _calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    while len(weeks) < WEEKS_SHOWN:
        weeks.append([None] * 7)
    return weeks


class MonthCalendar(Widget, can_focus=True):
    """A month grid with a day cursor: arrows move by a day or a week, PageUp/PageDown by a month.

    Home/End go to the first and last day of the month, Enter (or a click) chooses the cursor day and
    posts :class:`MonthCalendar.DateSelected`.
    """

    DEFAULT_CSS = """
    MonthCalendar {
        width: 28;
        height: 8;
        background: $surface;
        color: $foreground;
    }
    MonthCalendar > .month-calendar--title {
        text-style: bold;
        color: $text-primary;
    }
    MonthCalendar > .month-calendar--weekday {
        color: $text-muted;
    }
    MonthCalendar > .month-calendar--cursor {
        text-style: bold reverse;
    }
    MonthCalendar:focus > .month-calendar--cursor {
        background: $accent;
        color: $text;
        text-style: bold;
    }
    MonthCalendar > .month-calendar--selected {
        text-style: bold;
        color: $text-accent;
    }
    MonthCalendar > .month-calendar--today {
        text-style: underline;
        color: $text-success;
    }
    MonthCalendar > .month-calendar--disabled {
        text-style: strike;
        color: $text-disabled;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "month-calendar--title",
        "month-calendar--weekday",
        "month-calendar--cursor",
        "month-calendar--selected",
        "month-calendar--today",
        "month-calendar--disabled",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "День назад", show=False),
        Binding("right", "move(1)", "День вперёд", show=False),
        Binding("up", "move(-7)", "Неделя назад", show=False),
        Binding("down", "move(7)", "Неделя вперёд", show=False),
        Binding("pageup", "move_months(-1)", "Месяц назад", show=False),
        Binding("pagedown", "move_months(1)", "Месяц вперёд", show=False),
        Binding("home", "month_start", "Начало месяца", show=False),
        Binding("end", "month_end", "Конец месяца", show=False),
        Binding("enter,space", "select", "Выбрать", show=False),
    ]

    cursor_date: reactive[dt.date] = reactive(dt.date.min, init=False)
    """The day under the cursor; Enter chooses it. Always within ``min_date``…``max_date``."""

    class DateSelected(Message):
        """The resident chose :attr:`value` (Enter or a click on a day)."""

        def __init__(self, month_calendar: MonthCalendar, value: dt.date) -> None:
            super().__init__()
            self.month_calendar = month_calendar
            """The calendar the date was chosen in."""
            self.value = value
            """The chosen day."""

        @property
        def control(self) -> MonthCalendar:
            """The calendar the date was chosen in."""
            return self.month_calendar

    def __init__(
        self,
        cursor_date: dt.date | None = None,
        *,
        selected: dt.date | None = None,
        today: dt.date | None = None,
        min_date: dt.date | None = None,
        max_date: dt.date | None = None,
        translator: Translator | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """A calendar showing the month of ``cursor_date`` (default: ``selected``, else today).

        ``selected`` is the date the field holds now (marked ``(18)``); ``today`` defaults to the
        system date (tests pass a fixed one); days outside ``min_date``…``max_date`` cannot be chosen.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.translator = translator or Translator()
        """Gives the weekday names; month names come from :func:`tui.formatting.month_name`."""
        self.today = today or dt.date.today()
        """The day marked as today."""
        self.selected = selected
        """The field's current date, marked ``(18)``; ``None`` when the field is empty."""
        self.min_date = min_date
        """The earliest day that can be chosen, or ``None``."""
        self.max_date = max_date
        """The latest day that can be chosen, or ``None``."""
        self.set_reactive(MonthCalendar.cursor_date, self._clamp(cursor_date or selected or self.today))

    def _clamp(self, day: dt.date) -> dt.date:
        if self.min_date is not None and day < self.min_date:
            return self.min_date
        if self.max_date is not None and day > self.max_date:
            return self.max_date
        return day

    def is_allowed(self, day: dt.date) -> bool:
        """Whether ``day`` lies within ``min_date``…``max_date``."""
        return (self.min_date is None or day >= self.min_date) and (
            self.max_date is None or day <= self.max_date
        )

    def validate_cursor_date(self, day: dt.date) -> dt.date:
        """Keep the cursor within the allowed range."""
        return self._clamp(day)

    # --- actions -------------------------------------------------------------------------------------

    def _shift(self, days: int) -> None:
        try:
            self.cursor_date = self.cursor_date + dt.timedelta(days=days)
        except OverflowError:  # beyond year 1 or 9999: stay put
            self.app.bell()

    def action_move(self, days: int) -> None:
        """Move the cursor ``days`` days (negative: back)."""
        self._shift(days)

    def action_move_months(self, months: int) -> None:
        """Move the cursor to the same day ``months`` months later (negative: earlier)."""
        try:
            self.cursor_date = add_months(self.cursor_date, months)
        except ValueError:  # beyond year 1 or 9999
            self.app.bell()

    def action_month_start(self) -> None:
        """Move the cursor to the month's first day."""
        self.cursor_date = self.cursor_date.replace(day=1)

    def action_month_end(self) -> None:
        """Move the cursor to the month's last day."""
        last = _calendar.monthrange(self.cursor_date.year, self.cursor_date.month)[1]
        self.cursor_date = self.cursor_date.replace(day=last)

    def action_select(self) -> None:
        """Choose the cursor day."""
        self.post_message(self.DateSelected(self, self.cursor_date))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_LINES or offset.x >= GRID_WIDTH:
            return
        weeks = month_weeks(self.cursor_date.year, self.cursor_date.month)
        week = offset.y - HEADER_LINES
        if week >= len(weeks):
            return
        day = weeks[week][offset.x // CELL_WIDTH]
        if day is not None and self.is_allowed(day):
            self.cursor_date = day
            self.action_select()

    # --- drawing -------------------------------------------------------------------------------------

    def weekday_names(self) -> list[str]:
        """Monday-first short weekday names in the translator's language (``Пн`` … ``Вс``)."""
        names = self.translator("calendar.weekdays").split()
        return names if len(names) == 7 else ["", "", "", "", "", "", ""]

    def title(self) -> str:
        """``Ноябрь 2026``: the month shown."""
        name = month_name(self.cursor_date.month, self.translator.lang)
        return f"{name[:1].upper()}{name[1:]} {self.cursor_date.year}"

    def _day_cell(self, day: dt.date) -> Text:
        is_cursor = day == self.cursor_date
        is_selected = day == self.selected
        is_today = day == self.today
        if is_cursor:
            left, right = "[", "]"
        elif is_selected:
            left, right = "(", ")"
        elif is_today:
            left, right = " ", "•"
        else:
            left, right = " ", " "
        style = Style()
        if not self.is_allowed(day):
            style += self.get_component_rich_style("month-calendar--disabled", partial=True)
        if is_today:
            style += self.get_component_rich_style("month-calendar--today", partial=True)
        if is_selected:
            style += self.get_component_rich_style("month-calendar--selected", partial=True)
        cell = Text(left)
        cell.append(f"{day.day:>2}", style)
        cell.append(right)
        if is_cursor:
            cell.stylize(self.get_component_rich_style("month-calendar--cursor", partial=True))
        return cell

    def render(self) -> Text:
        """The title, the weekday row and six week rows, each :data:`GRID_WIDTH` cells wide."""
        lines = Text(no_wrap=True, overflow="crop")
        lines.append(
            Text(self.title().center(GRID_WIDTH), self.get_component_rich_style("month-calendar--title"))
        )
        lines.append("\n")
        weekday_style = self.get_component_rich_style("month-calendar--weekday", partial=True)
        for name in self.weekday_names():
            lines.append(f" {name:<2} "[:CELL_WIDTH], weekday_style)
        for week in month_weeks(self.cursor_date.year, self.cursor_date.month):
            lines.append("\n")
            for day in week:
                lines.append(self._day_cell(day) if day is not None else Text(" " * CELL_WIDTH))
        return lines


class CalendarPopup(ModalScreen[dt.date | None]):
    """A modal month calendar: Enter dismisses with the chosen date, Esc with ``None``.

    ``self.app.push_screen(CalendarPopup(field.value), callback)`` — or ``await
    push_screen_wait(...)`` inside a worker.
    """

    DEFAULT_CSS = """
    CalendarPopup {
        align: center middle;
        background: $background 60%;
    }
    CalendarPopup > #calendar-box {
        width: 46;
        height: auto;
        padding: 0 2;
        border: round $border;
        border-title-align: center;
        background: $surface;
    }
    CalendarPopup MonthCalendar {
        margin-left: 6;  /* centred in the box's 40 cells */
    }
    CalendarPopup #calendar-today {
        margin-top: 1;
        color: $text-muted;
    }
    CalendarPopup .calendar-hint {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Отмена", show=False),
    ]

    def __init__(
        self,
        initial: dt.date | None = None,
        *,
        today: dt.date | None = None,
        min_date: dt.date | None = None,
        max_date: dt.date | None = None,
        field_label: str | None = None,
        translator: Translator | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A popup opened on ``initial`` (or today); ``field_label`` names the field in the title."""
        super().__init__(name=name, id=id, classes=classes)
        self.translator = translator or Translator()
        """Gives the title, weekday names and hints."""
        self.initial = initial
        """The date the field held when the popup opened (marked in the grid), or ``None``."""
        self.today = today or dt.date.today()
        """The day marked as today."""
        self.min_date = min_date
        """The earliest day that can be chosen, or ``None``."""
        self.max_date = max_date
        """The latest day that can be chosen, or ``None``."""
        self.field_label = field_label
        """The field the date is for, shown in the title; ``None`` for a plain «Выберите дату»."""

    @property
    def month_calendar(self) -> MonthCalendar:
        """The grid inside the popup."""
        return self.query_one(MonthCalendar)

    def compose(self) -> ComposeResult:
        t = self.translator
        with Vertical(id="calendar-box") as box:
            box.border_title = (
                t("calendar.title_for", field=self.field_label) if self.field_label else t("calendar.title")
            )
            yield MonthCalendar(
                self.initial,
                selected=self.initial,
                today=self.today,
                min_date=self.min_date,
                max_date=self.max_date,
                translator=t,
            )
            yield Static(t("calendar.today", date=format_date(self.today)), id="calendar-today", markup=False)
            yield Static(t("calendar.hint_move"), classes="calendar-hint", markup=False)
            yield Static(t("calendar.hint_jump"), classes="calendar-hint", markup=False)
            yield Static(t("calendar.hint_pick"), classes="calendar-hint", markup=False)

    def on_mount(self) -> None:
        self.month_calendar.focus()

    def on_month_calendar_date_selected(self, event: MonthCalendar.DateSelected) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Close without choosing a date."""
        self.dismiss(None)


__all__ = ["CalendarPopup", "MonthCalendar", "add_months", "month_weeks"]
