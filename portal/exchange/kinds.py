"""The file kinds of the exchange format: their columns, how each value is parsed, their staging tables.

A file's kind is recognised by its header (the set of its columns); see docs/exchange.md. Every kind
has a natural key (what makes a line unique: the same key twice in a file set is an error) and its
staging table, into which validated lines are bulk-loaded before being merged in SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import BigInteger, Column, Date, Integer, MetaData, Numeric, String, Table

from portal.exchange import fields as f
from portal.exchange import sqlfields as q
from portal.kit.db import UTCDateTime
from portal.models import PaymentChannel, PaymentPurpose, ServiceBasis


class RowError(ValueError):
    """A whole line is wrong (not one field): the columns' values contradict each other."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class FieldSpec:
    name: str
    parse: Callable[[str], Any]
    sql_type: Any
    required: bool = True
    #: The value of an optional column that is absent or empty.
    default: Any = None
    #: The SQL fast path of ``parse`` (PostgreSQL); None: the kind is parsed in Python only.
    sql: q.SqlField | None = None


def _choice(allowed: dict[str, str], what: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        cleaned = value.strip().lower()
        if cleaned not in allowed:
            raise f.FieldError(f"{what}: одно из {', '.join(sorted(set(allowed)))}")
        return allowed[cleaned]

    return parse


_BASES = {b.value: b.value for b in ServiceBasis}
_PURPOSES = {
    PaymentPurpose.UTILITIES.value: "utilities",
    PaymentPurpose.CAPITAL_REPAIR.value: "capital_repair",
}
_CHANNELS = {c.value: c.value for c in (PaymentChannel.BANK, PaymentChannel.POST, PaymentChannel.CASH_DESK)}
#: Readings taken elsewhere: by the billing system, a controller (контролёр) or remote reading (АСКУЭ).
_SOURCES = {"import": "import", "controller": "inspector", "inspector": "inspector", "remote": "remote"}
_BASIS = _choice(_BASES, "способ расчёта")
_PURPOSE = _choice(_PURPOSES, "назначение")
_CHANNEL = _choice(_CHANNELS, "канал")
_READING_SOURCE = _choice(_SOURCES, "источник")
_CODE_SQL = q.pattern("[a-z][a-z0-9_]*", max_length=40, ascii_only=True)
_ACCOUNT_SQL = q.pattern("[0-9]+", min_length=6, max_length=20, ascii_only=True)
_COLLECTOR_SQL = q.pattern("[a-z][a-z0-9_]*", max_length=30, ascii_only=True)
_SERIAL_SQL = q.pattern("[0-9A-Za-zА-Яа-яЁё]([0-9A-Za-zА-Яа-яЁё./ -]*[0-9A-Za-zА-Яа-яЁё./-])?", max_length=40)

_money = f.money
_text = partial(f.text, max_length=300)


def _t(n: int) -> Callable[[str], str]:
    return partial(f.text, max_length=n)


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    row_check: Callable[[dict[str, Any]], None] | None = None
    #: ``row_check``'s fast path: SQL over the typed columns, true when the line certainly passes.
    sql_row_ok: str = "true"

    @property
    def sql_ready(self) -> bool:
        """Every column has an SQL fast path (payees' check digits are Python's alone)."""
        return all(spec.sql is not None for spec in self.fields)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.fields if spec.required)

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.fields)

    def staging_name(self) -> str:
        return f"stg_{self.name}"


def _payee_check(row: dict[str, Any]) -> None:
    try:
        f.check_settlement_account(row["account"], row["bic"])
    except f.FieldError as exc:
        raise RowError("account", str(exc)) from exc
    try:
        f.check_correspondent_account(row["correspondent_account"], row["bic"])
    except f.FieldError as exc:
        raise RowError("correspondent_account", str(exc)) from exc
    if not row["short_name"]:
        row["short_name"] = row["name"][:120]


def _meter_check(row: dict[str, Any]) -> None:
    if row["verification"] < row["installed"]:
        raise RowError("verification", "дата поверки раньше даты установки")
    if row["removed"] is not None and row["removed"] < row["installed"]:
        raise RowError("removed", "дата снятия раньше даты установки")


def _reading_check(row: dict[str, Any]) -> None:
    if row["value"] < 0:
        raise RowError("value", "показание не может быть отрицательным")


PAYEES = Kind(
    "payees",
    "получатели платежей",
    (
        FieldSpec("code", f.code, String(40)),
        FieldSpec("name", _t(160), String(160)),
        FieldSpec("short_name", lambda v: v.strip()[:120], String(120), required=False, default=""),
        FieldSpec("inn", f.inn, String(12)),
        FieldSpec("kpp", f.kpp, String(9)),
        FieldSpec("account", f.bank_account, String(20)),
        FieldSpec("bank", _t(45), String(45)),
        FieldSpec("bic", f.bic, String(9)),
        FieldSpec("correspondent_account", f.bank_account, String(20)),
        FieldSpec("address", lambda v: v.strip()[:300], String(300), required=False, default=""),
        FieldSpec("phone", lambda v: v.strip()[:40], String(40), required=False, default=""),
    ),
    key=("code",),
    row_check=_payee_check,
)

