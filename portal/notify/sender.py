"""``kabinet-portal notify``: e-mailed receipts and reading reminders, each at most once.

What is guaranteed
------------------
Each letter is a row of ``mail_deliveries``, unique per (account, month, kind): whatever runs, repeats
or crashes, there is never a second row, so never a second letter from another run. A row moves

    claimed ──► sending ──► sent | failed (4xx, retried later) | rejected (5xx) | uncertain

- **claimed**: a sender inserted it (``INSERT … ON CONFLICT DO NOTHING``: of two senders, one gets it)
  with its own name and the time, and committed before any letter left. A claim older than
  ``notify_claim_timeout_seconds`` whose letter was never started belongs to a crashed sender: the next
  run takes it over (an UPDATE whose condition PostgreSQL re-checks, so only one taker wins) and sends it.
- **sending**: committed once the server took MAIL FROM and RCPT TO, just before DATA, by the claim's
  owner only (a sender whose claim was taken over sends nothing). The answer 250 is recorded as **sent**, with
  the server's reply, in its own commit right after it arrives.
- A crash (or a dropped connection) between the DATA command and that commit leaves a row that may or
  may not have been delivered: RFC 1047's window, which no SMTP client can close. Such a row becomes
  **uncertain** and is *not* sent again on its own (at most once); ``--resend-uncertain`` sends those
  again, with the same Message-ID, so a mail server or program that de-duplicates by it shows one
  letter. At most one letter per crashed sender can be uncertain — the one in flight.
- A connection lost before DATA (connect, MAIL FROM, RCPT TO, a 421) is certainly not delivered: the
  row is still ``claimed``; the sender reconnects and sends it again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import parseaddr

from sqlalchemy.ext.asyncio import AsyncSession

from portal.billing.service import receipt_total
from portal.kit.clock import month_start
from portal.kit.state import PortalState
from portal.mail.mailer import OutgoingMail, build_message
from portal.mail.transport import Outcome, Transport, transport_for
from portal.money import format_rubles
from portal.notify import letters, repository
from portal.notify.repository import Addressee, Claimed, NotifyRepository
from portal.notify.unsubscribe import Topic, unsubscribe_url
from portal.reading_window import reading_window

log = logging.getLogger("kabinet.portal.notify")

RECEIPT = "receipt"
REMINDER_OPEN = "reminder_open"
REMINDER_CLOSING = "reminder_closing"
#: The closing reminder goes this many days before the window's last day.
CLOSING_DAYS = 2
#: Reconnects for one letter before the run gives up (the server is down).
RECONNECTS = 3


@dataclass(frozen=True)
class Job:
    """One kind of letter about one month."""

    kind: str
    #: The month of the delivery key: the receipt's period, or the reading window's closing month.
    period: dt.date
    reading_period: dt.date | None = None
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None


@dataclass
class Counts:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0
    remaining: int = 0
    #: Dry run: letters that would be sent.
    due: int = 0


@dataclass
class Report:
    jobs: list[Job] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    connections: int = 0
    #: The run stopped early (the SMTP server could not be reached).
    stopped: str | None = None
    #: Letters a stopped sender left mid-transaction, found by this run (now ``uncertain``).
    expired: int = 0

    def total(self) -> Counts:
        total = Counts()
        for counts in self.counts.values():
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(counts, name))
        return total


@dataclass(frozen=True)
class Options:
    receipts: bool = True
    reminders: bool = True
    batch: int | None = None
    rate: float | None = None
    dry_run: bool = False
    resend_uncertain: bool = False
    #: Called after a delivery is marked ``sending`` and before its letter goes (tests: a crash there).
    before_send: Callable[[Claimed], None] | None = None


async def due_jobs(state: PortalState, session: AsyncSession, options: Options) -> list[Job]:
    """The letters due today: the newest month's receipt, and the reminder the reading window calls for."""
    jobs: list[Job] = []
    if options.receipts:
        period = await NotifyRepository(session).latest_charged_period()
        if period is not None:
            jobs.append(Job(RECEIPT, period))
    if options.reminders:
        today = state.clock.today()
        window = reading_window(state.settings, today)
        if window.open and window.closes_on is not None:
            closes = window.closes_on
            closing = today >= closes - dt.timedelta(days=CLOSING_DAYS)
            opens = _opened_on(state, today, closes)
            jobs.append(
                Job(
                    REMINDER_CLOSING if closing else REMINDER_OPEN,
                    month_start(closes),
                    reading_period=window.period,
                    opens_on=opens,
                    closes_on=closes,
                )
            )
    return jobs


