"""The SQL fast path of :mod:`portal.exchange.fields` (PostgreSQL): a value's usual shape, checked and
converted by the database in one set-based statement instead of line by line in Python.

Each :class:`SqlField` says when a text value (``{v}``) is certainly valid — ``ok``, a strict subset of
what the Python parser accepts — and what it converts to — ``value``, the same typed value the Python
parser gives. A line whose every value is ``ok`` is converted in SQL; any other line (a wrong value, or
an unusual shape: surrounding spaces, an ISO timestamp, the 29th of February, capitals in a choice)
goes through the Python parser, which reports or accepts it exactly as before. The report is therefore
the Python parser's, word for word.

The usual shape is told by one anchored regular expression per value, with no arithmetic and no
trimming (a value the expression accepts has no surrounding whitespace: nothing to trim), so that a
line of eight values costs the database about a microsecond to check: calendar rules (a day that
exists, the portal's years) are part of the expressions.
"""

from __future__ import annotations

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


def pattern(regex: str, *, max_length: int, min_length: int = 1) -> SqlField:
    """A value of ``min_length`` to ``max_length`` characters matching ``regex`` whole, kept as it is
    (``regex`` neither starts nor ends with a space)."""
    return SqlField(f"length({{v}}) BETWEEN {min_length} AND {max_length} AND {_matches(regex)}", "{v}")


def text(max_length: int) -> SqlField:
    """Text of 1 to ``max_length`` characters with nothing to trim at its ends."""
    return SqlField(f"length({{v}}) <= {max_length} AND {{v}} ~ '^[^{_SPACE}](.*[^{_SPACE}])?$'", "{v}")


_PLAIN = f"translate({{v}}, '{_THOUSANDS}', '')"
#: Kopecks: two decimals after a comma (the usual shape) are read as an integer without the comma.
_KOPECKS = (
    f"CASE WHEN {{v}} LIKE '%,__' THEN replace({_PLAIN}, ',', '')::bigint "
    f"ELSE (replace({_PLAIN}, ',', '.')::numeric * 100)::bigint END"
)


def money(*, positive: bool = False, non_negative: bool = False) -> SqlField:
    """Kopecks from rubles (decimal comma or point, thousands separated by a space or not).

    Up to 13 characters the value is certainly within the parser's limit (|kopecks| < 10¹⁵); a longer
    one (at most 16, so that the arithmetic never overflows) is compared once its shape is known.
    """
    sign = "" if positive or non_negative else "-?"
    fraction = "([.,][0-9][0-9]?)?"
    plain = _matches(f"{sign}[0-9]+{fraction}")
    grouped = _matches(f"{sign}[0-9][0-9]?[0-9]?([{_THOUSANDS}][0-9][0-9][0-9])+{fraction}")
    ok = (
        f"CASE WHEN length({{v}}) <= 16 AND ({plain} OR {grouped}) "
        f"THEN length({{v}}) <= 13 OR abs({_KOPECKS}) <= 999999999999999 ELSE false END"
    )
    if positive:
        ok += " AND {v} ~ '[1-9]'"
    return SqlField(ok, _KOPECKS)


def decimal(*, places: int, integer_digits: int) -> SqlField:
    """A non-negative decimal with at most ``places`` decimals and ``integer_digits`` integer digits."""
    fraction = "[0-9]" + "[0-9]?" * (places - 1)
    return SqlField(
        f"{_matches(f'[0-9]+([.,]{fraction})?')} "
        f"AND strpos(translate({{v}}, ',', '.') || '.', '.') <= {integer_digits + 1}",
        "replace({v}, ',', '.')::numeric",
    )


def integer(*, low: int, high: int) -> SqlField:
    digits = len(str(high))
    if high < 10:
        return SqlField(_matches(f"[{low}-{high}]"), "{v}::int")
    shape = f"length({{v}}) <= {digits} AND {_matches('[0-9]+')}"
    if low == 0 and high == 10**digits - 1:
        return SqlField(shape, "{v}::int")
    return SqlField(f"CASE WHEN {shape} THEN {{v}}::int BETWEEN {low} AND {high} ELSE false END", "{v}::int")


#: The portal's years, 2000 to 2099 (:data:`MIN_DATE` to :data:`MAX_DATE`, whole years).
_YEAR = "20[0-9][0-9]"
assert (MIN_DATE.year, MAX_DATE.year, MIN_DATE.timetuple().tm_yday, MAX_DATE.month, MAX_DATE.day) == (
    2000,
    2099,
    1,
    12,
    31,
)
#: Day and month of a day that exists in every year (the 29th of February goes to Python).
_DAY_MONTH = "(0[1-9]|1[0-9]|2[0-8])\\.(0[1-9]|1[0-2])|(29|30)\\.(0[13-9]|1[0-2])|31\\.(0[13578]|1[02])"
_MONTH_DAY = "(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31"
_DMY = f"({_DAY_MONTH})\\.{_YEAR}"
_ISO = f"{_YEAR}-({_MONTH_DAY})"
_DMY_PARTS = "substr({v}, 7, 4)::int, substr({v}, 4, 2)::int, substr({v}, 1, 2)::int"

#: ``DD.MM.YYYY`` or ``YYYY-MM-DD``.
DATE = SqlField(
    _matches(f"{_DMY}|{_ISO}"),
    f"CASE WHEN substr({{v}}, 3, 1) = '.' THEN make_date({_DMY_PARTS}) "
    "ELSE make_date(substr({v}, 1, 4)::int, substr({v}, 6, 2)::int, substr({v}, 9, 2)::int) END",
)

#: ``YYYY-MM``: the month's first day.
MONTH = SqlField(
    _matches(f"{_YEAR}-(0[1-9]|1[0-2])"), "make_date(substr({v}, 1, 4)::int, substr({v}, 6, 2)::int, 1)"
)

#: ``DD.MM.YYYY HH:MM`` in the billing center's time (Europe/Moscow); other shapes go to Python.
MOMENT = SqlField(
    _matches(f"{_DMY} ([01][0-9]|2[0-3]):[0-5][0-9]"),
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
