"""How the app shows and reads money, dates, meter readings and personal data.

One money type (:class:`Money`, integer kopecks), one date parser (:func:`parse_date`), one reading
parser (:func:`parse_reading`). Everything a resident types that cannot be understood raises
:class:`InputError`: a ``ValueError`` that carries a catalogue key and parameters, so a screen shows it
in the current language (:meth:`InputError.message`), while ``str(error)`` is the Russian text.

Numbers are written the Russian way everywhere, also in English: a comma before the decimals and
thousands separated by a no-break space (``1 023,12 ₽``), as on the resident's paper receipt.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from tui.i18n import DEFAULT_LANGUAGE, Language, Translator

#: The billing center books payments and periods by its own date (Moscow time, like the portal).
BILLING_TIMEZONE: Final = "Europe/Moscow"


def billing_today() -> dt.date:
    """Today for date ranges: the later of this computer's date and the billing center's.

    Between midnight in Moscow and midnight here (a UTC server, say) the portal already books today's
    payments on the next day; a range that ends at the local date would leave them out.
    """
    from zoneinfo import ZoneInfo

    return max(dt.date.today(), dt.datetime.now(ZoneInfo(BILLING_TIMEZONE)).date())


if TYPE_CHECKING:  # rich is imported only when a table actually draws money
    from rich.text import Text

NBSP: Final = "\u00a0"
"""Thousands separator: a no-break space keeps ``1 023,12 ₽`` on one line."""

MINUS: Final = "\u2212"
"""The minus sign (−), as wide as a digit, so right-aligned columns stay aligned."""

RUBLE_SIGN: Final = "₽"
RUBLE_ABBREVIATION: Final = "руб."
"""For consoles whose font lacks ``₽`` (the Linux console, some Windows code pages)."""

# Separators a resident may type or paste between thousands: space, no-break space, narrow no-break space.
_SPACES: Final = " \u00a0\u202f"

#: More whole digits than this cannot be a utility amount; it also keeps ``int()`` far from its limits.
_MAX_RUBLE_DIGITS: Final = 12

_currency_symbol: str = RUBLE_SIGN


class InputError(ValueError):
    """Typed text that cannot be understood; ``key`` and ``params`` say why in any language.

    ``str(error)`` is the Russian message; a screen calls :meth:`message` with its translator.
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key, params)

    def message(self, translate: Translator) -> str:
        """The message in the translator's language, starting with a capital letter."""
        text = translate(self.key, **self.params)
        return text[:1].upper() + text[1:]

    def __str__(self) -> str:
        return self.message(Translator(DEFAULT_LANGUAGE))


# --- money ---------------------------------------------------------------------------------------------


def set_ascii_currency(enabled: bool) -> None:
    """Write ``руб.`` instead of ``₽`` everywhere money is shown (for consoles lacking the glyph).

    Module-wide on purpose: a ``DataTable`` draws :class:`Money` through ``__rich__`` with no way to
    pass options, and a console either has the glyph or it does not.
    """
    global _currency_symbol
    _currency_symbol = RUBLE_ABBREVIATION if enabled else RUBLE_SIGN


def currency_symbol() -> str:
    """The currency symbol money is shown with now (``₽`` or ``руб.``)."""
    return _currency_symbol


