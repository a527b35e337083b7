"""Money: integer kopecks in storage, ``Decimal`` at the edges, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: A typed amount of rubles, as documented in the API schema and checked whole (``fullmatch``): ASCII
#: digits only (``\d`` would also take other scripts' digits, ``١٢٣``), thousands optionally separated by
#: a space (also non-breaking or narrow), at most two decimals after ``.`` or ``,``; spaces around and a
#: trailing ``₽`` are allowed. The same text in ECMAScript and Python regular expressions.
AMOUNT_PATTERN = r"^ *[0-9]{1,3}(?:[ \u00a0\u202f]?[0-9]{3})*(?:[.,][0-9]{1,2})? *(?:₽ *)?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


class AmountFormatError(ValueError):
    """The text is not an amount of rubles with at most two decimals."""


def parse_rubles(text: str) -> int:
    """Kopecks from a typed ruble amount: ``1023.12``, ``1023,12``, ``1 023,12``, ``1023``.

    Thousands may be separated by a space (also non-breaking); at most two decimals; no sign.
    """
    if not _AMOUNT.fullmatch(text):
        raise AmountFormatError(text)
    cleaned = text.replace("₽", "").strip(" ")
    digits = re.sub(r"[ \u00a0\u202f]", "", cleaned).replace(",", ".")
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guarantees digits
        raise AmountFormatError(text) from exc
    return int((value * 100).to_integral_value(ROUND_HALF_UP))


def kopecks_to_decimal(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(Decimal("0.01"))


def multiply_to_kopecks(volume: Decimal, price_kopecks: int) -> int:
    """``volume × price`` rounded half-up to whole kopecks."""
    return int((volume * price_kopecks).to_integral_value(ROUND_HALF_UP))


def format_rubles(kopecks: int) -> str:
    """``1 023,12 ₽`` (non-breaking thousands separator), the way receipts print money."""
    sign = "-" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    return f"{sign}{rubles:,}".replace(",", "\u00a0") + f",{kop:02d} ₽"
