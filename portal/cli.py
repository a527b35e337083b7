"""``kabinet-portal``: serve the API, migrate the database, seed and list the demo, read the outbox."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from portal.settings import Settings

if TYPE_CHECKING:
    from portal.exports.service import ExportRequest


def app_from_env() -> FastAPI:
    """The uvicorn factory: settings from ``KABINET_*``; the database was prepared by ``serve``."""
    from portal.app import create_app

    return create_app(Settings(), prepare_database=False)


def _apply_common(args: argparse.Namespace) -> None:
    """Flags become ``KABINET_*`` variables so that uvicorn's worker processes see them too."""
    if getattr(args, "database_url", None):
        os.environ["KABINET_DATABASE_URL"] = args.database_url
    if getattr(args, "data_dir", None):
        os.environ["KABINET_DATA_DIR"] = str(args.data_dir)
    if getattr(args, "demo", False):
        os.environ["KABINET_DEMO"] = "true"
        os.environ.setdefault("KABINET_READING_WINDOW_ALWAYS_OPEN", "true")


async def _prepare(settings: Settings, *, seed: bool) -> tuple[int, int] | None:
    """Migrate (and seed); PostgreSQL's connection limits for the pool check of ``serve``."""
    from portal.app import _prepare_database, build_state
    from portal.kit.db import server_connection_limits

    state = build_state(settings)
    try:
        if seed:
            await _prepare_database(state)
        else:
            from portal.migrations import upgrade

            await upgrade(state.engine)
        return await server_connection_limits(state.engine)
    finally:
        await state.engine.dispose()