def _group_thousands(digits: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return NBSP.join(groups)


def format_money(kopecks: int, *, currency: str | None = None) -> str:
    """``1 023,12 ₽`` from ``102312``; negative amounts get ``−``.

    ``currency=None`` uses :func:`currency_symbol`; ``currency=""`` writes the number alone (for a
    column whose header already says ₽).
    """
    symbol = _currency_symbol if currency is None else currency
    rubles, kop = divmod(abs(kopecks), 100)
    text = f"{MINUS if kopecks < 0 else ''}{_group_thousands(str(rubles))},{kop:02d}"
    return f"{text}{NBSP}{symbol}" if symbol else text


_AMOUNT: Final = re.compile(
    rf"(?P<whole>\d{{1,3}}(?:[{_SPACES}]\d{{3}})+|\d+)(?:[.,](?P<fraction>\d+))?", re.ASCII
)
_CURRENCY_SUFFIX: Final = re.compile(rf"[{_SPACES}]*(?:₽|руб\.?|р\.)$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Money:
    """An exact amount of money in kopecks; sorts by amount and draws itself right-aligned.

    >>> str(Money(102312))
    '1\\xa0023,12\\xa0₽'
    """

    kopecks: int

    def __post_init__(self) -> None:
        # bool is an int; a float would make every later sum inexact.
        if isinstance(self.kopecks, bool) or not isinstance(self.kopecks, int):
            raise TypeError(f"Money needs whole kopecks as int, not {type(self.kopecks).__name__}")

    def __str__(self) -> str:
        return format_money(self.kopecks)

    def __rich__(self) -> Text:
        """Right-aligned text, so amounts line up in tables."""
        from rich.text import Text

        return Text(str(self), justify="right")

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.kopecks + other.kopecks)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.kopecks - other.kopecks)

    def __neg__(self) -> Money:
        return Money(-self.kopecks)

    def format(self, *, currency: str | None = None) -> str:
        """The amount as :func:`format_money` writes it."""
        return format_money(self.kopecks, currency=currency)

    @classmethod
    def from_decimal(cls, rubles: Decimal) -> Money:
        """Money from an amount of rubles; a fraction of a kopeck is a ``ValueError``, never rounded."""
        if not isinstance(rubles, Decimal):
            raise TypeError(f"Money.from_decimal needs a Decimal, not {type(rubles).__name__}")
        if not rubles.is_finite():
            raise ValueError(f"not an amount of money: {rubles}")
        kopecks = rubles * 100
        if kopecks != kopecks.to_integral_value():
            raise ValueError(f"{rubles} has a fraction of a kopeck")
        return cls(int(kopecks))

    def to_decimal(self) -> Decimal:
        """The amount in rubles with exactly two decimals (``Decimal("1023.12")``)."""
        return (Decimal(self.kopecks) / 100).quantize(Decimal("0.01"))

    @classmethod
    def parse(cls, text: str) -> Money:
        """Money from a typed amount: ``1023.12``, ``1023,12``, ``1 023,12``, ``1023``.

        Spaces (also no-break) may separate thousands, at most two decimals, no sign; a trailing ``₽``
        or ``руб.`` is allowed so a shown amount can be pasted back. Raises :class:`InputError`.
        """
        cleaned = _CURRENCY_SUFFIX.sub("", text.strip()).strip(_SPACES)
        if not cleaned:
            raise InputError("input.amount_empty")
        match = _AMOUNT.fullmatch(cleaned)
        if match is None:
            raise InputError("input.amount_invalid")
        whole = re.sub(f"[{_SPACES}]", "", match["whole"])
        fraction = match["fraction"] or ""
        if len(fraction) > 2:
            raise InputError("input.amount_too_many_decimals")
        if len(whole.lstrip("0")) > _MAX_RUBLE_DIGITS:
            raise InputError("input.amount_invalid")
        return cls(int(whole) * 100 + int(fraction.ljust(2, "0")))


# --- dates ---------------------------------------------------------------------------------------------

