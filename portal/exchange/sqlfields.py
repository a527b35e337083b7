"""The SQL fast path of :mod:`portal.exchange.fields` (PostgreSQL): a value's usual shape, checked and
converted by the database in one set-based statement instead of line by line in Python.

Each :class:`SqlField` says when a text value (``{v}``) is certainly valid — ``ok``, a strict subset of
what the Python parser accepts — and what it converts to — ``value``, the same typed value the Python
parser gives. A line whose every value is ``ok`` is converted in SQL; any other line (a wrong value, or
an unusual shape such as an ISO timestamp) goes through the Python parser, which reports or accepts it
exactly as before. The report is therefore the Python parser's, word for word.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.periods import MAX_DATE, MIN_DATE

#: Whitespace Python's ``str.strip`` removes from the values the format has (space, tab, no-break space).
_TRIM = "btrim({v}, E' \\t\\u00a0')"


@dataclass(frozen=True)
class SqlField:
    #: SQL boolean over the text value ``{v}`` (never NULL): the value is certainly valid.
    ok: str
    #: SQL expression over ``{v}``: the typed value (only evaluated where ``ok``).
    value: str

    def ok_for(self, column: str) -> str:
        return "(" + self.ok.replace("{v}", column) + ")"

    def value_for(self, column: str) -> str:
        return "(" + self.value.replace("{v}", column) + ")"


def optional(field: SqlField, default: str) -> SqlField:
    """An optional column: absent or blank gives ``default``."""
    blank = f"({{v}} IS NULL OR {_TRIM} = '')"
    return SqlField(f"({blank} OR {field.ok})", f"CASE WHEN {blank} THEN {default} ELSE {field.value} END")


def pattern(regex: str) -> SqlField:
    """A value matching ``regex`` whole, kept as it is (trimmed)."""
    return SqlField(f"COALESCE({_TRIM} ~ '^(?:{regex})$', false)", _TRIM)


def text(max_length: int) -> SqlField:
    return SqlField(f"COALESCE(length({_TRIM}) BETWEEN 1 AND {max_length}, false)", _TRIM)


_MONEY = "-?[0-9]{1,3}(?:[ \u00a0\u202f]?[0-9]{3})*(?:[.,][0-9]{1,2})?"


def money(*, positive: bool = False, non_negative: bool = False) -> SqlField:
    """Kopecks from rubles (decimal comma or point, thousands separated by a space or not)."""
    value = f"(replace(translate({_TRIM}, ' \u00a0\u202f', ''), ',', '.')::numeric * 100)::bigint"
    # Shape first; only then is the value computed (CASE evaluates in order).
    low = "1" if positive else ("0" if non_negative else "-999999999999999")
    ok = (
        f"COALESCE(CASE WHEN {_TRIM} ~ '^{_MONEY}$' THEN {value} BETWEEN {low} AND 999999999999999 "
        "ELSE false END, false)"
    )
    return SqlField(ok, value)


def decimal(*, places: int, integer_digits: int) -> SqlField:
    """A non-negative decimal with at most ``places`` decimals and ``integer_digits`` integer digits."""
    regex = f"[0-9]{{1,{integer_digits}}}(?:[.,][0-9]{{1,{places}}})?"
    return SqlField(
        f"COALESCE({_TRIM} ~ '^(?:{regex})$', false)",
        f"replace({_TRIM}, ',', '.')::numeric",
    )


def integer(*, low: int, high: int) -> SqlField:
    return SqlField(
        f"COALESCE(CASE WHEN {_TRIM} ~ '^[0-9]{{1,9}}$' THEN {_TRIM}::int BETWEEN {low} AND {high} "
        "ELSE false END, false)",
        f"{_TRIM}::int",
    )


def _calendar(year: str, month: str, day: str) -> str:
    """Whether the (integer) year, month and day make a day within the portal's years."""
    last = (
        f"CASE WHEN {month} = 2 THEN CASE WHEN ({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0 "
        f"THEN 29 ELSE 28 END WHEN {month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    )
    return (
        f"{year} BETWEEN {MIN_DATE.year} AND {MAX_DATE.year} AND {month} BETWEEN 1 AND 12 "
        f"AND {day} BETWEEN 1 AND {last}"
    )


_DMY_Y, _DMY_M, _DMY_D = (f"substr({_TRIM}, {s}, {n})::int" for s, n in ((7, 4), (4, 2), (1, 2)))
_ISO_Y, _ISO_M, _ISO_D = (f"substr({_TRIM}, {s}, {n})::int" for s, n in ((1, 4), (6, 2), (9, 2)))
_DMY = "[0-9]{2}\\.[0-9]{2}\\.[0-9]{4}"
_ISO = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
assert (MIN_DATE.month, MIN_DATE.day, MAX_DATE.month, MAX_DATE.day) == (1, 1, 12, 31)

#: ``DD.MM.YYYY`` or ``YYYY-MM-DD``.
DATE = SqlField(
    f"COALESCE(CASE WHEN {_TRIM} ~ '^{_DMY}$' THEN {_calendar(_DMY_Y, _DMY_M, _DMY_D)} "
    f"WHEN {_TRIM} ~ '^{_ISO}$' THEN {_calendar(_ISO_Y, _ISO_M, _ISO_D)} ELSE false END, false)",
    f"CASE WHEN {_TRIM} ~ '^{_DMY}$' THEN make_date({_DMY_Y}, {_DMY_M}, {_DMY_D}) "
    f"ELSE make_date({_ISO_Y}, {_ISO_M}, {_ISO_D}) END",
)

#: ``YYYY-MM``: the month's first day.
MONTH = SqlField(
    f"COALESCE(CASE WHEN {_TRIM} ~ '^[0-9]{{4}}-[0-9]{{2}}$' THEN {_calendar(_ISO_Y, _ISO_M, '1')} "
    "ELSE false END, false)",
    f"make_date({_ISO_Y}, {_ISO_M}, 1)",
)

#: ``DD.MM.YYYY HH:MM`` in the billing center's time (Europe/Moscow); other shapes go to Python.
MOMENT = SqlField(
    f"COALESCE(CASE WHEN {_TRIM} ~ '^{_DMY} [0-9]{{2}}:[0-9]{{2}}$' THEN "
    f"{_calendar(_DMY_Y, _DMY_M, _DMY_D)} AND substr({_TRIM}, 12, 2)::int < 24 "
    f"AND substr({_TRIM}, 15, 2)::int < 60 ELSE false END, false)",
    f"make_timestamptz({_DMY_Y}, {_DMY_M}, {_DMY_D}, substr({_TRIM}, 12, 2)::int, "
    f"substr({_TRIM}, 15, 2)::int, 0, 'Europe/Moscow')",
)


def choice(allowed: dict[str, str]) -> SqlField:
    """One of the allowed words (any case), as the value it stands for."""
    cases = " ".join(f"WHEN '{word}' THEN '{value}'" for word, value in sorted(allowed.items()))
    words = ", ".join(f"'{word}'" for word in sorted(allowed))
    return SqlField(f"COALESCE(lower({_TRIM}) IN ({words}), false)", f"CASE lower({_TRIM}) {cases} END")