def pool_problem(settings: Settings, workers: int, limits: tuple[int, int] | None) -> str | None:
    """Why ``workers`` processes with these pool settings could run PostgreSQL out of connections."""
    from portal.kit.db import connection_budget, connections_needed

    if limits is None:
        return None
    needed = connections_needed(
        workers, settings.db_pool_size, settings.db_max_overflow, listener=settings.cache_enabled
    )
    budget = connection_budget(*limits)
    if needed <= budget:
        return None
    return (
        f"{workers} worker(s) × (KABINET_DB_POOL_SIZE {settings.db_pool_size} + KABINET_DB_MAX_OVERFLOW "
        f"{settings.db_max_overflow}{' + 1 cache listener' if settings.cache_enabled else ''}) = {needed} "
        f"connections, but PostgreSQL allows {limits[0]} minus {limits[1]} reserved for superusers minus "
        f"{limits[0] - limits[1] - budget} for other clients = {budget}. Use fewer workers, smaller pools, "
        "or raise max_connections."
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    _apply_common(args)
    settings = Settings()
    settings.check_production_safety()
    if settings.is_sqlite and args.workers > 1:
        print("SQLite serves one process only; use PostgreSQL for --workers > 1.", file=sys.stderr)
        return 2
    problem = pool_problem(settings, args.workers, asyncio.run(_prepare(settings, seed=settings.demo)))
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    print(
        f"Kabinet portal on http://{args.host}:{args.port}/api/v1 (database: {settings.database_url.split('://')[0]})"
    )
    if not settings.smtp_host:
        print(f"Mail goes to the outbox: {settings.outbox_dir}")
    uvicorn.run(
        "portal.cli:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _apply_common(args)
    settings = Settings()
    asyncio.run(_prepare(settings, seed=False))
    print("The database is at the newest revision.")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    _apply_common(args)
    settings = Settings(demo=True) if not os.environ.get("KABINET_DEMO") else Settings()
    if not settings.demo:
        settings = settings.model_copy(update={"demo": True})
    asyncio.run(_prepare(settings, seed=True))
    print(f"Demo data is in {settings.database_url}")
    return 0


async def _demo_accounts(settings: Settings) -> list[dict[str, object]]:
    from portal.app import _prepare_database, build_state
    from portal.demo.accounts import describe_demo_accounts

    state = build_state(settings)
    try:
        await _prepare_database(state)  # on a fresh machine the demo is seeded first, as the portal would
        async with state.sessionmaker() as session:
            return await describe_demo_accounts(session)
    finally:
        await state.engine.dispose()


def cmd_demo_accounts(args: argparse.Namespace) -> int:
    _apply_common(args)
    accounts = asyncio.run(_demo_accounts(Settings(demo=True)))
    if args.json:
        print(json.dumps(accounts, ensure_ascii=False, indent=2, default=str))
        return 0
    for item in accounts:
        password = item.get("password") or "—"
        line = f"{item['account_number']}  пароль: {password:<16} {item.get('purpose_ru', '')}"
        if item.get("receipt_total"):
            line += f"  (итого к оплате: {str(item['receipt_total']).replace('.', ',')})"
        print(line)
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from portal.mail.mailer import read_outbox

    _apply_common(args)
    settings = Settings(demo=True)
    outbox = Path(settings.outbox_dir or ".")
    if not outbox.exists():
        print(f"The outbox {outbox} is empty.")
        return 0
    letters = read_outbox(outbox)[-args.last :]
    for letter in letters:
        print(f"To: {letter['To']}\nSubject: {letter['Subject']}\nDate: {letter['Date']}\n")
        body = letter.get_body(preferencelist=("plain",))
        print(body.get_content() if body is not None else "")
        print("-" * 60)
    return 0


async def _reconcile_a3(settings: Settings, day: dt.date) -> int:
    from portal.app import create_app
    from portal.money import kopecks_to_decimal
    from portal.payments.providers import ProviderError
    from portal.payments.service import reconcile_a3

    app = create_app(settings, prepare_database=settings.demo)
    async with app.router.lifespan_context(app):
        try:
            report = await reconcile_a3(app.state.portal, app, day)
        except ProviderError as exc:
            print(f"A3's report for {day.isoformat()} could not be fetched: {exc}", file=sys.stderr)
            return 3
    print(f"A3 reconciliation for {day.isoformat()}: {len(report.lines)} line(s), {report.credited} credited")
    for line in report.lines:
        amount = str(kopecks_to_decimal(line.amount_kopecks))
        print(
            f"  {line.outcome:<12} {line.order_id:<36} {line.provider_payment_id:<30} {amount:>12}",
            line.detail,
        )
    if report.discrepancies:
        print(f"{len(report.discrepancies)} discrepancy(ies): check them with A3.", file=sys.stderr)
        return 1
    return 0


def cmd_reconcile_a3(args: argparse.Namespace) -> int:
    """Fetch A3's daily report, credit the confirmed payments not credited yet, list discrepancies."""
    try:
        day = dt.date.fromisoformat(args.date)
    except ValueError:
        print(f"--date must be YYYY-MM-DD, not {args.date!r}", file=sys.stderr)
        return 2
    _apply_common(args)
    return asyncio.run(_reconcile_a3(Settings(), day))


async def _export(settings: Settings, request: ExportRequest, out: Path | None) -> int:
    from portal.app import build_state
    from portal.exports.service import ExportTotals, export_chunks, log_export
    from portal.migrations import upgrade

    state = build_state(settings)
    totals = ExportTotals()
    # A file is written under a temporary name and renamed when complete: a failed export leaves none.
    partial = out.with_name(out.name + ".partial") if out is not None else None
    try:
        await upgrade(state.engine)  # as import and notify do: a new database gives empty files
        async with state.sessionmaker() as session:
            sink = partial.open("wb") if partial is not None else sys.stdout.buffer
            try:
                async for chunk in export_chunks(session, request, totals):
                    sink.write(chunk)
                sink.flush()
            finally:
                if partial is not None:
                    sink.close()
        if partial is not None and out is not None:
            partial.replace(out)
    finally:
        if partial is not None and partial.exists():
            partial.unlink()
        log_export(request, totals, f"the command line ({os.environ.get('USER', 'unknown user')})")
        await state.engine.dispose()
    if out is not None:
        # In Russian, as the import's report: the billing center's operator reads both.
        print(f"{out}: записей {totals.records}, контрольная сумма {totals.total or '-'}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write one export file (or stdout); exit 2 with a message naming the option when one is wrong."""
    from portal.exports.service import (
        ExportInputError,
        ExportKind,
        ExportRequest,
        parse_day,
        parse_encoding,
        parse_period,
    )

    try:
        kind = ExportKind(args.export_kind)
        encoding = parse_encoding(args.encoding)
        day = None
        if kind is ExportKind.READINGS:
            day = parse_period(args.period)
        elif kind is ExportKind.PAYMENTS:
            day = parse_day(args.date)
    except ExportInputError as exc:
        print(f"kabinet-portal export {args.export_kind}: {exc.command_line_ru}", file=sys.stderr)
        return 2
    request = ExportRequest(kind, day, encoding, with_email=getattr(args, "with_email", False))
    _apply_common(args)
    return asyncio.run(_export(Settings(), request, args.out))


async def _operator_keys(settings: Settings, args: argparse.Namespace) -> int:
    from portal.app import build_state
    from portal.migrations import upgrade
    from portal.operators.service import create_key, list_keys, revoke_key

    state = build_state(settings)
    try:
        await upgrade(state.engine)
        async with state.sessionmaker() as session:
            now = state.clock.now()
            if args.action == "create":
                try:
                    secret, info = await create_key(session, state.tokens, args.name, now)
                except ValueError as exc:
                    print(f"kabinet-portal operator-key create: {exc}", file=sys.stderr)
                    return 2
                await session.commit()
                print(f"Operator key {info.id} ({info.name}) created. It is shown only this once:")
                print(secret)
                return 0
            if args.action == "list":
                keys = await list_keys(session)
                if not keys:
                    print("No operator keys.")
                for key in keys:
                    used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
                    revoked = (
                        f"revoked {key.revoked_at.isoformat(timespec='seconds')}"
                        if key.revoked_at
                        else "active"
                    )
                    created = key.created_at.isoformat(timespec="seconds")
                    print(f"{key.id:>4}  {key.name:<30} created {created}  last used {used}  {revoked}")
                return 0
            outcome = await revoke_key(session, args.id, now)
            await session.commit()
            if outcome is None:
                print(f"There is no operator key {args.id}.", file=sys.stderr)
                return 1
            print(f"Operator key {args.id} {'is revoked' if outcome else 'was already revoked'}.")
            return 0
    finally:
        await state.engine.dispose()


def cmd_operator_key(args: argparse.Namespace) -> int:
    _apply_common(args)
    return asyncio.run(_operator_keys(Settings(), args))


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    import getpass
    import time

    from portal.app import build_state
    from portal.exchange.service import import_paths, record_run
    from portal.migrations import upgrade

    operator = args.operator or getpass.getuser()
    started = time.monotonic()
    state = build_state(settings)
    try:
        await upgrade(state.engine)
        async with state.sessionmaker() as session:
            report = await import_paths(
                session,
                args.paths,
                skip_bad=args.skip_bad,
                encoding=args.encoding,
                operator=operator,
                skip_unchanged=not args.no_skip,
                progress=lambda message: print(
                    f"[{time.monotonic() - started:7.1f} s] {message}", file=sys.stderr, flush=True
                ),
            )
            if report.status == "refused":
                await session.rollback()
                await record_run(session, report, operator=operator, started_at=dt.datetime.now(dt.UTC))
                await session.commit()
            else:
                await session.commit()
    finally:
        await state.engine.dispose()
    for error in report.errors:
        print(error, file=sys.stderr)
    if report.error_count > len(report.errors):
        print(f"… и ещё {report.error_count - len(report.errors)} ошибок", file=sys.stderr)
    if report.status == "refused":
        print(
            f"Загрузка отклонена: {report.error_count} ошибок, в базу ничего не записано "
            "(исправьте файлы или запустите с --skip-bad).",
            file=sys.stderr,
        )
        return 1
    print(
        f"Загрузка №{report.import_id}: прочитано строк {report.lines_read}, пропущено {report.skipped_lines}"
    )
    for name, counts in report.counts.items():
        print(
            f"  {name:<15} строк {counts.lines:>9}  добавлено {counts.inserted:>9}  "
            f"изменено {counts.updated:>9}  удалено {counts.deleted:>9}"
            + ("  (файлы и база не менялись с прошлой загрузки)" if counts.unchanged else "")
        )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Validate and import the billing center's files (docs/exchange.md) in one transaction."""
    _apply_common(args)
    return asyncio.run(_import(Settings(), args))


async def _notify(settings: Settings, args: argparse.Namespace) -> int:
    from portal.app import build_state
    from portal.notify.sender import Options, Sender

    both = not args.receipts and not args.reminders
    options = Options(
        receipts=args.receipts or both,
        reminders=args.reminders or both,
        batch=args.batch,
        rate=args.rate,
        connections=args.connections,
        dry_run=args.dry_run,
        resend_uncertain=args.resend_uncertain,
    )
    state = build_state(settings)
    try:
        from portal.migrations import upgrade

        await upgrade(state.engine)
        report = await Sender(state, options).run()
    finally:
        await state.engine.dispose()
    if not report.jobs:
        print("Nothing is due today: no charged month for receipts, no reading window to remind of.")
    for job in report.jobs:
        counts = report.counts[job.kind]
        month = f"{job.period:%Y-%m}"
        if args.dry_run:
            print(f"{job.kind:<17} {month}: would send {counts.due}")
            continue
        print(
            f"{job.kind:<17} {month}: sent {counts.sent}, skipped {counts.skipped}, failed {counts.failed}, "
            f"uncertain {counts.uncertain}, remaining {counts.remaining}"
        )
    if report.expired:
        print(
            f"{report.expired} letter(s) a stopped sender left between DATA and the server's answer are "
            "now uncertain (maybe delivered): not sent again; --resend-uncertain sends them.",
            file=sys.stderr,
        )
    if report.stopped:
        print(f"Stopped: {report.stopped}. The next run sends the rest.", file=sys.stderr)
        return 1
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    """Send the month's receipts and the reading reminders that are due (for a timer or cron)."""
    if args.batch is not None and args.batch < 1:
        print("--batch must be 1 or more", file=sys.stderr)
        return 2
    if args.connections is not None and not 1 <= args.connections <= 32:
        print("--connections must be 1 to 32", file=sys.stderr)
        return 2
    if args.rate is not None and args.rate < 0:
        print("--rate must be 0 (no limit) or more letters per second", file=sys.stderr)
        return 2
    _apply_common(args)
    settings = Settings()
    if not args.dry_run:
        settings.check_production_safety()
        from portal.settings import DEFAULT_PUBLIC_URL

        if not settings.demo and settings.public_url == DEFAULT_PUBLIC_URL:
            print(
                f"KABINET_PUBLIC_URL is {DEFAULT_PUBLIC_URL}: the letters' unsubscribe links would lead "
                "nowhere. Set the portal's address as residents reach it (https://…) or run with --demo.",
                file=sys.stderr,
            )
            return 2
    return asyncio.run(_notify(settings, args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kabinet-portal",
        description="Kabinet portal API server. Settings come from KABINET_* variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in the data directory)")
        p.add_argument("--data-dir", type=Path, help="data directory of the demo database and outbox")
        p.add_argument("--demo", action="store_true", help="demo mode: demo data, open reading window")

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-access-log", dest="access_log", action="store_false")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="migrate the database to the newest revision")
    common(migrate)
    migrate.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed-demo", help="migrate and fill an empty database with the demo")
    common(seed)
    seed.set_defaults(func=cmd_seed_demo)

    demo = sub.add_parser("demo-accounts", help="list the demo accounts and what each is good for")
    common(demo)
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_demo_accounts)

    outbox = sub.add_parser("outbox", help="print the newest letters of the local mail outbox")
    common(outbox)
    outbox.add_argument("--last", type=int, default=3)
    outbox.set_defaults(func=cmd_outbox)

    reconcile = sub.add_parser(
        "reconcile-a3",
        help="credit the payments A3's daily report confirms; exit 1 when there are discrepancies",
    )
    common(reconcile)
    reconcile.add_argument("--date", required=True, help="the report's day, YYYY-MM-DD")
    reconcile.set_defaults(func=cmd_reconcile_a3)

    export = sub.add_parser("export", help="write a file for the billing system (see docs/exchange-out.md)")
    kinds = export.add_subparsers(dest="export_kind", required=True)

    def export_options(p: argparse.ArgumentParser) -> None:
        common(p)
        p.add_argument("--out", type=Path, help="the file to write (default: standard output)")
        p.add_argument(
            "--encoding", default="utf-8", help="utf-8 (default, decimal point) or cp1251 (decimal comma)"
        )
        p.set_defaults(func=cmd_export)

    readings = kinds.add_parser(
        "readings", help="every reading accepted in a billing period, replaced ones marked"
    )
    readings.add_argument("--period", required=True, help="the billing period, YYYY-MM")
    export_options(readings)
    payments = kinds.add_parser("payments", help="payments made through the portal on a day, stornos marked")
    payments.add_argument("--date", required=True, help="the day the payments are booked on, YYYY-MM-DD")
    export_options(payments)
    registrations = kinds.add_parser(
        "registrations", help="accounts with a login and their registration date"
    )
    registrations.add_argument(
        "--with-email",
        action="store_true",
        help="add the residents' e-mail addresses (see docs/exchange-out.md)",
    )
    export_options(registrations)

    notify = sub.add_parser(
        "notify",
        help="e-mail the month's receipts and the reading reminders due (each letter once; for a timer)",
    )
    common(notify)
    notify.add_argument("--receipts", action="store_true", help="only receipts (default: both)")
    notify.add_argument("--reminders", action="store_true", help="only reading reminders (default: both)")
    notify.add_argument("--batch", type=int, help="letters claimed at a time (KABINET_NOTIFY_BATCH)")
    notify.add_argument(
        "--rate", type=float, help="letters per second at most, 0: no limit (KABINET_NOTIFY_RATE)"
    )
    notify.add_argument(
        "--connections", type=int, help="SMTP connections at once (KABINET_NOTIFY_CONNECTIONS)"
    )
    notify.add_argument("--dry-run", action="store_true", help="count the letters due, send nothing")
    notify.add_argument(
        "--resend-uncertain",
        action="store_true",
        help="send again letters whose sender stopped mid-transaction (maybe delivered; same Message-ID)",
    )
    notify.set_defaults(func=cmd_notify)

    keys = sub.add_parser("operator-key", help="create, list or revoke keys of the operator API")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key; its secret is printed only this once")
    create.add_argument("name", help="who or what uses the key, e.g. the billing system's name")
    common(create)
    listing = actions.add_parser("list", help="every key: id, name, created, last used, revoked")
    common(listing)
    revoke = actions.add_parser("revoke", help="revoke a key for good")
    revoke.add_argument("id", type=int)
    common(revoke)
    keys.set_defaults(func=cmd_operator_key)

    importer = sub.add_parser(
        "import",
        help="validate and import the billing center's CSV files (docs/exchange.md); exit 1 when refused",
    )
    common(importer)
    importer.add_argument("paths", nargs="+", type=Path, help="files or directories of *.csv")
    importer.add_argument("--skip-bad", action="store_true", help="import without the bad lines (listed)")
    importer.add_argument("--encoding", choices=["utf-8", "cp1251"], help="default: detected per file")
    importer.add_argument("--operator", help="who runs the import (default: the OS user)")
    importer.add_argument(
        "--no-skip",
        action="store_true",
        help="merge every kind even when its files and table are as the last import left them",
    )
    importer.set_defaults(func=cmd_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
