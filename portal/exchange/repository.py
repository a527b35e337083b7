"""SQL of the import: staging tables, bulk loading, the checks that need the database, and the merges.

Staging tables are temporary (per connection) and typed like their targets; PostgreSQL fills them
with ``COPY`` (asyncpg's ``copy_records_to_table``), SQLite with ``executemany``. Merges are two
statements per table: an ``UPDATE … FROM`` of the rows whose values are distinct, then an ``INSERT …
SELECT`` of the missing keys (an anti-join rather than ``ON CONFLICT``, so that a repeated import
neither writes a row nor burns sequence values).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.exchange import reader
from portal.exchange.kinds import BY_NAME, STAGING_TABLES, Kind
from portal.kit.repository import Repository
from portal.models import ImportRun


def _create_table(sync_session: Session, table: Table) -> None:
    table.create(sync_session.connection())


# --- checks against the file set and the database --------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """Rows of a staging table (alias ``s``) that ``where`` selects are wrong in ``column``."""

    column: str
    reason: str
    where: str
    #: Checks with the same ``tally`` are counted in one pass: a FROM clause over the staging table's
    #: rows (one row each) and ``fails``, this check's condition over it. Empty: ``where`` is counted.
    tally: str = ""
    fails: str = ""


def _duplicates(kind: Kind) -> Check:
    key = ", ".join(kind.key)
    return Check(
        kind.key[-1],
        "строка повторяет ключ (" + ", ".join(kind.key) + ") более ранней строки",
        f"s.seq IN (SELECT d.seq FROM (SELECT seq, row_number() OVER (PARTITION BY {key} ORDER BY seq) AS rn "
        f"FROM {kind.staging_name()}) d WHERE d.rn > 1)",
    )


def _missing(column: str, reason: str, *sources: str) -> Check:
    conditions = " AND ".join(f"NOT EXISTS (SELECT 1 FROM {source})" for source in sources)
    return Check(column, reason, conditions)


_ACCOUNT_MISSING = _missing(
    "account",
    "лицевой счёт не найден ни в файлах, ни в базе",
    "accounts a WHERE a.number = s.account",
    "stg_accounts x WHERE x.account = s.account",
)
_SERVICE_MISSING = _missing(
    "service",
    "услуга не найдена ни в файле услуг, ни в базе",
    "services v WHERE v.code = s.service",
    "stg_services x WHERE x.code = s.service",
)
_PAYEE_MISSING = _missing(
    "payee",
    "получатель платежей не найден ни в файле получателей, ни в базе",
    "payees p WHERE p.code = s.payee",
    "stg_payees x WHERE x.code = s.payee",
)

#: The meter a reading is for: as the meters file describes it, else as the database has it.
_READING_METERS = (
    "SELECT x.account, x.serial, x.digits, x.decimals, x.removed FROM stg_meters x UNION ALL "
    "SELECT a.number, m.serial_number, m.integer_digits, m.decimals, m.removed_on FROM meters m "
    "JOIN accounts a ON a.id = m.account_id WHERE NOT EXISTS (SELECT 1 FROM stg_meters y "
    "WHERE y.account = a.number AND y.serial = m.serial_number)"
)
_POWERS_OF_TEN = "CASE mm.digits " + " ".join(f"WHEN {n} THEN {10**n}" for n in range(1, 10)) + " END"


#: Each reading with its meter: the three meter checks are counted in one pass over this join.
_READINGS_WITH_METERS = (
    f"stg_readings r JOIN ({_READING_METERS}) mm ON mm.account = r.account AND mm.serial = r.serial"
)


def _reading_meter_check(reason: str, violation: str) -> Check:
    """Readings whose meter (``mm``: digits, decimals, removed) makes ``violation`` true (a hash join)."""
    on_r = violation.replace("s.", "r.")
    return Check(
        "value" if "value" in violation else "month",
        reason,
        f"s.seq IN (SELECT r.seq FROM {_READINGS_WITH_METERS} WHERE {on_r})",
        tally=_READINGS_WITH_METERS,
        fails=on_r,
    )


CHECKS: dict[str, tuple[Check, ...]] = {
    "payees": (),
    "services": (_PAYEE_MISSING,),
    "tariffs": (_SERVICE_MISSING,),
    "accounts": (),
    "capital_repair": (
        _ACCOUNT_MISSING,
        Check(
            "fund_account",
            "этот счёт фонда капремонта уже принадлежит другому лицевому счёту",
            "EXISTS (SELECT 1 FROM capital_repair_accounts c JOIN accounts a ON a.id = c.account_id "
            "WHERE c.number = s.fund_account AND a.number <> s.account) "
            "OR s.fund_account IN (SELECT x.fund_account FROM stg_capital_repair x GROUP BY x.fund_account "
            "HAVING count(*) > 1)",
        ),
    ),
    "meters": (_ACCOUNT_MISSING, _SERVICE_MISSING),
    "balances": (_ACCOUNT_MISSING, _PAYEE_MISSING),
    "charges": (_ACCOUNT_MISSING, _SERVICE_MISSING),
    "payments": (
        _missing(
            "account",
            "ни лицевой счёт, ни счёт фонда капремонта с таким номером не найден",
            "accounts a WHERE a.number = s.account",
            "stg_accounts x WHERE x.account = s.account",
            "capital_repair_accounts c WHERE c.number = s.account",
            "stg_capital_repair x WHERE x.fund_account = s.account",
        ),
        Check(
            "reference",
            "платёж с этим номером сборщика уже загружен с другой датой, суммой или назначением",
            "EXISTS (SELECT 1 FROM payments p WHERE p.external_id = s.collector || '/' || s.reference "
            "AND p.channel IN ('bank', 'post', 'cash_desk') AND (p.amount_kopecks <> s.amount "
            "OR p.paid_on <> s.date OR p.purpose <> s.purpose))",
        ),
    ),
    "readings": (
        _missing(
            "serial",
            "счётчик с таким номером на этом лицевом счёте не найден ни в файлах, ни в базе",
            "meters m JOIN accounts a ON a.id = m.account_id WHERE a.number = s.account "
            "AND m.serial_number = s.serial",
            "stg_meters x WHERE x.account = s.account AND x.serial = s.serial",
        ),
        _reading_meter_check(
            "показание не помещается на счётчик: у него меньше цифр до запятой",
            f"s.value >= {_POWERS_OF_TEN}",
        ),
        _reading_meter_check(
            "у показания больше знаков после запятой, чем показывает счётчик",
            "s.value <> round(s.value, mm.decimals)",
        ),
        _reading_meter_check(
            "счётчик снят раньше этого месяца: показание за месяц после снятия не принимается",
            "mm.removed IS NOT NULL AND s.month > mm.removed",
        ),
    ),
}


def checks(kind: Kind, *, repeats: bool = True) -> tuple[Check, ...]:
    """The kind's checks; ``repeats=False`` leaves out the repeated keys' (a unique index was built)."""
    return (_duplicates(kind), *CHECKS[kind.name]) if repeats else CHECKS[kind.name]


# --- merges ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Merge:
    target: str
    #: SELECT yielding the target's columns by name from the staging table (ids resolved by joins).
    source: str
    key: tuple[str, ...]
    values: tuple[str, ...]
    #: Columns only an insert sets, with their SQL values.
    insert_only: tuple[tuple[str, str], ...] = ()
    #: False: rows are never updated (payments: a payment once loaded is what the collector reported).
    update: bool = True
    #: New rows get their ids in the files' order (the source then selects ``seq`` too).
    ordered: bool = False


MERGES: dict[str, Merge] = {
    "payees": Merge(
        "payees",
        "SELECT code, name, short_name, inn, kpp, account, bank AS bank_name, bic, correspondent_account, "
        "address, phone FROM stg_payees",
        ("code",),
        (
            "name",
            "short_name",
            "inn",
            "kpp",
            "account",
            "bank_name",
            "bic",
            "correspondent_account",
            "address",
            "phone",
        ),
    ),
    "services": Merge(
        "services",
        "SELECT code, name, unit, basis, payee, norm_per_resident, "
        "implausible_limit AS implausible_monthly_limit, "
        "sort_order FROM stg_services",
        ("code",),
        ("name", "unit", "basis", "payee", "norm_per_resident", "implausible_monthly_limit", "sort_order"),
    ),
    "tariffs": Merge(
        "tariffs",
        "SELECT v.id AS service_id, s.valid_from, s.price AS price_kopecks FROM stg_tariffs s "
        "JOIN services v ON v.code = s.service",
        ("service_id", "valid_from"),
        ("price_kopecks",),
    ),
    "accounts": Merge(
        "accounts",
        "SELECT account AS number, CASE WHEN apartment IS NULL THEN address "
        "ELSE address || ', кв. ' || apartment END AS address, apartment, owner AS owner_name, "
        "area AS area_m2, residents, seq FROM stg_accounts",
        ("number",),
        ("address", "apartment", "owner_name", "area_m2", "residents"),
        ordered=True,
    ),
    "capital_repair": Merge(
        "capital_repair_accounts",
        "SELECT a.id AS account_id, s.fund_account AS number, s.fund_name FROM stg_capital_repair s "
        "JOIN accounts a ON a.number = s.account",
        ("account_id",),
        ("number", "fund_name"),
    ),
    "meters": Merge(
        "meters",
        "SELECT a.id AS account_id, s.serial AS serial_number, v.id AS service_id, "
        "s.digits AS integer_digits, "
        "s.decimals, s.installed AS installed_on, s.verification AS next_verification_on, "
        "s.removed AS removed_on, s.seq FROM stg_meters s JOIN accounts a ON a.number = s.account "
        "JOIN services v ON v.code = s.service",
        ("account_id", "serial_number"),
        ("service_id", "integer_digits", "decimals", "installed_on", "next_verification_on", "removed_on"),
        insert_only=(("lock_version", "0"),),
        ordered=True,
    ),
    "balances": Merge(
        "opening_balances",
        "SELECT a.id AS account_id, s.payee, s.month AS period, s.opening AS balance_kopecks "
        "FROM stg_balances s JOIN accounts a ON a.number = s.account",
        ("account_id", "payee", "period"),
        ("balance_kopecks",),
    ),
    "charges": Merge(
        "charges",
        "SELECT a.id AS account_id, v.id AS service_id, s.month AS period, s.volume, "
        "s.tariff AS tariff_kopecks, s.charged AS charged_kopecks, s.recalculation AS recalculation_kopecks, "
        "s.penalties AS penalties_kopecks FROM stg_charges s JOIN accounts a ON a.number = s.account "
        "JOIN services v ON v.code = s.service",
        ("account_id", "service_id", "period"),
        ("volume", "tariff_kopecks", "charged_kopecks", "recalculation_kopecks", "penalties_kopecks"),
    ),
    "payments": Merge(
        "payments",
        "SELECT COALESCE(a.id, c.account_id) AS account_id, s.date AS paid_on, s.amount AS amount_kopecks, "
        "s.channel, s.purpose, s.collector || '/' || s.reference AS external_id FROM stg_payments s "
        "LEFT JOIN accounts a ON a.number = s.account "
        "LEFT JOIN capital_repair_accounts c ON c.number = s.account",
        ("external_id",),
        ("account_id", "paid_on", "amount_kopecks", "channel", "purpose"),
        update=False,
    ),
}


@dataclass
class Counts:
    lines: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    #: Lines of this kind left out with ``skip_bad``.
    skipped: int = 0
    #: sha256 over the kind's files (in order); a batch's is its own, never a file's.
    sha256: str = ""
    #: The target table's row count and largest id once the import wrote it (see ``watermark``).
    watermark: str = ""
    #: The kind's files were those of the last import of the kind and the table has not changed since.
    unchanged: bool = False


def target_table(kind: Kind) -> str:
    return "readings" if kind.name == "readings" else MERGES[kind.name].target


_READINGS_SOURCE = (
    "SELECT m.id AS meter_id, s.month AS period, s.value, s.taken_at AS submitted_at, s.source "
    "FROM stg_readings s JOIN accounts a ON a.number = s.account "
    "JOIN meters m ON m.account_id = a.id AND m.serial_number = s.serial"
)


def _unbounded(sql_type: str) -> str:
    """A column type without its length or scale: ``VARCHAR(40)`` → ``text``, ``NUMERIC(14, 4)`` →
    ``numeric`` (a staging table's values are bounded by their checks already)."""
    base = sql_type.split("(", 1)[0].strip().lower()
    return "text" if base == "varchar" else base


def kind_named(name: str) -> Kind:
    return BY_NAME[name]


class ExchangeRepository(Repository[ImportRun]):
    """The import's SQL: staging tables, bulk loading, the set-based checks, the merges and the log."""

    model = ImportRun

    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def create_staging(self, kinds: Sequence[Kind]) -> None:
        for kind in kinds:
            await self.drop_staging_table(kind)
            await self.session.run_sync(_create_table, STAGING_TABLES[kind.name])

    async def drop_staging_table(self, kind: Kind) -> None:
        await self.session.execute(text(f"DROP TABLE IF EXISTS {kind.staging_name()}"))

    async def load(self, kind: Kind, records: list[tuple[Any, ...]]) -> None:
        """Append validated rows (``seq``, ``file_no``, ``line_no``, the kind's columns) to its staging."""
        if not records:
            return
        table = STAGING_TABLES[kind.name]
        columns = [column.name for column in table.columns]
        if self.dialect() == "postgresql":
            connection = await self.session.connection()
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(table.name, records=records, columns=columns)
        else:
            await self.session.execute(
                insert(table), [dict(zip(columns, record, strict=True)) for record in records]
            )

    async def index_staging(self, kind: Kind) -> bool:
        """Index the loaded staging table by its key and gather its statistics (autovacuum skips
        temporary tables). Returns whether no key repeats: on PostgreSQL the index is built unique
        first, which, when it succeeds, says so in the same pass over the rows (a key's columns are
        required: never NULL); when a key repeats, the index is built plain and the repeated keys'
        check lists them. Elsewhere the index is plain and the check always runs (False)."""
        table = kind.staging_name()
        columns = ", ".join(kind.key)
        if self.dialect() != "postgresql":
            await self.session.execute(text(f"CREATE INDEX ix_{table}_key ON {table} ({columns})"))
            return False
        unique = True
        try:
            async with self.session.begin_nested():  # a savepoint: a refused unique index undoes itself
                await self.session.execute(text(f"CREATE UNIQUE INDEX ix_{table}_key ON {table} ({columns})"))
        except IntegrityError:
            unique = False
            await self.session.execute(text(f"CREATE INDEX ix_{table}_key ON {table} ({columns})"))
        await self.session.execute(text(f"ANALYZE {table}"))
        return unique

    async def count_bad(self, kind: Kind, checks: Sequence[Check]) -> list[int]:
        """How many rows fail each check. Checks that share a ``tally`` are tried in one pass; one that
        some row fails there is counted alone (its ``where`` counts each row once, whatever the join)."""
        table = kind.staging_name()
        tallied: dict[Check, int] = {}
        for check in checks:
            if check.tally and check not in tallied:
                together = [c for c in checks if c.tally == check.tally]
                filters = ", ".join(f"count(*) FILTER (WHERE {c.fails})" for c in together)
                row = (await self.session.execute(text(f"SELECT {filters} FROM {check.tally}"))).one()
                tallied.update(zip(together, (int(n) for n in row), strict=True))
        counts: list[int] = []
        for check in checks:
            if tallied.get(check) == 0:
                counts.append(0)
                continue
            count = await self.session.execute(text(f"SELECT count(*) FROM {table} s WHERE {check.where}"))
            counts.append(int(count.scalar_one()))
        return counts

    async def bad_rows(self, kind: Kind, check: Check, limit: int) -> list[tuple[int, int, str]]:
        """The first ``limit`` rows that fail ``check`` as (file_no, line_no, value)."""
        result = await self.session.execute(
            text(
                f"SELECT s.file_no, s.line_no, s.{check.column} FROM {kind.staging_name()} s "
                f"WHERE {check.where} ORDER BY s.seq LIMIT {int(limit)}"
            )
        )
        return [(int(a), int(b), str(c)) for a, b, c in result.tuples()]

    async def delete_bad(self, kind: Kind, check: Check) -> None:
        await self.session.execute(
            text(
                f"DELETE FROM {kind.staging_name()} WHERE seq IN "
                f"(SELECT s.seq FROM {kind.staging_name()} s WHERE {check.where})"
            )
        )

    async def tune(self) -> None:
        """The import's settings (PostgreSQL, this transaction only): memory for its joins, sorts and
        staging indexes, and no parallel workers: the import is one backend on one core, whatever the
        planner would like, and the other core serves the residents."""
        if self.dialect() == "postgresql":
            await self.session.execute(text("SET LOCAL work_mem = '128MB'"))
            await self.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            await self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))

    async def skip_row_triggers(self) -> bool:
        """Merge without the per-row foreign key triggers, where the import's role may (PostgreSQL:
        ``session_replication_role``, a superuser's or granted with ``GRANT SET ON PARAMETER``).

        The triggers would look up and lock the referenced row once per inserted row (two lookups per
        charge line: most of a first import's merge time); :meth:`secure_references` does the same
        once per table, set-based. Returns whether the triggers are skipped (till
        :meth:`restore_row_triggers`).
        """
        if self.dialect() != "postgresql":
            return False
        version = int((await self.session.execute(text("SHOW server_version_num"))).scalar_one())
        privilege = (
            "has_parameter_privilege('session_replication_role', 'SET')" if version >= 150000 else "false"
        )
        allowed = (
            await self.session.execute(text(f"SELECT current_setting('is_superuser') = 'on' OR {privilege}"))
        ).scalar_one()
        if allowed:
            await self.session.execute(text("SET LOCAL session_replication_role = replica"))
        return bool(allowed)

    async def restore_row_triggers(self) -> None:
        await self.session.execute(text("SET LOCAL session_replication_role = origin"))

    async def last_id(self, kind: Kind) -> int:
        table = target_table(kind)
        return int(
            (await self.session.execute(text(f"SELECT COALESCE(max(id), 0) FROM {table}"))).scalar_one()
        )

    async def secure_references(self, kind: Kind, after_id: int) -> None:
        """What the skipped foreign key triggers guarantee, for the rows this merge inserted (id above
        ``after_id``): every row they refer to exists, and is locked ``FOR KEY SHARE`` till the import
        commits, so that no one deletes it meanwhile. Rows inserted by this very transaction need no
        lock (no one else sees them). Updates change no reference but a meter's service, and services
        referred to by staged lines are locked as a whole. Raises when a referenced row is gone (a
        concurrent deletion): the import is rolled back and may be run again."""
        table = target_table(kind)
        own = "r.xmin::text::bigint <> txid_current() % 4294967296"
        for column, referenced, key in await self._foreign_keys(table):
            new = f"SELECT t.{column} FROM {table} t WHERE t.id > :after AND t.{column} IS NOT NULL"
            await self.session.execute(
                text(
                    f"SELECT count(*) FROM (SELECT 1 FROM {referenced} r WHERE r.{key} IN ({new}) AND {own} "
                    "FOR KEY SHARE OF r) l"
                ),
                {"after": after_id},
            )
            missing = (
                await self.session.execute(
                    text(
                        f"SELECT count(*) FROM (SELECT DISTINCT n.{column} AS ref FROM ({new}) n) d "
                        f"WHERE NOT EXISTS (SELECT 1 FROM {referenced} r WHERE r.{key} = d.ref)"
                    ),
                    {"after": after_id},
                )
            ).scalar_one()
            if missing:
                raise RuntimeError(
                    f"{table}.{column}: {missing} referenced row(s) of {referenced} "
                    "were deleted during the import"
                )
        if kind.name == "meters":
            await self.session.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM services r WHERE r.code IN "
                    "(SELECT service FROM stg_meters) FOR KEY SHARE OF r) l"
                )
            )

    async def _foreign_keys(self, table: str) -> list[tuple[str, str, str]]:
        """(column, referenced table, referenced column) of the table's single-column foreign keys."""
        result = await self.session.execute(
            text(
                "SELECT a.attname, c.confrelid::regclass::text, f.attname FROM pg_constraint c "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                "JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1] "
                "WHERE c.contype = 'f' AND c.conrelid = CAST(:table AS regclass) "
                "AND cardinality(c.conkey) = 1 "
                "ORDER BY c.conname"
            ),
            {"table": table},
        )
        return [(str(a), str(b), str(c)) for a, b, c in result.tuples()]

    async def merge(self, kind: Kind, counts: Counts) -> None:
        before = counts.inserted
        if kind.name == "readings":
            await self._merge_readings(counts)
        else:
            await self._merge_table(kind, counts)
        if counts.inserted > before and self.dialect() == "postgresql":
            # The next kinds join this table: plan them on what it holds now, not on yesterday's statistics.
            target = target_table(kind)
            await self.session.execute(text(f"ANALYZE {target}"))

    async def _merge_table(self, kind: Kind, counts: Counts) -> None:
        spec = MERGES[kind.name]
        key_match = " AND ".join(f"t.{k} = src.{k}" for k in spec.key)
        if spec.update:
            distinct = " OR ".join(f"t.{c} IS DISTINCT FROM src.{c}" for c in spec.values)
            assignments = ", ".join(f"{c} = src.{c}" for c in spec.values)
            result: Any = await self.session.execute(
                text(
                    f"UPDATE {spec.target} AS t SET {assignments} FROM ({spec.source}) AS src "
                    f"WHERE {key_match} AND ({distinct})"
                )
            )
            counts.updated += max(0, result.rowcount or 0)
        if kind.name == "charges":
            # A month's charges from the billing system replace that month's charges of the accounts it
            # lists (a recalculation): services no longer charged that month go.
            result = await self.session.execute(
                text(
                    "DELETE FROM charges WHERE id IN (SELECT t.id FROM charges t "
                    "JOIN (SELECT DISTINCT a.id AS account_id, s.month AS period FROM stg_charges s "
                    "JOIN accounts a ON a.number = s.account) p ON p.account_id = t.account_id "
                    "AND p.period = t.period "
                    f"WHERE NOT EXISTS (SELECT 1 FROM ({spec.source}) src WHERE {key_match}))"
                )
            )
            counts.deleted += max(0, result.rowcount or 0)
        columns = [*spec.key, *spec.values]
        extra_columns = "".join(f", {c}" for c, _ in spec.insert_only)
        extra_values = "".join(f", {v}" for _, v in spec.insert_only)
        missing = f"NOT EXISTS (SELECT 1 FROM {spec.target} t WHERE {key_match})"
        if kind.name == "payments":
            missing = (
                "NOT EXISTS (SELECT 1 FROM payments t WHERE t.external_id = src.external_id "
                "AND t.channel IN ('bank', 'post', 'cash_desk'))"
            )
        result = await self.session.execute(
            text(
                f"INSERT INTO {spec.target} ({', '.join(columns)}{extra_columns}) "
                f"SELECT {', '.join('src.' + c for c in columns)}{extra_values} FROM ({spec.source}) AS src "
                f"WHERE {missing}{' ORDER BY src.seq' if spec.ordered else ''}"
            )
        )
        counts.inserted += max(0, result.rowcount or 0)

    async def _merge_readings(self, counts: Counts) -> None:
        """A reading taken elsewhere is added; one that differs from the accepted reading replaces it."""
        result: Any = await self.session.execute(
            text(
                f"UPDATE readings AS t SET status = 'replaced' FROM ({_READINGS_SOURCE}) AS src "
                "WHERE t.meter_id = src.meter_id AND t.period = src.period AND t.status = 'accepted' "
                "AND t.value IS DISTINCT FROM src.value"
            )
        )
        counts.updated += max(0, result.rowcount or 0)
        # The accepted readings of the staged months, read once before the insert: probed row by row in
        # the index the insert is filling (what the planner picks on a table it believes empty), they
        # would cost an index descent per line.
        result = await self.session.execute(
            text(
                "WITH accepted AS MATERIALIZED (SELECT t.meter_id, t.period FROM readings t "
                "WHERE t.status = 'accepted' AND t.period IN (SELECT month FROM stg_readings)) "
                "INSERT INTO readings (meter_id, period, value, submitted_at, source, status, rollover, "
                "needs_review) SELECT src.meter_id, src.period, src.value, src.submitted_at, src.source, "
                f"'accepted', false, false FROM ({_READINGS_SOURCE}) AS src WHERE NOT EXISTS "
                "(SELECT 1 FROM accepted t WHERE t.meter_id = src.meter_id AND t.period = src.period)"
            )
        )
        counts.inserted += max(0, result.rowcount or 0)
        if counts.updated:
            await self.session.execute(
                text(
                    "UPDATE readings AS t SET replaced_by_id = n.id FROM readings n "
                    "WHERE t.status = 'replaced' AND t.replaced_by_id IS NULL AND n.meter_id = t.meter_id "
                    "AND n.period = t.period AND n.status = 'accepted'"
                )
            )

    async def log_run(self, run: ImportRun) -> int:
        """Store the import's log row (in the import's transaction) and return its number."""
        await self.create(run, flush=True)
        return run.id

    async def watermark(self, kind: Kind) -> str:
        """The kind's table's row count and largest id: any write but an update changes it."""
        row = (await self.session.execute(text(f"SELECT count(*), max(id) FROM {target_table(kind)}"))).one()
        return f"{row[0]}:{row[1] or 0}"

    async def last_counts(self, kind: Kind) -> dict[str, Any] | None:
        """The kind's counts in the last successful import that included it."""
        result = await self.session.execute(
            text(
                "SELECT counts FROM import_runs WHERE status = 'imported' AND counts LIKE :pattern "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"pattern": f'%"{kind.name}": {{%'},
        )
        counts = result.scalar_one_or_none()
        if counts is None:
            return None
        found: dict[str, Any] | None = json.loads(counts).get(kind.name)
        return found

    # --- the PostgreSQL fast path: raw text staging, converted in SQL ------------------------------

    async def create_raw(self, kind: Kind) -> None:
        """A temporary table of the kind's lines as text, in the kind's column order."""
        columns = "".join(f", {spec.name} text" for spec in kind.fields)
        await self.session.execute(text(f"DROP TABLE IF EXISTS raw_{kind.name}"))
        await self.session.execute(
            text(f"CREATE TEMPORARY TABLE raw_{kind.name} (seq bigint, file_no int, line_no bigint{columns})")
        )
        for sequence in ("raw_seq", "raw_line"):
            await self.session.execute(text(f"CREATE TEMPORARY SEQUENCE IF NOT EXISTS {sequence}"))

    async def copy_file(
        self, kind: Kind, info: reader.FileInfo, header: Sequence[str], *, file_no: int, after: int
    ) -> int | None:
        """``COPY`` a plain file (see :class:`reader.FileInfo`) straight into the kind's raw table, its
        lines numbered as Python's reader numbers them (the header is line 1; ``seq`` goes on from
        ``after``). Returns the lines loaded, or None when the database's CSV reader refused the file
        (nothing of it is kept: the caller reads it in Python, which reports what is wrong)."""
        table = f"raw_{kind.name}"
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        try:
            async with driver.transaction():  # a savepoint: a refusal undoes this file alone
                await driver.execute(
                    f"ALTER TABLE {table} ALTER seq SET DEFAULT nextval('raw_seq'), "
                    f"ALTER file_no SET DEFAULT {int(file_no)}, "
                    "ALTER line_no SET DEFAULT nextval('raw_line'); "
                    f"SELECT setval('raw_seq', {int(after) + 1}, false), setval('raw_line', 2, false)"
                )
                status = await driver.copy_to_table(
                    table,
                    source=str(info.path),
                    columns=list(header),
                    format="csv",
                    delimiter=";",
                    header=True,
                    encoding="utf-8" if info.encoding.startswith("utf-8") else "win1251",
                )
        except asyncpg.PostgresError:
            return None
        return int(str(status).rsplit(" ", 1)[-1])

    async def load_raw(self, kind: Kind, records: list[tuple[Any, ...]]) -> None:
        """Append lines as text (``seq``, ``file_no``, ``line_no``, the values) with ``COPY``."""
        if not records:
            return
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        columns = ["seq", "file_no", "line_no", *(spec.name for spec in kind.fields)]
        await driver.copy_records_to_table(f"raw_{kind.name}", records=records, columns=columns)

    async def convert_raw(self, kind: Kind) -> int:
        """Make the kind's staging table of the lines whose every value has its usual, valid shape.

        ``CREATE TABLE … AS`` rather than ``INSERT … SELECT`` into the empty staging table: it writes
        the rows in bulk, and its columns are the staging table's types without their lengths and
        scales (text, numeric), which the shapes have already bounded: half the cost of writing them.
        The lines the SQL leaves are appended afterwards (:meth:`load`), as Python converts them.
        ``OFFSET 0`` keeps the subquery whole: values are converted only on lines whose shape passed.
        """
        assert kind.sql_ready
        ok = " AND ".join(spec.sql.ok_for(f"r.{spec.name}") for spec in kind.fields if spec.sql)
        values = ", ".join(
            f"{spec.sql.value_for(f'r.{spec.name}')} AS {spec.name}" for spec in kind.fields if spec.sql
        )
        dialect = self.session.get_bind().dialect
        columns = ", ".join(
            f"CAST({column.name} AS {_unbounded(column.type.compile(dialect=dialect))}) AS {column.name}"
            for column in STAGING_TABLES[kind.name].columns
        )
        await self.drop_staging_table(kind)
        result: Any = await self.session.execute(
            text(
                f"CREATE TEMPORARY TABLE {kind.staging_name()} AS SELECT {columns} FROM "
                f"(SELECT r.seq, r.file_no, r.line_no, {values} "
                f"FROM raw_{kind.name} r WHERE {ok} OFFSET 0) c WHERE {kind.sql_row_ok}"
            )
        )
        return max(0, result.rowcount or 0)

    async def unconverted(self, kind: Kind, batch: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The lines the SQL fast path left (wrong or unusual values), in batches, in file order."""
        # The database's CSV reader reads an empty value as NULL; Python's reader, as an empty string.
        names = ", ".join(f"COALESCE(r.{spec.name}, '') AS {spec.name}" for spec in kind.fields)
        left = f"left_{kind.name}"
        await self.session.execute(text(f"DROP TABLE IF EXISTS {left}"))
        await self.session.execute(
            text(
                f"CREATE TEMPORARY TABLE {left} AS SELECT r.seq, r.file_no, r.line_no, {names} "
                f"FROM raw_{kind.name} r WHERE NOT EXISTS "
                f"(SELECT 1 FROM {kind.staging_name()} s WHERE s.seq = r.seq)"
            )
        )
        await self.session.execute(text(f"CREATE INDEX ix_{left}_seq ON {left} (seq)"))
        after = 0
        while True:
            result = await self.session.execute(
                text(f"SELECT * FROM {left} WHERE seq > :after ORDER BY seq LIMIT {int(batch)}"),
                {"after": after},
            )
            rows = [tuple(row) for row in result]
            if not rows:
                break
            yield rows
            after = rows[-1][0]
        await self.session.execute(text(f"DROP TABLE {left}"))

    async def drop_raw(self, kind: Kind) -> None:
        await self.session.execute(text(f"DROP TABLE IF EXISTS raw_{kind.name}"))

    async def lock(self) -> None:
        """One import at a time (PostgreSQL, till the transaction ends): concurrent batches and files
        would otherwise race to insert the same new keys. SQLite serialises writers by itself."""
        if self.dialect() == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(7405120112)"))
