"""Money: integer kopecks in storage, ``Decimal`` at the edges, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictInt


def _whole_number(value: Any) -> Any:
    # JSON Schema's ``integer`` takes ``1.0`` too; a fraction, a string or ``true`` stays refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: An amount in a request: integer kopecks, as every amount of the API travels (``1.0`` counts as ``1``).
KopecksInput = Annotated[StrictInt, BeforeValidator(_whole_number)]


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
