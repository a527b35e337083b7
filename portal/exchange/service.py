"""Rules of the import: validate every line of every file, then merge it all in one transaction, or nothing.

:func:`import_paths` reads files (the CLI, the demo seeder); :func:`import_batch` takes one kind's
records as text values, as an operator API would receive them in JSON batches. Both stage the
records, check them against each other and the database, and merge them only when nothing is wrong
(or, with ``skip_bad``, without the wrong lines, which the report lists). The caller commits — or, for
a refused import, rolls back and may record the refusal with :func:`record_run`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.exchange import reader, repository
from portal.exchange.kinds import BY_NAME, KINDS, Kind, RowParser, recognise
from portal.kit.cache import invalidate_after_commit
from portal.models import ImportRun

#: Rows sent to the database at once (COPY or executemany): memory stays flat whatever the file size.
BATCH_ROWS = 20_000
#: Errors kept for the report; more are counted, not listed.
MAX_REPORTED_ERRORS = 1_000


@dataclass(frozen=True)
class LineError:
    file: str
    line: int  # 0: the file as a whole
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, строка {self.line}" if self.line else self.file
        return f"{where}, поле «{self.field}»: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    checksum: str = ""
    #: ``imported`` or ``refused``.
    status: str = "imported"
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    #: Lines left out with ``skip_bad`` (each listed in ``errors`` up to the limit).
    skipped_lines: int = 0
    lines_read: int = 0
    counts: dict[str, repository.Counts] = field(default_factory=dict)
    import_id: int | None = None

    def add_error(self, error: LineError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    @property
    def changed(self) -> int:
        return sum(c.inserted + c.updated + c.deleted for c in self.counts.values())

    def counts_json(self) -> str:
        return json.dumps(
            {name: vars(counts) for name, counts in sorted(self.counts.items())}, ensure_ascii=False
        )


class ImportRefused(Exception):
    """The files have errors and ``skip_bad`` was not given: nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{report.error_count} error(s)")
        self.report = report