_MONTHS: Final[dict[Language, tuple[str, ...]]] = {
    "ru": (
        "январь", "февраль", "март", "апрель", "май", "июнь",
        "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

# Russian puts the month in the genitive after a day number («25 ноября»); English does not decline.
_MONTHS_GENITIVE: Final[dict[Language, tuple[str, ...]]] = {
    "ru": (
        "января", "февраля", "марта", "апреля", "мая", "июня",
        "июля", "августа", "сентября", "октября", "ноября", "декабря",
    ),
    "en": _MONTHS["en"],
}  # fmt: skip


def _check_month(month: int) -> int:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1–12, not {month}")
    return month


def month_name(month: int, lang: Language = DEFAULT_LANGUAGE) -> str:
    """The month's name as in a calendar: ``ноябрь`` / ``November``."""
    return _MONTHS[lang][_check_month(month) - 1]


def month_name_genitive(month: int, lang: Language = DEFAULT_LANGUAGE) -> str:
    """The month's name after a day number: ``ноября`` (for «Приём показаний до 25 ноября»)."""
    return _MONTHS_GENITIVE[lang][_check_month(month) - 1]


def format_date(day: dt.date) -> str:
    """``25.11.2026``: the way receipts and the portal write dates, in both languages."""
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def format_datetime(moment: dt.datetime) -> str:
    """``25.11.2026 14:05`` in the moment's own time zone."""
    return f"{format_date(moment)} {moment.hour:02d}:{moment.minute:02d}"


def format_month(day: dt.date, lang: Language = DEFAULT_LANGUAGE) -> str:
    """A billing period: ``ноябрь 2026`` / ``November 2026``."""
    return f"{month_name(day.month, lang)} {day.year}"


def format_day_month(day: dt.date, lang: Language = DEFAULT_LANGUAGE, *, today: dt.date | None = None) -> str:
    """``25 ноября`` / ``25 November``; with the year (``25 ноября 2027``) when ``today`` is in another."""
    words = f"{day.day} {month_name_genitive(day.month, lang)}"
    return f"{words} {day.year}" if today is not None and today.year != day.year else words


_DATE_RU: Final = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII)
_DATE_ISO: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


def parse_date(text: str) -> dt.date:
    """A date typed as ``25.11.2026`` (also ``5.1.2026``) or ISO ``2026-11-25``; else :class:`InputError`."""
    cleaned = text.strip()
    if not cleaned:
        raise InputError("input.date_empty")
    if match := _DATE_RU.fullmatch(cleaned):
        day, month, year = (int(part) for part in match.groups())
    elif match := _DATE_ISO.fullmatch(cleaned):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise InputError("input.date_invalid", text=cleaned)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InputError("input.date_nonexistent", text=cleaned) from None


# --- meter readings ------------------------------------------------------------------------------------


def reading_example(integer_digits: int, decimals: int) -> str:
    """An example value in a meter's format: ``12345,678`` for 5 whole digits and 3 decimals.

    The same digits the portal uses in its own messages, so both name the format alike.
    """
    sample = ("1234567890" * 4)[: integer_digits + decimals]
    return f"{sample[:integer_digits]},{sample[integer_digits:]}" if decimals else sample


def format_reading(value: Decimal, decimals: int | None = None) -> str:
    """``12 345,678``: a reading or a volume with ``decimals`` places (None: as many as it has)."""
    if decimals is not None:
        value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign, digits = (MINUS if value < 0 else ""), f"{abs(value):f}"
    whole, _, fraction = digits.partition(".")
    return f"{sign}{_group_thousands(whole)}{',' + fraction if fraction else ''}"


def trim_zeros(value: Decimal) -> Decimal:
    """``37.47`` from ``37.4700``, ``248`` from ``248.0000``: a volume or an area as a person writes it."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


_READING: Final = re.compile(
    rf"(?P<whole>\d{{1,3}}(?:[{_SPACES}]\d{{3}})+|\d+)(?:[.,](?P<fraction>\d*))?", re.ASCII
)


def parse_reading(text: str, integer_digits: int, decimals: int) -> Decimal:
    """A typed meter reading (``12345,678``, ``12345.678``, ``12 345,678``) as an exact ``Decimal``.

    The meter's dial has ``integer_digits`` whole digits (leading zeros as on the dial are fine) and
    ``decimals`` after the separator; more digits than that raise :class:`InputError` naming the
    allowed format. The result carries exactly ``decimals`` places (``Decimal("123.400")``).
    """
    params = {
        "integer_digits": integer_digits,
        "decimals": decimals,
        "example": reading_example(integer_digits, decimals),
    }
    kind = "decimal" if decimals else "integer"
    cleaned = text.strip()
    if not cleaned:
        raise InputError("input.reading_empty", **params)
    match = _READING.fullmatch(cleaned)
    if match is None:
        raise InputError(f"input.reading_invalid_{kind}", **params)
    whole = re.sub(f"[{_SPACES}]", "", match["whole"])
    fraction = match["fraction"] or ""
    if len(fraction) > decimals:
        raise InputError(f"input.reading_too_many_decimals_{kind}", **params)
    if len(whole.lstrip("0")) > integer_digits:
        raise InputError(f"input.reading_too_many_digits_{kind}", **params)
    try:
        value = Decimal(f"{whole}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern lets only digits through
        raise InputError(f"input.reading_invalid_{kind}", **params) from None
    return value.quantize(Decimal(1).scaleb(-decimals))


# --- personal data -------------------------------------------------------------------------------------


def mask_account(number: str) -> str:
    """``35******07``: enough to tell one's own account apart on a shared screen, not to log in."""
    if len(number) <= 4:
        return "*" * len(number)
    return f"{number[:2]}{'*' * (len(number) - 4)}{number[-2:]}"


def mask_email(address: str) -> str:
    """``k**@demo.kabinet.local``: the first letter of the mailbox, the domain whole (it says which mail)."""
    mailbox, at, domain = address.rpartition("@")
    if not at:
        return address[:1] + "*" * (len(address) - 1)
    return f"{mailbox[:1]}{'*' * (len(mailbox) - 1)}@{domain}"


__all__ = [
    "MINUS",
    "NBSP",
    "RUBLE_ABBREVIATION",
    "RUBLE_SIGN",
    "InputError",
    "Money",
    "billing_today",
    "currency_symbol",
    "format_date",
    "format_datetime",
    "format_day_month",
    "format_money",
    "format_month",
    "format_reading",
    "mask_account",
    "mask_email",
    "month_name",
    "month_name_genitive",
    "parse_date",
    "parse_reading",
    "reading_example",
    "set_ascii_currency",
]
