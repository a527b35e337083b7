"""The reading window in the resident's words: one wording rule for every screen that shows it.

When readings are accepted is the portal's rule (``portal/reading_window.py``); the app only says what
the portal answered. The home screen and the readings screens phrase it a little differently (their
catalogue sections ``home.window_*`` and ``readings.window_*``).
"""

from __future__ import annotations

from typing import Literal

from tui.formatting import format_day_month
from tui.i18n import Translator
from tui.models import ReadingWindow

#: The catalogue section whose ``window_open``, ``window_always_open`` and ``window_closed`` are used.
Wording = Literal["readings", "home"]


def window_text(t: Translator, window: ReadingWindow, wording: Wording = "readings") -> str:
    """«Приём показаний до 25 ноября», «… открыт», or when it opens again."""
    if window.open:
        if window.always_open or window.closes_on is None:
            return t(f"{wording}.window_always_open")
        return t(f"{wording}.window_open", day_month=format_day_month(window.closes_on, t.lang))
    if window.opens_on is not None:
        return t(f"{wording}.window_closed", day_month=format_day_month(window.opens_on, t.lang))
    return window.message