@dataclass
class _Source:
    name: str
    kind: Kind
    header: list[str]
    lines: Iterator[tuple[int, list[str]]]
    #: The file's sha256; a batch's ``batch:`` + its import id (never a file's).
    sha256: str
    #: The file (None: a batch's records).
    info: reader.FileInfo | None = None


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a directory stands for its ``*.csv`` files in name order."""
    files: list[Path] = []
    for path in paths:
        files.extend(
            sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv") if path.is_dir() else [path]
        )
    return files


def _open_sources(
    files: Sequence[Path], encoding: str | None, report: ImportReport
) -> list[tuple[_Source, reader.FileInfo]]:
    digest = hashlib.sha256()
    sources: list[tuple[_Source, reader.FileInfo]] = []
    for path in files:
        report.files.append(path.name)
        try:
            info = reader.inspect(path, encoding)
        except (OSError, reader.FileProblem) as exc:
            report.add_error(LineError(path.name, 0, "", str(exc)))
            continue
        digest.update(bytes.fromhex(info.sha256))
        lines = reader.rows(info)
        try:
            first = next(lines, None)
        except reader.FileProblem as exc:
            report.add_error(LineError(path.name, 0, "", str(exc)))
            continue
        if first is None:
            report.add_error(LineError(path.name, 0, "", "файл пуст: нет строки заголовка"))
            continue
        header = reader.header_names(first[1])
        kind = recognise(header, path.name)
        if kind is None:
            report.add_error(
                LineError(
                    path.name, 1, "", "заголовок не подходит ни к одному виду файлов (см. docs/exchange.md)"
                )
            )
            continue
        problems = _header_problems(kind, header)
        if problems:
            for problem in problems:
                report.add_error(LineError(path.name, 1, problem[0], problem[1]))
            continue
        sources.append((_Source(path.name, kind, header, lines, info.sha256, info), info))
    report.checksum = digest.hexdigest()
    return sources


def _header_problems(kind: Kind, header: list[str]) -> list[tuple[str, str]]:
    problems = [
        (name, f"нет обязательного столбца (файл «{kind.title}»)")
        for name in sorted(kind.required - set(header))
    ]
    problems += [
        (name, f"неизвестный столбец для файла «{kind.title}»") for name in header if name not in kind.columns
    ]
    problems += [(name, "столбец повторяется") for name in sorted({n for n in header if header.count(n) > 1})]
    return problems


async def _stage(
    session: AsyncSession,
    sources: Sequence[_Source],
    report: ImportReport,
    file_numbers: Mapping[str, int],
    progress: Callable[[str], None] | None,
) -> None:
    """Load every line into its kind's staging table, checked value by value.

    On PostgreSQL a kind whose every column has an SQL fast path is loaded as text with ``COPY`` and
    converted in one statement; only the lines that statement leaves (wrong or unusual values) are
    parsed in Python, which reports them. Elsewhere (SQLite; payees' check digits) each line is parsed
    in Python before loading. Either way a line is in the typed staging table only if it is valid.
    """
    repo = repository.ExchangeRepository(session)
    fast = repo.dialect() == "postgresql"
    raw_kinds: list[Kind] = []
    #: Lines in each kind's raw table: when the SQL conversion takes them all, none is left for Python.
    raw_lines: dict[str, int] = {}
    seq = 0
    for source in sources:
        kind = source.kind
        counts = report.counts.setdefault(kind.name, repository.Counts())
        width = len(source.header)
        in_sql = fast and kind.sql_ready
        if in_sql and kind not in raw_kinds:
            await repo.create_raw(kind)
            raw_kinds.append(kind)
        parse = RowParser(kind, source.header)
        positions = [
            source.header.index(spec.name) if spec.name in source.header else None for spec in kind.fields
        ]
        as_is = positions == list(range(width))
        batch: list[tuple[Any, ...]] = []
        file_no = file_numbers[source.name]
        if progress:
            progress(f"{source.name}: {kind.title} — проверка и загрузка")
        if in_sql and source.info is not None and source.info.plain:
            # The database reads the file itself; a line its CSV reader refuses (a wrong number of
            # values, bytes outside the encoding) sends the whole file through Python, which reports it.
            loaded = await repo.copy_file(kind, source.info, source.header, file_no=file_no, after=seq)
            if loaded is not None:
                seq += loaded
                raw_lines[kind.name] = raw_lines.get(kind.name, 0) + loaded
                report.lines_read += loaded
                counts.lines += loaded
                continue
        try:
            for line_no, values in source.lines:
                report.lines_read += 1
                counts.lines += 1
                if len(values) != width:
                    report.add_error(
                        LineError(
                            source.name, line_no, "", f"в строке {len(values)} полей, а в заголовке {width}"
                        )
                    )
                    report.skipped_lines += 1
                    counts.skipped += 1
                    continue
                if in_sql:
                    seq += 1
                    raw_lines[kind.name] = raw_lines.get(kind.name, 0) + 1
                    if as_is:
                        batch.append((seq, file_no, line_no, *values))
                    else:
                        batch.append(
                            (seq, file_no, line_no, *(None if i is None else values[i] for i in positions))
                        )
                else:
                    row, errors = parse(values)
                    if errors:
                        for column, reason in errors:
                            report.add_error(LineError(source.name, line_no, column, reason))
                        report.skipped_lines += 1
                        counts.skipped += 1
                        continue
                    seq += 1
                    batch.append((seq, file_no, line_no, *row))
                if len(batch) >= BATCH_ROWS:
                    await (repo.load_raw(kind, batch) if in_sql else repo.load(kind, batch))
                    batch = []
        except reader.FileProblem as exc:
            report.add_error(LineError(source.name, 0, "", str(exc)))
            report.status = "refused"  # a file that cannot be read is never imported in part
        await (repo.load_raw(kind, batch) if in_sql else repo.load(kind, batch))
    for kind in raw_kinds:
        await _convert(repo, kind, report, progress, raw_lines.get(kind.name, 0))


async def _convert(
    repo: repository.ExchangeRepository,
    kind: Kind,
    report: ImportReport,
    progress: Callable[[str], None] | None,
    lines: int,
) -> None:
    """Convert a kind's text lines in SQL; parse the lines it leaves in Python (they carry the errors)."""
    if progress:
        progress(f"{kind.title}: проверка и преобразование значений в базе")
    converted = await repo.convert_raw(kind)
    counts = report.counts[kind.name]
    parse = RowParser(kind, [spec.name for spec in kind.fields])
    in_python = 0
    async for rows in repo.unconverted(kind, BATCH_ROWS) if converted < lines else _nothing():
        in_python += len(rows)
        good: list[tuple[Any, ...]] = []
        for seq, file_no, line_no, *values in rows:
            row, errors = parse(values)
            if errors:
                for column, reason in errors:
                    report.add_error(LineError(report.files[file_no], line_no, column, reason))
                report.skipped_lines += 1
                counts.skipped += 1
                continue
            good.append((seq, file_no, line_no, *row))
        await repo.load(kind, good)
    await repo.drop_raw(kind)
    if progress:
        progress(f"{kind.title}: строк преобразовано в базе {converted}, разобрано в Python {in_python}")


async def _nothing() -> AsyncIterator[list[tuple[Any, ...]]]:
    return
    yield


async def _check(
    session: AsyncSession,
    kinds: Sequence[Kind],
    report: ImportReport,
    names: Sequence[str],
    skip_bad: bool,
    progress: Callable[[str], None] | None,
) -> None:
    """The checks that need every file and the database, kind after kind in merge order."""
    repo = repository.ExchangeRepository(session)
    for kind in kinds:
        if progress:
            progress(f"{kind.title}: проверка ссылок и повторов")
        # A unique index says in the same pass that no key repeats: then the repeated keys' check is not run.
        unique = await repo.index_staging(kind)
        checks = repository.checks(kind, repeats=not unique)
        counts = await repo.count_bad(kind, checks)
        for position, check in enumerate(checks):
            count = counts[position]
            if not count:
                continue
            room = max(0, MAX_REPORTED_ERRORS - len(report.errors))
            rows = await repo.bad_rows(kind, check, max(room, 1))
            for file_no, line_no, value in rows[:room]:
                report.add_error(
                    LineError(names[file_no], line_no, check.column, f"{check.reason} ({value})")
                )
            report.error_count += count - min(len(rows), room)
            if skip_bad:
                report.skipped_lines += count
                report.counts[kind.name].skipped += count
                await repo.delete_bad(kind, check)
                # The lines left out fail no further check: count the rest again without them.
                counts[position + 1 :] = await repo.count_bad(kind, checks[position + 1 :])


async def _run(
    session: AsyncSession,
    sources: Sequence[_Source],
    report: ImportReport,
    *,
    skip_bad: bool,
    operator: str,
    now: dt.datetime,
    progress: Callable[[str], None] | None,
    skip_unchanged: bool = True,
) -> ImportReport:
    kinds = [kind for kind in KINDS if any(source.kind is kind for source in sources)]
    names = list(report.files)
    file_numbers = {name: position for position, name in enumerate(names)}
    repo = repository.ExchangeRepository(session)
    await repo.lock()
    await repo.tune()
    kinds = await _skip_unchanged(repo, sources, kinds, report, progress, enabled=skip_unchanged)
    sources = [source for source in sources if source.kind in kinds]
    # Every kind's staging table exists (empty when the kind is not imported): checks refer to them.
    # (An error rolls the transaction back, staging tables with it: they are dropped only on the way out.)
    await repo.create_staging(KINDS)
    await _stage(session, sources, report, file_numbers, progress)
    if report.status != "refused":
        await _check(session, kinds, report, names, skip_bad, progress)
    if report.status == "refused" or (report.error_count and not skip_bad):
        report.status = "refused"
        for kind in KINDS:
            await repo.drop_staging_table(kind)
        return report
    unchecked = await repo.skip_row_triggers()
    for kind in kinds:
        if progress:
            progress(f"{kind.title}: запись в базу")
        after_id = await repo.last_id(kind) if unchecked else 0
        counts = report.counts.setdefault(kind.name, repository.Counts())
        await repo.merge(kind, counts)
        if unchecked and counts.inserted:
            await repo.secure_references(kind, after_id)
    if unchecked:
        await repo.restore_row_triggers()
    for kind in KINDS:
        await repo.drop_staging_table(kind)
    for kind in kinds:
        report.counts[kind.name].watermark = await repo.watermark(kind)
    report.import_id = await record_run(session, report, operator=operator, started_at=now)
    if report.changed:
        # Workers of a running portal (PostgreSQL) drop what they remember once this commits.
        await invalidate_after_commit(session, "views:all")
    return report


async def _skip_unchanged(
    repo: repository.ExchangeRepository,
    sources: Sequence[_Source],
    kinds: Sequence[Kind],
    report: ImportReport,
    progress: Callable[[str], None] | None,
    *,
    enabled: bool,
) -> list[Kind]:
    """The kinds to import: a kind whose files are byte for byte those of its last successful import is
    left alone when its table has not changed since (same row count and largest id) and that import
    skipped none of its lines. Batches are always imported (their merge is idempotent anyway)."""
    digests: dict[str, Any] = {}
    for source in sources:
        digests.setdefault(source.kind.name, hashlib.sha256()).update(source.sha256.encode())
    batch = any(source.sha256.startswith("batch:") for source in sources)
    remaining: list[Kind] = []
    for kind in kinds:
        counts = report.counts.setdefault(kind.name, repository.Counts())
        counts.sha256 = digests[kind.name].hexdigest()
        last = None if batch or not enabled else await repo.last_counts(kind)
        if (
            last is not None
            and last.get("sha256") == counts.sha256
            and not last.get("skipped")
            and last.get("watermark") == await repo.watermark(kind)
        ):
            counts.unchanged = True
            counts.lines = int(last.get("lines", 0))
            counts.watermark = str(last["watermark"])
            report.lines_read += counts.lines
            if progress:
                progress(f"{kind.title}: файлы те же, что при прошлой загрузке, и база не менялась — пропуск")
            continue
        remaining.append(kind)
    return remaining


async def record_run(
    session: AsyncSession, report: ImportReport, *, operator: str, started_at: dt.datetime
) -> int:
    """Log the run (in the caller's transaction): who, which files, their checksum, the counts."""
    run = ImportRun(
        started_at=started_at,
        finished_at=dt.datetime.now(dt.UTC),
        operator=operator[:120],
        checksum=report.checksum,
        files="\n".join(report.files),
        status=report.status,
        lines_read=report.lines_read,
        lines_skipped=report.skipped_lines,
        counts=report.counts_json(),
    )
    return await repository.ExchangeRepository(session).log_run(run)


async def import_paths(
    session: AsyncSession,
    paths: Sequence[Path],
    *,
    skip_bad: bool = False,
    encoding: str | None = None,
    operator: str,
    progress: Callable[[str], None] | None = None,
    skip_unchanged: bool = True,
) -> ImportReport:
    """Validate and import files (directories stand for their ``*.csv``); the caller commits.

    A refused import (``report.status == "refused"``) has written only staging rows: roll back.
    """
    now = dt.datetime.now(dt.UTC)
    report = ImportReport()
    files = expand(paths)
    if not files:
        report.add_error(LineError(", ".join(str(p) for p in paths), 0, "", "нет файлов *.csv для загрузки"))
        report.status = "refused"
        return report
    opened = _open_sources(files, encoding, report)
    if report.error_count:
        # A file that cannot be read or recognised refuses the whole import, even with skip_bad.
        report.status = "refused"
        return report
    sources = [source for source, _ in opened]
    return await _run(
        session,
        sources,
        report,
        skip_bad=skip_bad,
        operator=operator,
        now=now,
        progress=progress,
        skip_unchanged=skip_unchanged,
    )


async def import_batch(
    session: AsyncSession,
    kind: str,
    rows: Iterable[Mapping[str, str]],
    *,
    import_id: str,
    operator: str,
    skip_bad: bool = False,
) -> ImportReport:
    """Import one kind's records given as text values keyed by the file format's column names.

    The operator API's entry: a JSON batch of records becomes one call, validated and merged exactly
    as a file of that kind would be (``import_id`` names the batch in the report and the log; the
    merge is idempotent by each kind's natural key, so a batch sent again changes nothing). Raises
    ``KeyError`` for an unknown kind. The caller commits, or rolls back a refused batch.
    """
    spec = BY_NAME[kind]
    name = f"batch:{import_id}"
    columns = [s.name for s in spec.fields]

    def lines() -> Iterator[tuple[int, list[str]]]:
        for position, record in enumerate(rows, start=1):
            yield position, [str(record.get(column, "") or "") for column in columns]

    report = ImportReport(files=[name])
    report.checksum = hashlib.sha256(f"{kind}:{import_id}".encode()).hexdigest()
    source = _Source(name, spec, columns, lines(), f"batch:{import_id}")
    return await _run(
        session,
        [source],
        report,
        skip_bad=skip_bad,
        operator=operator,
        now=dt.datetime.now(dt.UTC),
        progress=None,
    )


@dataclass
class BatchOutcome:
    """A batch's import report and each record's errors as (column, reason), by record position."""

    report: ImportReport
    errors: dict[int, list[tuple[str, str]]]
    #: Positions of the records left out before validation (their columns are wrong), with ``skip_bad``.
    left_out: set[int]


async def import_records(
    session: AsyncSession,
    kind: str,
    records: Sequence[Mapping[str, str]],
    *,
    import_id: str,
    operator: str,
    skip_bad: bool,
) -> BatchOutcome:
    """The operator API's batch: :func:`import_batch`, plus the columns' check of each record.

    Commits the batch, or rolls it back and logs the refusal (the session is the batch's own).
    """
    spec = BY_NAME[kind]
    started = dt.datetime.now(dt.UTC)
    errors: dict[int, list[tuple[str, str]]] = {}
    for position, record in enumerate(records):
        problems = [
            (name, f"неизвестный столбец для файла «{spec.title}»")
            for name in record
            if name not in spec.columns
        ]
        problems += [
            (name, f"нет обязательного столбца (файл «{spec.title}»)")
            for name in sorted(spec.required - set(record))
        ]
        if problems:
            errors[position] = problems
    left_out = set(errors) if skip_bad else set()
    kept = [position for position in range(len(records)) if position not in left_out]
    report = await import_batch(
        session,
        kind,
        [records[position] for position in kept],
        import_id=import_id,
        operator=operator,
        skip_bad=skip_bad,
    )
    for error in report.errors:
        if error.line:
            errors.setdefault(kept[error.line - 1], []).append((error.field, error.reason))
    if errors and not skip_bad:
        report.status = "refused"
    if report.status == "refused":
        await session.rollback()
        report.import_id = await record_run(session, report, operator=operator, started_at=started)
    await session.commit()
    return BatchOutcome(report, errors, left_out)
