"""The portal's notion of now, replaceable in tests (a closed reading window, expired sessions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

#: Billing periods, reading windows and receipt dates are in the billing center's local time.
BILLING_TZ = ZoneInfo("Europe/Moscow")


class Clock:
    """Gives the current moment; tests move it with :meth:`set` and :meth:`advance`."""

    def __init__(self, now: Callable[[], dt.datetime] | None = None) -> None:
        self._now = now
        self._fixed: dt.datetime | None = None

    def now(self) -> dt.datetime:
        if self._fixed is not None:
            return self._fixed
        return self._now() if self._now else dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        """Today's date at the billing center."""
        return self.now().astimezone(BILLING_TZ).date()

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("Clock.set needs an aware datetime")
        self._fixed = moment

    def advance(self, delta: dt.timedelta) -> None:
        self._fixed = self.now() + delta


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(period: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``period``'s month."""
    index = period.year * 12 + (period.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)