def _opened_on(state: PortalState, today: dt.date, closes: dt.date) -> dt.date | None:
    """The first day of the open window that closes on ``closes``."""
    day = today
    for _ in range(62):
        before = day - dt.timedelta(days=1)
        window = reading_window(state.settings, before)
        if not window.open or window.closes_on != closes:
            return day
        day = before
    return None


class _Pace:
    """At most ``rate`` letters a second, evenly spaced (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1 / rate if rate > 0 else 0.0
        self._next = time.monotonic()

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(self._next, now) + self._interval


class _Stop(Exception):
    """The SMTP server stays unreachable: end the run, leave the rest for the next one."""


class Sender:
    def __init__(self, state: PortalState, options: Options, transport: Transport | None = None) -> None:
        self.state = state
        self.settings = state.settings
        self.options = options
        self.transport = transport or transport_for(state.settings)
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        rate = options.rate if options.rate is not None else self.settings.notify_rate
        batch = options.batch or self.settings.notify_batch
        if rate > 0:
            # A batch must be sent well within the claim's timeout, or another run would take it over.
            batch = max(1, min(batch, int(rate * self.settings.notify_claim_timeout_seconds / 2)))
        self.batch = batch
        self.pace = _Pace(rate)
        self.envelope_from = parseaddr(self.settings.mail_from)[1] or "noreply@kabinet.local"
        self.domain = self.envelope_from.rpartition("@")[2] or "kabinet.local"
        self._db: AsyncSession | None = None
        self.started = state.clock.now()
        self._journal: AsyncSession | None = None

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """The run's one session, on one connection kept for the whole run (no checkout per letter)."""
        assert self._db is not None
        try:
            yield self._db
        except BaseException:
            await self._db.rollback()
            raise
        else:
            if self._db.in_transaction():  # reads end here too: no snapshot held across SMTP waits
                await self._db.commit()

    async def run(self) -> Report:
        self.started = self.state.clock.now()
        return await self._connected_run()

    async def _connected_run(self) -> Report:
        """On PostgreSQL two connections for the whole run, each statement its own transaction (one
        round trip, no BEGIN/COMMIT): the main one, whose commits wait for the disk (claims and the
        ``sending`` marks), and the journal of outcomes, whose commits do not (see ``repository.finish``).
        SQLite has one connection: both are the same session."""
        engine = self.state.engine
        if engine.dialect.name != "postgresql":
            async with engine.connect() as connection:
                self._db = self._journal = AsyncSession(
                    bind=connection, expire_on_commit=False, autoflush=False
                )
                try:
                    return await self._run()
                finally:
                    await self._db.close()
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as main, autocommit.connect() as journal:
            self._db = AsyncSession(bind=main, expire_on_commit=False, autoflush=False)
            self._journal = AsyncSession(bind=journal, expire_on_commit=False, autoflush=False)
            await NotifyRepository(self._journal).journal_settings()
            try:
                return await self._run()
            finally:
                await self._db.close()
                await self._journal.close()

    async def _run(self) -> Report:
        report = Report()
        async with self._session() as session:
            report.jobs = await due_jobs(self.state, session, self.options)
            stale = self.state.clock.now() - dt.timedelta(seconds=self.settings.notify_claim_timeout_seconds)
            if not self.options.dry_run:
                report.expired = await NotifyRepository(session).expire_sending(stale)
                await session.commit()
        try:
            for job in report.jobs:
                counts = report.counts.setdefault(job.kind, Counts())
                if self.options.dry_run:
                    await self._dry_run(job, counts)
                    continue
                if report.stopped is None:
                    try:
                        await self._run_job(job, counts)
                    except _Stop as stop:
                        report.stopped = str(stop)
                async with self._session() as session:
                    counts.remaining = await NotifyRepository(session).count_new_candidates(
                        job.kind, job.period, job.reading_period
                    ) + await NotifyRepository(session).count_retryable(
                        job.kind, job.period, self.settings.notify_max_attempts
                    )
        finally:
            await self.transport.close()
        report.connections = self.transport.connections
        return report

    async def _dry_run(self, job: Job, counts: Counts) -> None:
        async with self._session() as session:
            counts.due = await NotifyRepository(session).count_new_candidates(
                job.kind, job.period, job.reading_period
            ) + await NotifyRepository(session).count_retryable(
                job.kind, job.period, self.settings.notify_max_attempts
            )

    async def _claim(self, job: Job) -> list[Claimed]:
        now = self.state.clock.now()
        stale = now - dt.timedelta(seconds=self.settings.notify_claim_timeout_seconds)
        async with self._session() as session:
            claimed = await NotifyRepository(session).claim_again(
                job.kind,
                job.period,
                self.owner,
                now,
                stale_before=stale,
                failed_before=self.started,
                max_attempts=self.settings.notify_max_attempts,
                resend_uncertain=self.options.resend_uncertain,
                limit=self.batch,
            )
            room = self.batch - len(claimed)
            if room > 0:
                accounts = await NotifyRepository(session).new_candidates(
                    job.kind, job.period, job.reading_period, room
                )
                rows = [(a, letters.message_id(job.kind, job.period, a, self.domain)) for a in accounts]
                claimed += await NotifyRepository(session).claim_new(
                    job.kind, job.period, rows, self.owner, now
                )
            await session.commit()
        return claimed

    async def _run_job(self, job: Job, counts: Counts) -> None:
        while True:
            batch = await self._claim(job)
            if not batch:
                # Nothing claimable; a concurrent sender may have taken the last ones (a fresh look).
                async with self._session() as session:
                    if not await NotifyRepository(session).new_candidates(
                        job.kind, job.period, job.reading_period, 1
                    ):
                        return
                continue
            await self._send_batch(job, batch, counts)

    async def _send_batch(self, job: Job, batch: list[Claimed], counts: Counts) -> None:
        async with self._session() as session:
            who = await NotifyRepository(session).addressees([c.account_id for c in batch])
            meters = (
                await NotifyRepository(session).meters_of([c.account_id for c in batch], job.reading_period)
                if job.reading_period is not None
                else {}
            )
        for index, claimed in enumerate(batch):
            try:
                await self._deliver(job, claimed, who.get(claimed.account_id), meters, counts)
            except _Stop:
                async with self._session() as session:
                    await NotifyRepository(session).release([c.id for c in batch[index + 1 :]], self.owner)
                    await session.commit()
                raise

    async def _letter(
        self, job: Job, claimed: Claimed, who: Addressee, meters: dict[int, list[repository.MeterDue]]
    ) -> OutgoingMail | None:
        """The letter, or None when it is no longer due (unsubscribed, meanwhile read every meter)."""
        key = self.settings.secret_key
        base = self.settings.public_url
        today = self.state.clock.today()
        if job.kind == RECEIPT:
            if not who.receipt:
                return None
            from portal.receipts import render
            from portal.receipts.service import build_receipt

            async with self._session() as session:
                document = await build_receipt(session, claimed.account_id, job.period, today)
                total = await receipt_total(session, claimed.account_id, job.period)
            pdf = await asyncio.to_thread(render.render_receipt, document)
            link = unsubscribe_url(base, key, claimed.account_id, Topic.RECEIPT)
            total_text = format_rubles(total)
            return letters.receipt_letter(who, job.period, pdf, total_text, link, claimed.message_id)
        own = meters.get(claimed.account_id, [])
        if not who.reminders or all(m.submitted for m in own):
            return None
        assert job.closes_on is not None
        link = unsubscribe_url(base, key, claimed.account_id, Topic.REMINDERS)
        return letters.reminder_letter(
            who,
            closing=job.kind == REMINDER_CLOSING,
            opens_on=job.opens_on,
            closes_on=job.closes_on,
            today=today,
            meters=own,
            link=link,
            msgid=claimed.message_id,
        )

    async def _finish(
        self, claimed: Claimed, state: str, detail: str, *, from_state: str = "sending"
    ) -> None:
        sent_at = self.state.clock.now() if state == "sent" else None
        session = self._journal
        assert session is not None
        try:
            await NotifyRepository(session).finish(
                claimed.id, self.owner, state, detail, sent_at, from_state=from_state
            )
            if state == "failed" and from_state == "claimed":  # an attempt that never reached DATA
                await NotifyRepository(session).count_attempt(claimed.id)
            await session.commit()
        except BaseException:
            await session.rollback()
            raise

    async def _deliver(
        self,
        job: Job,
        claimed: Claimed,
        who: Addressee | None,
        meters: dict[int, list[repository.MeterDue]],
        counts: Counts,
    ) -> None:
        mail = None
        if who is not None:
            try:
                mail = await self._letter(job, claimed, who, meters)
            except Exception as exc:  # a receipt that cannot be drawn must not stop everyone else's
                log.exception("the letter of delivery %d could not be made", claimed.id)
                await self._finish(claimed, "rejected", f"letter: {type(exc).__name__}", from_state="claimed")
                counts.failed += 1
                return
        if mail is None:
            await self._finish(claimed, "skipped", "no longer due", from_state="claimed")
            counts.skipped += 1
            return
        message = build_message(self.settings.mail_from, mail)
        lost = marked = False

        async def before_data() -> bool:
            nonlocal lost, marked
            async with self._session() as session:
                mine = await NotifyRepository(session).mark_sending(
                    claimed.id, self.owner, self.state.clock.now()
                )
                await session.commit()
            lost, marked = not mine, mine
            if mine and self.options.before_send is not None:
                self.options.before_send(claimed)
            return mine

        for attempt in range(RECONNECTS + 1):
            await self.pace.wait()
            result = await self.transport.send(message, self.envelope_from, mail.to, before_data)
            if lost:  # another sender took the claim over (this one was too slow): it sends
                return
            if result.outcome is Outcome.ACCEPTED:
                await self._finish(claimed, "sent", result.detail)
                counts.sent += 1
                return
            if result.outcome is Outcome.UNCERTAIN:
                await self._finish(claimed, "uncertain", result.detail)
                counts.uncertain += 1
                return
            # Refused at MAIL/RCPT (still "claimed") or after DATA ("sending").
            at = "sending" if marked else "claimed"
            if result.outcome is Outcome.PERMANENT:
                await self._finish(claimed, "rejected", result.detail, from_state=at)
                counts.failed += 1
                return
            if result.outcome is Outcome.TEMPORARY:
                await self._finish(claimed, "failed", result.detail, from_state=at)
                counts.failed += 1
                return
            # NOT_SENT: certainly not delivered (before DATA). Again over a new connection.
            log.warning("SMTP connection lost (%s); reconnecting", result.detail)
            await asyncio.sleep(min(2**attempt * 0.5, 5) if attempt else 0)
        await self._finish(claimed, "failed", "SMTP server unreachable", from_state="claimed")
        counts.failed += 1
        raise _Stop(f"the SMTP server could not be reached ({RECONNECTS + 1} attempts)")


async def notify(state: PortalState, options: Options) -> Report:
    return await Sender(state, options).run()
