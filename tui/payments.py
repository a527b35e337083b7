"""Paying through A3 or PayMO, the parts without a screen: the amount a resident types, and its limits.

The portal checks the same rules (more than zero, at most two decimals, at most 500 000 ₽); checking them
here first means a typing slip gets its message at once, naming the field, with the typed text kept.
"""

from __future__ import annotations

from typing import Final

from tui.formatting import InputError, Money
from tui.i18n import Translator

MAX_PAYMENT: Final = Money(500_000_00)
"""The largest single payment the portal takes (a sane ceiling against a slip of the finger)."""

#: Seconds before the first question about a payment's status; each next wait is :data:`POLL_GROWTH`
#: times longer, up to :data:`POLL_MAX_SECONDS` (then :data:`SLOWER_POLLS`).
POLL_SECONDS: Final = 1.0
POLL_GROWTH: Final = 1.5
POLL_MAX_SECONDS: Final = 5.0
#: Poll less often the longer a payment waits (seconds waited → seconds between polls), and give up after
#: :data:`WATCH_LIMIT_SECONDS` (F5 looks again): a screen left open must not poll the service forever.
SLOWER_POLLS: tuple[tuple[float, float], ...] = ((60.0, 5.0), (300.0, 15.0))
WATCH_LIMIT_SECONDS = 900.0


def next_poll_delay(
    delay: float,
    waited: float,
    *,
    first: float = POLL_SECONDS,
    growth: float = POLL_GROWTH,
    longest: float = POLL_MAX_SECONDS,
    slower: tuple[tuple[float, float], ...] = SLOWER_POLLS,
) -> float:
    """The wait before the next question about a payment's status, after waiting ``delay`` last and
    ``waited`` in all: ``growth`` times the last (at least ``first``, at most ``longest``), and at
    least what ``slower`` asks once the payment has waited that long."""
    delay = min(max(delay * growth, first), longest)
    for after, slower_delay in slower:
        if waited >= after:
            delay = max(delay, slower_delay)
    return delay


AMOUNT_FIELD_KEY: Final = "payment.amount"
"""The catalogue key of the amount field's label, named in every amount message."""


def parse_payment_amount(text: str) -> Money:
    """The amount typed in «Сумма»: ``1023,12``, ``1023.12``, ``1 023,12`` or ``1023``.

    Raises :class:`~tui.formatting.InputError` (``input.amount_*``) when it is not an amount (also when
    it has digits other than ASCII ``0``-``9``), has more than two decimals, is zero or exceeds
    :data:`MAX_PAYMENT`.
    """
    if any(char.isdigit() and not ("0" <= char <= "9") for char in text):
        # ``Money.parse`` reads any script's digits (``١٢٣``); an amount here is written in 0-9 only.
        raise InputError("input.amount_invalid")
    amount = Money.parse(text)
    if amount.kopecks <= 0:
        raise InputError("input.amount_not_positive")
    if amount > MAX_PAYMENT:
        raise InputError("input.amount_too_large", maximum=MAX_PAYMENT)
    return amount


def amount_problem(t: Translator, error: InputError, field_key: str = AMOUNT_FIELD_KEY) -> str:
    """«Поле «Сумма»: …»: the message of a refused amount, naming the field."""
    return t("input.field_problem", field=t(field_key), problem=t(error.key, **error.params))


def amount_text(amount: Money) -> str:
    """An amount as a resident would type it into the field: ``1023,12`` (no spaces, no currency)."""
    rubles, kopecks = divmod(amount.kopecks, 100)
    return f"{rubles},{kopecks:02d}"


__all__ = ["AMOUNT_FIELD_KEY", "MAX_PAYMENT", "amount_problem", "amount_text", "parse_payment_amount"]


#: ГОСТ Р 56042 keys shown as text under the receipt's QR code, in this order.
REQUISITE_KEYS = (
    "Name",
    "PayeeINN",
    "KPP",
    "PersonalAcc",
    "BankName",
    "BIC",
    "CorrespAcc",
    "PersAcc",
    "Purpose",
)


def gost_fields(payload: str) -> dict[str, str]:
    """The ``Key=Value`` pairs of a ГОСТ payment payload (``ST00012|Name=…|…``), the header left out."""
    fields: dict[str, str] = {}
    for pair in payload.split("|")[1:]:
        key, equals, value = pair.partition("=")
        if equals:
            fields[key] = value
    return fields
