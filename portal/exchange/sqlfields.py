"""The SQL fast path of :mod:`portal.exchange.fields` (PostgreSQL): a value's usual shape, checked and
converted by the database in one set-based statement instead of line by line in Python.

Each :class:`SqlField` says when a text value (``{v}``) is certainly valid — ``ok``, a strict subset of
what the Python parser accepts — and what it converts to — ``value``, the same typed value the Python
parser gives. A line whose every value is ``ok`` is converted in SQL; any other line (a wrong value, or
an unusual shape: surrounding spaces, an ISO timestamp, the 29th of February, capitals in a choice)
goes through the Python parser, which reports or accepts it exactly as before. The report is therefore
the Python parser's, word for word.

The usual shape is told with no trimming (a value the check accepts has no surrounding whitespace:
nothing to trim) and as cheaply as the database allows, for it is paid on every value of millions of
lines. PostgreSQL's regular expressions cost by the size of the expression (its automaton is built
again on every call): about 0.4 µs for ``[0-9]+``, 2–3 µs for a date with the calendar's rules. So
the shapes that a value takes from a short list are looked up in it instead (``IN`` over a constant
list is a hash lookup, about 0.1 µs): months (``2000-01`` … ``2099-12``), a date's day and month (the
365 that exist in every year) and year, a time's hours and minutes, a one-digit number. ``LIKE``
(about 0.03 µs) fixes the separators' positions. Money and decimals keep one short expression for the
usual shape (``1234,56``, ``52,400``) and the rest of their rules only for other shapes; a zero sum
(``0,00``, most recalculations and penalties) is compared, not matched.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass

from portal.periods import MAX_DATE, MIN_DATE

#: Every character Python's ``str.strip`` removes (``str.isspace``), as a regular expression class body.
_SPACE = (
    "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"
    "\\u205f\\u3000"
)
#: Thousands separators of money (as Python's pattern has them).
_THOUSANDS = " \u00a0\u202f"


@dataclass(frozen=True)
class SqlField:
    #: SQL boolean over the text value ``{v}``: the value is certainly valid (NULL counts as not).
    ok: str
    #: SQL expression over ``{v}``: the typed value (only evaluated where ``ok``).
    value: str

    def ok_for(self, column: str) -> str:
        return "(" + self.ok.replace("{v}", column) + ")"

    def value_for(self, column: str) -> str:
        return "(" + self.value.replace("{v}", column) + ")"


def _matches(regex: str) -> str:
    # Groups are plain ``(…)``: ``(?:`` followed by a digit would read as a bind parameter to SQLAlchemy.
    # No bounded repetition (``{1,20}``): PostgreSQL's engine pays for every count it allows, so
    # lengths are told by ``length()``.
    return f"{{v}} ~ '^({regex})$'"


def optional(field: SqlField, default: str) -> SqlField:
    """An optional column: absent or empty gives ``default`` (a blank of spaces goes to Python)."""
    blank = "({v} IS NULL OR {v} = '')"
    return SqlField(f"({blank} OR {field.ok})", f"CASE WHEN {blank} THEN {default} ELSE {field.value} END")


def pattern(regex: str, *, max_length: int, min_length: int = 1, ascii_only: bool = False) -> SqlField:
    """A value of ``min_length`` to ``max_length`` characters matching ``regex`` whole, kept as it is
    (``regex`` neither starts nor ends with a space). ``ascii_only``: ``regex`` matches ASCII characters
    only, so that the length in bytes, which costs nothing to read, is the length in characters."""
    length = "octet_length" if ascii_only else "length"
    return SqlField(f"{length}({{v}}) BETWEEN {min_length} AND {max_length} AND {_matches(regex)}", "{v}")


def text(max_length: int) -> SqlField:
    """Text of 1 to ``max_length`` characters with nothing to trim at its ends."""
    return SqlField(f"length({{v}}) <= {max_length} AND {{v}} ~ '^[^{_SPACE}](.*[^{_SPACE}])?$'", "{v}")


_PLAIN = f"translate({{v}}, '{_THOUSANDS}', '')"
#: Kopecks: two decimals after a comma (the usual shape) are read as an integer without the comma; with
#: neither a space nor any other character outside ASCII (no thousands separator), without translating.
_KOPECKS = (
    f"CASE WHEN {{v}} = '0,00' THEN 0 "
    f"WHEN {{v}} LIKE '%,__' AND {{v}} NOT LIKE '% %' AND octet_length({{v}}) = length({{v}}) "
    "THEN replace({v}, ',', '')::bigint "
    f"WHEN {{v}} LIKE '%,__' THEN replace({_PLAIN}, ',', '')::bigint "
    f"ELSE (replace({_PLAIN}, ',', '.')::numeric * 100)::bigint END"
)


def money(*, positive: bool = False, non_negative: bool = False) -> SqlField:
    """Kopecks from rubles (decimal comma or point, thousands separated by a space or not).

    The usual shape (digits, a comma, two digits; at most 13 characters, so certainly within the
    parser's limit |kopecks| < 10¹⁵) is one short expression. Other shapes: up to 13 characters the
    value is certainly within the limit; a longer one (at most 16, so that the arithmetic never
    overflows) is compared once its shape is known.
    """
    sign = "" if positive or non_negative else "-?"
    fraction = "([.,][0-9][0-9]?)?"
    plain = _matches(f"{sign}[0-9]+{fraction}")
    grouped = _matches(f"{sign}[0-9][0-9]?[0-9]?([{_THOUSANDS}][0-9][0-9][0-9])+{fraction}")
    usual = _matches(f"{sign}[0-9]+,[0-9][0-9]")
    other = (
        f"CASE WHEN length({{v}}) <= 16 AND ({plain} OR {grouped}) "
        f"THEN length({{v}}) <= 13 OR abs({_KOPECKS}) <= 999999999999999 ELSE false END"
    )
    if positive:
        # The usual shape's digits are a whole number of kopecks: more than zero is compared as such.
        ok = (
            f"CASE WHEN octet_length({{v}}) <= 13 AND {usual} THEN replace({{v}}, ',', '')::bigint > 0 "
            f"ELSE {other} AND {{v}} ~ '[1-9]' END"
        )
    else:
        ok = f"CASE WHEN {{v}} = '0,00' OR (octet_length({{v}}) <= 13 AND {usual}) THEN true ELSE {other} END"
    return SqlField(ok, _KOPECKS)


def decimal(*, places: int, integer_digits: int) -> SqlField:
    """A non-negative decimal with at most ``places`` decimals and ``integer_digits`` integer digits
    (a value of at most ``integer_digits`` characters has no more, whatever it is)."""
    fraction = "[0-9]" + "[0-9]?" * (places - 1)
    return SqlField(
        f"{_matches(f'[0-9]+([.,]{fraction})?')} AND (octet_length({{v}}) <= {integer_digits} "
        f"OR strpos(translate({{v}}, ',', '.') || '.', '.') <= {integer_digits + 1})",
        "replace({v}, ',', '.')::numeric",
    )


def _one_of(values: Iterable[str]) -> str:
    """``IN`` over a constant list: a hash lookup from nine values on."""
    return "IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def integer(*, low: int, high: int) -> SqlField:
    digits = len(str(high))
    if high < 10:
        return SqlField(f"{{v}} {_one_of(str(n) for n in range(low, high + 1))}", "{v}::int")
    shape = f"length({{v}}) <= {digits} AND {_matches('[0-9]+')}"
    if low == 0 and high == 10**digits - 1:
        return SqlField(shape, "{v}::int")
    return SqlField(f"CASE WHEN {shape} THEN {{v}}::int BETWEEN {low} AND {high} ELSE false END", "{v}::int")


#: The portal's years, 2000 to 2099 (:data:`MIN_DATE` to :data:`MAX_DATE`, whole years).
_YEARS = range(2000, 2100)
assert (MIN_DATE.year, MAX_DATE.year, MIN_DATE.timetuple().tm_yday, MAX_DATE.month, MAX_DATE.day) == (
    _YEARS[0],
    _YEARS[-1],
    1,
    12,
    31,
)
#: Days of each month that exist in every year (the 29th of February goes to Python).
_DAYS = {month: 28 if month == 2 else calendar.monthrange(2001, month)[1] for month in range(1, 13)}
#: ``DD.MM.`` of every such day, ``-MM-DD`` likewise, the years' last two digits, hours and minutes.
_DAY_MONTH = _one_of(f"{d:02d}.{m:02d}." for m, days in _DAYS.items() for d in range(1, days + 1))
_MONTH_DAY = _one_of(f"-{m:02d}-{d:02d}" for m, days in _DAYS.items() for d in range(1, days + 1))
_YY = _one_of(f"{y % 100:02d}" for y in _YEARS)
_HOURS = _one_of(f"{h:02d}" for h in range(24))
_MINUTES = _one_of(f"{m:02d}" for m in range(60))
_DMY = f"{{v}} LIKE '__.__.20__' AND substr({{v}}, 1, 6) {_DAY_MONTH} AND substr({{v}}, 9, 2) {_YY}"
_ISO = f"{{v}} LIKE '20__-__-__' AND substr({{v}}, 3, 2) {_YY} AND substr({{v}}, 5, 6) {_MONTH_DAY}"
_DMY_PARTS = "substr({v}, 7, 4)::int, substr({v}, 4, 2)::int, substr({v}, 1, 2)::int"

#: ``DD.MM.YYYY`` or ``YYYY-MM-DD``.
DATE = SqlField(
    f"CASE WHEN substr({{v}}, 3, 1) = '.' THEN {_DMY} ELSE {_ISO} END",
    f"CASE WHEN substr({{v}}, 3, 1) = '.' THEN make_date({_DMY_PARTS}) "
    "ELSE make_date(substr({v}, 1, 4)::int, substr({v}, 6, 2)::int, substr({v}, 9, 2)::int) END",
)

#: ``YYYY-MM``: the month's first day.
MONTH = SqlField(
    f"{{v}} {_one_of(f'{y}-{m:02d}' for y in _YEARS for m in range(1, 13))}",
    "make_date(substr({v}, 1, 4)::int, substr({v}, 6, 2)::int, 1)",
)

#: ``DD.MM.YYYY HH:MM`` in the billing center's time (Europe/Moscow); other shapes go to Python. (The
#: colon is compared apart: followed by a digit in the statement, it would read as a bind parameter.)
MOMENT = SqlField(
    f"{{v}} LIKE '__.__.20__ _____' AND substr({{v}}, 1, 6) {_DAY_MONTH} AND substr({{v}}, 9, 2) {_YY} "
    f"AND substr({{v}}, 12, 2) {_HOURS} AND substr({{v}}, 14, 1) = ':' AND substr({{v}}, 15, 2) {_MINUTES}",
    f"make_timestamptz({_DMY_PARTS}, substr({{v}}, 12, 2)::int, substr({{v}}, 15, 2)::int, 0, "
    "'Europe/Moscow')",
)


def choice(allowed: dict[str, str]) -> SqlField:
    """One of the allowed words, as the value it stands for (other spellings go to Python)."""
    words = ", ".join(f"'{word}'" for word in sorted(allowed))
    if all(word == value for word, value in allowed.items()):
        return SqlField(f"{{v}} IN ({words})", "{v}")
    cases = " ".join(f"WHEN '{word}' THEN '{value}'" for word, value in sorted(allowed.items()))
    return SqlField(f"{{v}} IN ({words})", f"CASE {{v}} {cases} END")
