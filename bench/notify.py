"""Letters per second of ``kabinet-portal notify`` to a local SMTP sink, beside raw aiosmtplib sends.

Issue 13's figure: reading reminders for many subscribers (default 100 000) sent through one SMTP
connection to a sink (aiosmtpd's ``Sink`` handler in its own process: it takes every letter and
discards it), memory flat. The subscribers are built directly in the bench's own PostgreSQL database
(``INSERT … SELECT generate_series``: one account, login, cold-water meter and subscription each).
**Reminders only** (a few hundred bytes of text and HTML each; no receipt PDF). In the same run:

- **notify**: :class:`portal.notify.sender.Sender` with no rate limit — what ``kabinet-portal notify
  --reminders --rate 0`` does: claims in batches, two commits per letter (``sending`` before DATA, ``sent``
  after 250), the letter built from the database;
- **raw aiosmtplib**: the same letters (same builder, same addresses, made in memory) sent with
  ``SMTP.send_message`` over one connection: no database at all — the floor of the SMTP part.

Prints letters/s of each and the sender process's RSS (at the start, sampled peak during each phase):
flat means the peak does not grow with the number of subscribers. Asserts nothing::

    .venv/bin/python bench/notify.py [--subscribers 100000] [--batch 500]
        [--url postgresql+asyncpg://postgres@127.0.0.1:5432] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
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
from portal.notify.repository import Addressee, MeterDue  # noqa: E402
from portal.notify.sender import REMINDER_OPEN, Options, Sender  # noqa: E402
from portal.notify.unsubscribe import Topic, unsubscribe_url  # noqa: E402
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
    """The process's resident set size, sampled every 0.2 s while a phase runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    def now_mib(self) -> float:
        return float(self.process.memory_info().rss) / 2**20

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.process.memory_info().rss)
            await asyncio.sleep(0.2)

    def start(self) -> None:
        self.peak = self.process.memory_info().rss
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, self.process.memory_info().rss)
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--url", default=os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (and reuse it at the same size)"
    )
    args = parser.parse_args()
    url = f"{args.url.rstrip('/')}/{DATABASE}"
    await build(args.url.rstrip("/") + "/postgres", url, args.subscribers, args.keep)
    sink, port = start_sink()
    sampler = RssSampler()
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
        report = await Sender(state, Options(receipts=False, batch=args.batch)).run()
        elapsed = time.perf_counter() - started
        peak = await sampler.stop()
        counts = report.total()
        await state.engine.dispose()
        print(
            f"notify:         {counts.sent} sent in {elapsed:.1f} s = {counts.sent / elapsed:,.0f} letters/s "
            f"(failed {counts.failed}, remaining {counts.remaining}, connections {report.connections}); "
            f"peak RSS {peak:.0f} MiB"
        )

        sampler.start()
        started = time.perf_counter()
        await raw_sends(settings, args.subscribers)
        raw = time.perf_counter() - started
        peak_raw = await sampler.stop()
        print(
            f"raw aiosmtplib: {args.subscribers} sent in {raw:.1f} s = "
            f"{args.subscribers / raw:,.0f} letters/s; "
            f"peak RSS {peak_raw:.0f} MiB"
        )
        print(f"notify / raw: {raw / elapsed:.2f} of the raw rate")
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
