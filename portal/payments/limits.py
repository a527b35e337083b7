"""Limits of the payment endpoints that cost someone else's resources, kept in the portal process.

- Public capital repair lookups and payments: a sliding window per client address (every request
  counts, found or not), on the portal's clock. Unknown numbers are additionally throttled as failures
  by :mod:`portal.throttling` (in the database).
- Status queries to a payment service: at most one per order per interval, whoever asks (the resident's
  screen polls; a script could poll much faster). While an order is new (the resident is paying right
  now) the interval is short, so «Платёж прошёл» shows a second after the payment, not five; later it
  is the longer one. Measured on a monotonic clock: it guards real load, not billing time.

The counters live in the app (``app.state``), per process: a few workers each allow the limit, which
stays generous anyway; they protect against floods, not against patient guessing.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from portal.errors import ApiError
from portal.settings import Settings


def too_many_requests(retry_after_seconds: int) -> ApiError:
    minutes = max(1, (retry_after_seconds + 59) // 60)
    return ApiError(
        429,
        "too_many_attempts",
        f"Слишком много запросов с этого адреса. Повторите через {minutes} мин.",
        headers={"Retry-After": str(retry_after_seconds)},
    )


class SlidingWindow:
    """At most ``limit`` events per key within ``window``."""

    def __init__(self, limit: int, window: dt.timedelta) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[dt.datetime]] = {}

    def take(self, key: str, now: dt.datetime) -> None:
        """Count one event, or raise 429 (with ``Retry-After``) when the key has used its window up."""
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            wait = events[0] + self.window - now
            raise too_many_requests(max(1, math.ceil(wait.total_seconds())))
        events.append(now)
        if len(self._events) > 10_000:  # forget quiet clients now and then
            for quiet in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                del self._events[quiet]


class PollGate:
    """Lets one status query per order through per interval: ``quick`` seconds during the first
    ``quick_period`` seconds after the order's first query, ``interval`` seconds after that."""

    def __init__(
        self,
        interval: float,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        quick: float | None = None,
        quick_period: float = 0.0,
    ) -> None:
        self.interval = interval
        self.quick = interval if quick is None else min(quick, interval)
        self.quick_period = quick_period
        self.monotonic = monotonic
        self._last: dict[str, float] = {}
        self._first: dict[str, float] = {}

    def allow(self, order_id: str) -> bool:
        now = self.monotonic()
        first = self._first.setdefault(order_id, now)
        interval = self.quick if now - first < self.quick_period else self.interval
        last = self._last.get(order_id)
        if last is not None and now - last < interval:
            return False
        self._last[order_id] = now
        if len(self._last) > 10_000:
            forget = max(self.interval, self.quick_period)
            for old in [k for k, v in self._last.items() if now - v >= forget]:
                del self._last[old]
                self._first.pop(old, None)
        return True


class PaymentLimits:
    def __init__(self, settings: Settings) -> None:
        window = dt.timedelta(seconds=settings.public_payment_window_seconds)
        self.public_lookups = SlidingWindow(settings.public_lookups_per_window, window)
        self.public_payments = SlidingWindow(settings.public_payments_per_window, window)
        self.polls = PollGate(
            settings.payment_poll_interval_seconds,
            quick=settings.payment_poll_quick_interval_seconds,
            quick_period=settings.payment_poll_quick_period_seconds,
        )


def limits_of(app: Any, settings: Settings) -> PaymentLimits:
    """The app's limits (made on first use)."""
    found: PaymentLimits | None = getattr(app.state, "payment_limits", None)
    if found is None:
        found = PaymentLimits(settings)
        app.state.payment_limits = found
    return found
