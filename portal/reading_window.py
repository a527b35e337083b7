"""The reading window: the days of the month when the contractor accepts meter readings.

The one place this rule lives: the account summary shows it and the readings submission enforces it.
A window may run over the month's end (the 25th to the 5th); a day past a short month's end means its
last day (the 31st of February is the 28th or 29th).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from portal.kit.clock import add_months, month_start
from portal.settings import Settings

_MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


@dataclass(frozen=True)
class ReadingWindow:
    """Whether readings are accepted today, for which period, and until / from when.

    An open window has ``closes_on`` (none when always open); a closed one has ``opens_on``.
    """

    open: bool
    #: The billing period (first day of the month) readings submitted now are for.
    period: dt.date
    always_open: bool
    #: The configured days of the month (None when always open).
    start_day: int | None
    end_day: int | None
    #: The last day (inclusive) readings are accepted, while the window is open.
    closes_on: dt.date | None
    #: The day the window opens next, while it is closed.
    opens_on: dt.date | None
    #: The window in the resident's words («Приём показаний с 15 по 25 число. Приём открыт до 25 ноября.»).
    message: str


def day_month(day: dt.date, today: dt.date) -> str:
    """``15 декабря`` (with the year when it is not this year's)."""
    words = f"{day.day} {_MONTHS_GENITIVE[day.month - 1]}"
    return words if day.year == today.year else f"{words} {day.year}"


def _day_of(month: dt.date, day: int) -> dt.date:
    """``day`` of ``month``, or its last day when the month is shorter."""
    last = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=min(day, last))


def reading_window(settings: Settings, today: dt.date) -> ReadingWindow:
    """The reading window on ``today`` (a date in billing time, see :meth:`portal.kit.clock.Clock.today`).

    Readings are accepted from ``reading_window_start_day`` to ``reading_window_end_day``, both
    included, or every day when ``reading_window_always_open`` is set.
    """
    period = month_start(today)
    if settings.reading_window_always_open:
        return ReadingWindow(
            open=True,
            period=period,
            always_open=True,
            start_day=None,
            end_day=None,
            closes_on=None,
            opens_on=None,
            message="Показания принимаются в любой день месяца.",
        )
    start, end = settings.reading_window_start_day, settings.reading_window_end_day
    rule = f"Приём показаний с {start} по {end} число."
    # A window that runs over the month's end opened last month: look at the neighbouring windows.
    windows: list[tuple[dt.date, dt.date]] = []
    for offset in (-1, 0, 1, 2):
        month = add_months(period, offset)
        closes_month = month if end >= start else add_months(month, 1)
        windows.append((_day_of(month, start), _day_of(closes_month, end)))
    for opens, closes in windows:
        if opens <= today <= closes:
            return ReadingWindow(
                open=True,
                period=period,
                always_open=False,
                start_day=start,
                end_day=end,
                closes_on=closes,
                opens_on=None,
                message=f"{rule} Приём открыт до {day_month(closes, today)}.",
            )
    opens_on = min(opens for opens, _closes in windows if opens > today)
    return ReadingWindow(
        open=False,
        period=period,
        always_open=False,
        start_day=start,
        end_day=end,
        closes_on=None,
        opens_on=opens_on,
        message=f"{rule} Следующий приём откроется {day_month(opens_on, today)}.",
    )