SERVICES = Kind(
    "services",
    "услуги",
    (
        FieldSpec("code", f.code, String(40), sql=_CODE_SQL),
        FieldSpec("name", _t(120), String(120), sql=q.text(120)),
        FieldSpec("unit", _t(20), String(20), sql=q.text(20)),
        FieldSpec("basis", _BASIS, String(20), sql=q.choice(_BASES)),
        FieldSpec("payee", f.code, String(40), sql=_CODE_SQL),
        FieldSpec(
            "norm_per_resident",
            partial(f.decimal, places=4, integer_digits=8),
            Numeric(12, 4),
            required=False,
            sql=q.optional(q.decimal(places=4, integer_digits=8), "NULL"),
        ),
        FieldSpec(
            "implausible_limit",
            partial(f.decimal, places=3, integer_digits=11),
            Numeric(14, 3),
            required=False,
            sql=q.optional(q.decimal(places=3, integer_digits=11), "NULL"),
        ),
        FieldSpec(
            "sort_order",
            partial(f.integer, low=0, high=99_999),
            Integer,
            required=False,
            default=0,
            sql=q.optional(q.integer(low=0, high=99_999), "0"),
        ),
    ),
    key=("code",),
)

TARIFFS = Kind(
    "tariffs",
    "тарифы",
    (
        FieldSpec("service", f.code, String(40), sql=_CODE_SQL),
        FieldSpec("valid_from", f.date, Date, sql=q.DATE),
        FieldSpec("price", partial(f.money, non_negative=True), BigInteger, sql=q.money(non_negative=True)),
    ),
    key=("service", "valid_from"),
)

