"""Letters per second of ``kabinet-portal notify`` to a local SMTP sink, beside raw aiosmtplib sends.

Issue 13's figure: reading reminders for many subscribers (default 100 000) sent to a sink (aiosmtpd's
``Sink`` handler in its own process: it takes every letter and discards it), memory flat. The
subscribers are built directly in the bench's own PostgreSQL database (``INSERT … SELECT
generate_series``: one account, login, cold-water meter and subscription each). In the same run:

- **notify, reminders**: :class:`portal.notify.sender.Sender` with no rate limit — what ``kabinet-portal
  notify --reminders --rate 0`` does: claims in batches, ``--connections`` SMTP connections, each letter
  marked ``sending`` (on disk) before its DATA, marks and outcomes group-committed;
- **raw aiosmtplib**: the same letters (the email package's builder, as before) made in memory and sent
  with ``SMTP.send_message`` over one connection, no database: the old floor of the SMTP part
  (``--raw`` letters of them: a sample, its rate is what counts);
- **notify, receipts** (``--receipts``, default 2 000): the month's charges for that many accounts, and
  the receipt letters with their PDFs (drawn by worker processes), then the same receipts' drawing alone
  in this process, one after another (a sample of 100): what one core draws.

Prints letters/s of each, the commits of marks and outcomes, and the sender's resident memory (its own
and its PDF-drawing processes'; not the sink's): before, when 10 %, 50 % and 100 % of the letters had
gone, and the peak (sampled every 0.2 s). Flat: the same at 10 % as at 100 %. Asserts nothing::

    .venv/bin/python bench/notify.py [--subscribers 100000] [--batch 500] [--connections 4]
        [--raw 5000] [--receipts 2000] [--url postgresql+asyncpg://postgres@127.0.0.1:5432] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
import asyncpg  # noqa: E402
import psutil  # noqa: E402

from portal.app import build_state  # noqa: E402
from portal.kit.clock import Clock  # noqa: E402
from portal.mail.mailer import build_message  # noqa: E402
from portal.migrations import upgrade  # noqa: E402
from portal.notify import letters  # noqa: E402
from portal.notify.repository import Addressee, Claimed, MeterDue  # noqa: E402
from portal.notify.sender import REMINDER_OPEN, Options, Report, Sender  # noqa: E402
from portal.notify.unsubscribe import Topic, unsubscribe_url  # noqa: E402
from portal.receipts.payees import DEMO_PAYEES  # noqa: E402
from portal.settings import Settings  # noqa: E402

DATABASE = "notify_bench"
#: 16 November 2026 in Moscow: the reading window (15th to 25th) has just opened.
NOW = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"

BUILD = [
    "TRUNCATE mail_deliveries, mail_subscriptions, users, meters, accounts, services "
    "RESTART IDENTITY CASCADE",
    """INSERT INTO services (id, code, name, unit, basis, payee, sort_order)
       VALUES (1, 'cold_water', 'Холодное водоснабжение', 'м³', 'meter', 'billing_center', 1)""",
    """INSERT INTO accounts (id, number, address, owner_name, area_m2, residents)
       SELECT g, (3500000000 + g)::text,
              'г. Энск, ул. Длинная, д. ' || (g / 200 + 1) || ', кв. ' || (g % 200 + 1),
              'Житель ' || g, 30 + g % 70, 1 + g % 4
       FROM generate_series(1, $1) AS g""",
    """INSERT INTO users (account_id, email, password_hash, created_at, password_changed_at)
       SELECT g, 'resident' || g || '@example.ru', 'x', now(), now() FROM generate_series(1, $1) AS g""",
    """INSERT INTO meters (account_id, service_id, serial_number, integer_digits, decimals, installed_on,
                           next_verification_on, lock_version)
       SELECT g, 1, lpad((g * 7919 % 100000000)::text, 8, '0'), 5, 3, '2024-01-01', '2030-01-01', 0
       FROM generate_series(1, $1) AS g""",
    """INSERT INTO mail_subscriptions (account_id, receipt, reminders, updated_at)
       SELECT g, false, true, now() FROM generate_series(1, $1) AS g""",
]


class RssSampler:
    """The resident memory of this process and its PDF-drawing processes (not the sink's), sampled every
    0.2 s while a phase runs, and when given shares of the letters have gone."""

    def __init__(self, exclude: int) -> None:
        self.process = psutil.Process()
        self.exclude = exclude
        self.peak = 0
        self.points: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    def rss(self) -> int:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            if child.pid == self.exclude:
                continue
            with contextlib.suppress(psutil.Error):  # it ended meanwhile
                total += child.memory_info().rss
        return int(total)

    def now_mib(self) -> float:
        return self.rss() / 2**20

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.rss())
            await asyncio.sleep(0.2)

    def start(self) -> None:
        self.peak = self.rss()
        self.points = {}
        self._task = asyncio.create_task(self._run())

    def progress(self, total: int) -> Callable[[Claimed], None]:
        """A ``before_send`` hook that notes the memory at 10 %, 50 % and 100 % of ``total`` letters."""
        marks = {max(1, total * share // 100): share for share in (10, 50, 100)}
        done = 0

        def hook(claimed: Claimed) -> None:
            nonlocal done
            done += 1
            if done in marks:
                rss = self.rss()
                self.peak = max(self.peak, rss)
                self.points[marks[done]] = rss / 2**20

        return hook

    def describe(self) -> str:
        points = ", ".join(f"{share} %: {mib:.0f}" for share, mib in sorted(self.points.items()))
        return f"RSS at {points} MiB; peak {self.peak / 2**20:.0f} MiB"

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, self.rss())
        return self.peak / 2**20


async def build(admin_url: str, url: str, count: int, keep: bool) -> None:
    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(plain.rsplit("/", 1)[0] + "/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await admin.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await admin.close()
    state = build_state(Settings(database_url=url, secret_key=SECRET))
    await upgrade(state.engine)
    await state.engine.dispose()
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        have = await connection.fetchval("SELECT count(*) FROM mail_subscriptions")
        if keep and have == count:
            await connection.execute("TRUNCATE mail_deliveries")
            print(f"{count} subscribers kept from the last run")
            return
        started = time.perf_counter()
        for statement in BUILD:
            if "$1" in statement:
                await connection.execute(statement, count)
            else:
                await connection.execute(statement)
        await connection.execute("ANALYZE")
        print(f"built {count} subscribers in {time.perf_counter() - started:.1f} s")
    finally:
        await connection.close()


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    from tests.support.ports import free_port

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"]
    )
    deadline = time.monotonic() + 10
    import socket

    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return sink, port
        except OSError:
            time.sleep(0.05)
    sink.kill()
    raise SystemExit("the SMTP sink did not start")


async def raw_sends(settings: Settings, count: int) -> None:
    """The same reminder letters, built in memory, sent over one aiosmtplib connection."""
    smtp = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, timeout=30)
    await smtp.connect()
    today = NOW.date()
    try:
        for account in range(1, count + 1):
            who = Addressee(account, str(3500000000 + account), f"resident{account}@example.ru", False, True)
            meter = MeterDue(
                account, "Холодное водоснабжение", "м³", f"{account * 7919 % 100000000:08d}", False
            )
            link = unsubscribe_url(settings.public_url, settings.secret_key, account, Topic.REMINDERS)
            mail = letters.reminder_letter(
                who,
                closing=False,
                opens_on=dt.date(2026, 11, 15),
                closes_on=dt.date(2026, 11, 25),
                today=today,
                meters=[meter],
                link=link,
                msgid=letters.message_id(REMINDER_OPEN, dt.date(2026, 11, 1), account, "kabinet.local"),
            )
            await smtp.send_message(build_message(settings.mail_from, mail))
    finally:
        await smtp.quit()


RECEIPTS = [
    """INSERT INTO payees (code, name, short_name, inn, kpp, account, bank_name, bic, correspondent_account,
                           address, phone)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (code) DO NOTHING""",
    "DELETE FROM charges",
    """INSERT INTO charges (account_id, service_id, period, volume, tariff_kopecks, charged_kopecks,
                            recalculation_kopecks, penalties_kopecks)
       SELECT g, 1, '2026-10-01', 3.5, 5000 + g % 7, 17500 + g % 7 * 3, 0, 0
       FROM generate_series(1, $1) AS g""",
    "UPDATE mail_subscriptions SET receipt = account_id <= $1",
]


async def prepare_receipts(url: str, count: int) -> None:
    """October's charges for the first ``count`` accounts (one line each), who subscribe to receipts."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for code, p in DEMO_PAYEES.items():
            await connection.execute(
                RECEIPTS[0],
                code.value,
                p.name,
                p.short_name,
                p.inn,
                p.kpp,
                p.account,
                p.bank_name,
                p.bic,
                p.correspondent_account,
                p.address,
                p.phone,
            )
        await connection.execute(RECEIPTS[1])
        await connection.execute(RECEIPTS[2], count)
        await connection.execute(RECEIPTS[3], count)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def show(name: str, report: Report, elapsed: float, sampler: RssSampler) -> float:
    counts = report.total()
    rate = counts.sent / elapsed
    print(
        f"{name}: {counts.sent} sent in {elapsed:.1f} s = {rate:,.0f} letters/s "
        f"(failed {counts.failed}, remaining {counts.remaining}, connections {report.connections}, "
        f"commits {report.commits} = {counts.sent / max(report.commits, 1):.1f} letters each); "
        f"{sampler.describe()}"
    )
    return rate


async def draw_alone(state: object, count: int) -> float:
    """Receipts drawn in this process one after another (the documents read first): receipts/s."""
    from portal.kit.state import PortalState
    from portal.receipts.render import render_receipt
    from portal.receipts.service import build_receipt

    assert isinstance(state, PortalState)
    async with state.sessionmaker() as session:
        documents = [
            await build_receipt(session, account, dt.date(2026, 10, 1), NOW.date())
            for account in range(1, count + 1)
        ]
    render_receipt(documents[0])  # fonts loaded
    started = time.perf_counter()
    for document in documents:
        render_receipt(document)
    return count / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--raw", type=int, default=5000, help="letters of the raw aiosmtplib sample")
    parser.add_argument("--receipts", type=int, default=2000, help="receipt letters (0: none)")
    parser.add_argument(
        "--url", default=os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (and reuse it at the same size)"
    )
    args = parser.parse_args()
    url = f"{args.url.rstrip('/')}/{DATABASE}"
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    await build(args.url.rstrip("/") + "/postgres", url, args.subscribers, args.keep)
    sink, port = start_sink()
    sampler = RssSampler(exclude=sink.pid)
    try:
        settings = Settings(
            database_url=url,
            secret_key=SECRET,
            smtp_host="127.0.0.1",
            smtp_port=port,
            reading_window_always_open=False,
            notify_rate=0,
        )
        clock = Clock()
        clock.set(NOW)
        state = build_state(settings, clock)
        print(f"sender RSS before: {sampler.now_mib():.0f} MiB")

        sampler.start()
        started = time.perf_counter()
        options = Options(
            receipts=False,
            batch=args.batch,
            connections=args.connections,
            before_send=sampler.progress(args.subscribers),
        )
        report = await Sender(state, options).run()
        elapsed = time.perf_counter() - started
        await sampler.stop()
        rate = show("notify, reminders", report, elapsed, sampler)

        raw_count = min(args.raw, args.subscribers)
        sampler.start()
        started = time.perf_counter()
        await raw_sends(settings, raw_count)
        raw = time.perf_counter() - started
        await sampler.stop()
        print(
            f"raw aiosmtplib: {raw_count} sent in {raw:.1f} s = {raw_count / raw:,.0f} letters/s; "
            f"peak RSS {sampler.peak / 2**20:.0f} MiB"
        )
        print(f"notify / raw: {rate / (raw_count / raw):.2f} × the raw rate")

        if args.receipts:
            count = min(args.receipts, args.subscribers)
            await prepare_receipts(url, count)
            sampler.start()
            started = time.perf_counter()
            options = Options(
                reminders=False,
                batch=min(args.batch, 100),
                connections=args.connections,
                before_send=sampler.progress(count),
            )
            report = await Sender(state, options).run()
            elapsed = time.perf_counter() - started
            await sampler.stop()
            show("notify, receipts", report, elapsed, sampler)
            print(f"receipts drawn alone, one process: {await draw_alone(state, min(count, 100)):,.0f}/s")
        await state.engine.dispose()
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        sink.terminate()
        sink.wait(10)
        if not args.keep:
            admin = await asyncpg.connect(
                args.url.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
            )
            try:
                await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            finally:
                await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
