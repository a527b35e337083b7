"""The date range of every history endpoint: one parser, one set of rules, one set of messages.

Routes take it as a dependency (``period: DateRangeQuery``): ``date_from`` and ``date_to`` are required
ISO dates (``YYYY-MM-DD``), the start is not after the end and the range spans at most five years.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from portal.kit.clock import add_months, month_start
from portal.kit.errors import DomainError

#: The longest range a history answers (a statement of five years is 60 months).
MAX_YEARS = 5
#: Dates outside these bounds are refused: the billing history lives well inside them, and month
#: arithmetic near year 9999 would overflow.
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)


class DateOutOfRange(DomainError):
    status_code = 422
    code = "date_out_of_range"
    message = f"Дата должна быть не раньше {MIN_DATE:%d.%m.%Y} и не позже {MAX_DATE:%d.%m.%Y}."


class InvalidPeriod(DomainError):
    status_code = 422
    code = "invalid_period"
    message = "Начало периода позже конца."
    field = "date_from"


class PeriodTooLong(DomainError):
    status_code = 422
    code = "period_too_long"
    message = f"Период не может быть длиннее {MAX_YEARS} лет: сократите его."
    field = "date_to"


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: A real day from :data:`MIN_DATE` to :data:`MAX_DATE` (2000-01-01 … 2099-12-31) as ``YYYY-MM-DD``: the
#: schema of a date parameter, so that the supported years are in the API document, not only in a 422.
#: Days 29–31 only in the months that have them; 29 February in leap years (every fourth year here).
DATE_PATTERN = (
    r"^20[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)$|^20(?:[02468][048]|[13579][26])-02-29$"
)


def _iso_date_only(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` in ASCII digits, nothing after: pydantic would also take timestamps and
    date-times, which nobody means."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        # The error type starts with ``date`` so the shared handler names the expected format.
        raise PydanticCustomError("date_format", "Input should be a date in the format YYYY-MM-DD")
    return value


# The documented schema is the pattern alone (``format: date`` would only repeat it less exactly).
IsoDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date_only),
    WithJsonSchema({"type": "string", "pattern": DATE_PATTERN}),
]


#: A month from 2000-01 to 2099-12 as ``YYYY-MM``: how every month travels in the API (answers, and the
#: receipt's month in URLs). A month is not a day, so it never travels as its first day.
MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"


def month_text(period: dt.date) -> str:
    """``2026-10`` for any day of October 2026."""
    return f"{period:%Y-%m}"


def _month_from_text(value: Any) -> Any:
    """``2026-10`` read back as its first day (an answer read back by a test); anything else as it is."""
    if isinstance(value, str) and re.fullmatch(MONTH_PATTERN, value):
        return dt.date(int(value[:4]), int(value[5:]), 1)
    return value


#: A month in an answer: the services keep the first day (a ``date``), the wire says ``YYYY-MM``.
Month = Annotated[
    dt.date,
    BeforeValidator(_month_from_text),
    PlainSerializer(month_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "examples": ["2026-10"]}),
]


@dataclass(frozen=True)
class DateRange:
    """A validated range of days, both ends included."""

    date_from: dt.date
    date_to: dt.date

    @property
    def first_month(self) -> dt.date:
        """The first day of the month ``date_from`` falls in."""
        return month_start(self.date_from)

    @property
    def last_month(self) -> dt.date:
        """The first day of the month ``date_to`` falls in."""
        return month_start(self.date_to)

    def months(self) -> Iterator[dt.date]:
        """Every month touching the range (first days), oldest first."""
        period = self.first_month
        while period <= self.last_month:
            yield period
            period = add_months(period, 1)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February of a leap year → 28 February
        return day.replace(year=day.year + years, day=28)


def date_range(date_from: dt.date, date_to: dt.date) -> DateRange:
    """Check a range the resident asked for; raises :class:`ApiError` (422) naming the problem."""
    for field, value in (("date_from", date_from), ("date_to", date_to)):
        if not MIN_DATE <= value <= MAX_DATE:
            raise DateOutOfRange(field=field)
    if date_from > date_to:
        raise InvalidPeriod()
    if date_to > _add_years(date_from, MAX_YEARS):
        raise PeriodTooLong()
    return DateRange(date_from, date_to)


def parse_date_range(date_from: str, date_to: str) -> DateRange | None:
    """The range of two query values exactly as :func:`date_range_query` takes them, or None for
    anything it would refuse (for those who then let the route answer why)."""
    if not (_ISO_DATE.fullmatch(date_from) and _ISO_DATE.fullmatch(date_to)):
        return None
    try:
        return date_range(dt.date.fromisoformat(date_from), dt.date.fromisoformat(date_to))
    except (ValueError, DomainError):
        return None


def date_range_query(
    date_from: Annotated[
        IsoDate, Query(description="Начало периода, ГГГГ-ММ-ДД (включительно).", examples=["2026-01-01"])
    ],
    date_to: Annotated[
        IsoDate, Query(description="Конец периода, ГГГГ-ММ-ДД (включительно).", examples=["2026-10-31"])
    ],
) -> DateRange:
    """The ``date_from`` / ``date_to`` query parameters as a :class:`DateRange`."""
    return date_range(date_from, date_to)


DateRangeQuery = Annotated[DateRange, Depends(date_range_query)]