ACCOUNTS = Kind(
    "accounts",
    "лицевые счета",
    (
        FieldSpec("account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("address", _t(280), String(300), sql=q.text(280)),
        FieldSpec(
            "apartment",
            lambda v: f.text(v, max_length=20) if v.strip() else None,
            String(20),
            required=False,
            sql=q.optional(q.text(20), "NULL"),
        ),
        FieldSpec(
            "area",
            partial(f.decimal, places=2, integer_digits=6),
            Numeric(8, 2),
            sql=q.decimal(places=2, integer_digits=6),
        ),
        FieldSpec("residents", partial(f.integer, low=0, high=999), Integer, sql=q.integer(low=0, high=999)),
        FieldSpec("owner", _t(200), String(200), sql=q.text(200)),
    ),
    key=("account",),
)

CAPITAL_REPAIR = Kind(
    "capital_repair",
    "счета фонда капремонта",
    (
        FieldSpec("account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("fund_account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("fund_name", _t(200), String(200), sql=q.text(200)),
    ),
    key=("account",),
)

METERS = Kind(
    "meters",
    "счётчики",
    (
        FieldSpec("account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("service", f.code, String(40), sql=_CODE_SQL),
        FieldSpec("serial", f.serial_number, String(40), sql=_SERIAL_SQL),
        FieldSpec("digits", partial(f.integer, low=1, high=9), Integer, sql=q.integer(low=1, high=9)),
        FieldSpec("decimals", partial(f.integer, low=0, high=3), Integer, sql=q.integer(low=0, high=3)),
        FieldSpec("installed", f.date, Date, sql=q.DATE),
        FieldSpec("verification", f.date, Date, sql=q.DATE),
        FieldSpec(
            "removed",
            lambda v: f.date(v) if v.strip() else None,
            Date,
            required=False,
            sql=q.optional(q.DATE, "NULL"),
        ),
    ),
    key=("account", "serial"),
    row_check=_meter_check,
    sql_row_ok="verification >= installed AND (removed IS NULL OR removed >= installed)",
)

BALANCES = Kind(
    "balances",
    "входящие сальдо",
    (
        FieldSpec("account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("month", f.month, Date, sql=q.MONTH),
        FieldSpec("payee", f.code, String(40), sql=_CODE_SQL),
        FieldSpec("opening", f.money, BigInteger, sql=q.money()),
    ),
    key=("account", "month", "payee"),
)

CHARGES = Kind(
    "charges",
    "начисления",
    (
        FieldSpec("account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("month", f.month, Date, sql=q.MONTH),
        FieldSpec("service", f.code, String(40), sql=_CODE_SQL),
        FieldSpec(
            "volume",
            partial(f.decimal, places=4, integer_digits=10),
            Numeric(14, 4),
            sql=q.decimal(places=4, integer_digits=10),
        ),
        FieldSpec("tariff", partial(f.money, non_negative=True), BigInteger, sql=q.money(non_negative=True)),
        FieldSpec("charged", f.money, BigInteger, sql=q.money()),
        FieldSpec(
            "recalculation", f.money, BigInteger, required=False, default=0, sql=q.optional(q.money(), "0")
        ),
        FieldSpec(
            "penalties",
            partial(f.money, non_negative=True),
            BigInteger,
            required=False,
            default=0,
            sql=q.optional(q.money(non_negative=True), "0"),
        ),
    ),
    key=("account", "month", "service"),
)

PAYMENTS = Kind(
    "payments",
    "оплаты",
    (
        FieldSpec("date", f.date, Date, sql=q.DATE),
        FieldSpec("amount", partial(f.money, positive=True), BigInteger, sql=q.money(positive=True)),
        FieldSpec("account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("purpose", _PURPOSE, String(20), sql=q.choice(_PURPOSES)),
        FieldSpec("collector", f.code, String(30), sql=_COLLECTOR_SQL),
        FieldSpec("reference", _t(48), String(48), sql=q.text(48)),
        FieldSpec(
            "channel",
            _CHANNEL,
            String(20),
            required=False,
            default="bank",
            sql=q.optional(q.choice(_CHANNELS), "'bank'"),
        ),
    ),
    key=("collector", "reference"),
)

READINGS = Kind(
    "readings",
    "показания",
    (
        FieldSpec("account", f.account_number, String(20), sql=_ACCOUNT_SQL),
        FieldSpec("serial", f.serial_number, String(40), sql=_SERIAL_SQL),
        FieldSpec("month", f.month, Date, sql=q.MONTH),
        FieldSpec(
            "value",
            partial(f.decimal, places=3, integer_digits=9),
            Numeric(13, 3),
            sql=q.decimal(places=3, integer_digits=9),
        ),
        FieldSpec("taken_at", f.moment, UTCDateTime(), sql=q.MOMENT),
        FieldSpec(
            "source",
            _READING_SOURCE,
            String(20),
            required=False,
            default="import",
            sql=q.optional(q.choice(_SOURCES), "'import'"),
        ),
    ),
    key=("account", "serial", "month"),
    row_check=_reading_check,
)

#: In the order they are merged: whatever a kind refers to comes before it.
KINDS: tuple[Kind, ...] = (
    PAYEES,
    SERVICES,
    TARIFFS,
    ACCOUNTS,
    CAPITAL_REPAIR,
    METERS,
    BALANCES,
    CHARGES,
    PAYMENTS,
    READINGS,
)
BY_NAME = {kind.name: kind for kind in KINDS}

#: Staging tables (temporary; created per import, dropped at its end).
STAGING = MetaData()
STAGING_TABLES: dict[str, Table] = {
    kind.name: Table(
        kind.staging_name(),
        STAGING,
        Column("seq", BigInteger),
        Column("file_no", Integer),
        Column("line_no", BigInteger),
        *(Column(spec.name, spec.sql_type) for spec in kind.fields),
        prefixes=["TEMPORARY"],
    )
    for kind in KINDS
}


def recognise(header: list[str], filename: str) -> Kind | None:
    """The kind whose columns the header has: all the required ones and nothing unknown.

    When no kind fits exactly, the file's name (``charges-2026-10.csv``) picks the kind, so that
    the report can name the missing or unknown columns.
    """
    columns = frozenset(header)
    exact = [kind for kind in KINDS if kind.required <= columns <= kind.columns]
    if len(exact) == 1:
        return exact[0]
    stem = filename.lower()
    by_name = [kind for kind in KINDS if stem.startswith(kind.name)]
    return by_name[0] if len(by_name) == 1 else (exact[0] if exact else None)


class RowParser:
    """Parses the lines of one file: each column's position in its header is looked up once."""

    def __init__(self, kind: Kind, header: list[str]) -> None:
        self.kind = kind
        position = {name: index for index, name in enumerate(header)}
        self._plan = [
            (spec.name, spec.parse, spec.required, spec.default, position.get(spec.name))
            for spec in kind.fields
        ]
        self._names = [spec.name for spec in kind.fields]

    def __call__(self, values: list[str]) -> tuple[list[Any], list[tuple[str, str]]]:
        """The typed values in the kind's column order, and the errors as (column, reason)."""
        row: list[Any] = []
        errors: list[tuple[str, str]] | None = None
        for name, parse, required, default, index in self._plan:
            raw = None if index is None else values[index]
            if raw is None or (not required and not raw.strip()):
                row.append(default)
                continue
            try:
                row.append(parse(raw))
            except f.FieldError as exc:
                row.append(None)
                if errors is None:
                    errors = []
                errors.append((name, str(exc)))
        if errors:
            return row, errors
        check = self.kind.row_check
        if check is not None:
            named = dict(zip(self._names, row, strict=True))
            try:
                check(named)
            except RowError as exc:
                return row, [(exc.column, exc.reason)]
            row = [named[name] for name in self._names]
        return row, []


def parse_row(kind: Kind, values: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The row's typed values and its errors as (column, reason)."""
    row: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for spec in kind.fields:
        raw = values.get(spec.name)
        if raw is None or (not spec.required and not raw.strip()):
            row[spec.name] = spec.default
            continue
        try:
            row[spec.name] = spec.parse(raw)
        except f.FieldError as exc:
            errors.append((spec.name, str(exc)))
    if not errors and kind.row_check is not None:
        try:
            kind.row_check(row)
        except RowError as exc:
            errors.append((exc.column, exc.reason))
    return row, errors
