"""``kabinet-portal notify``: e-mailed receipts and reading reminders, each at most once.

What is guaranteed
------------------
Each letter is a row of ``mail_deliveries``, unique per (account, month, kind): whatever runs, repeats
or crashes, there is never a second row, so never a second letter from another run. A row moves

    claimed ──► sending ──► sent | failed (4xx, retried later) | rejected (5xx) | uncertain

How a run sends
---------------
- **Claim**, one commit per batch (``notify_batch``): the accounts due are read with their subscriptions
  locked, passing over those another sender is claiming (``FOR UPDATE SKIP LOCKED``; PostgreSQL), and
  ``claimed`` rows are inserted with this sender's name and the time (``INSERT … ON CONFLICT DO
  NOTHING``: should two senders still meet on a row, one gets it). A claim older than
  ``notify_claim_timeout_seconds`` whose letter was never started belongs to a crashed sender: the next
  run takes it over the same way (an UPDATE whose condition PostgreSQL re-checks) and sends it.
- **Write**: the batch's addressees and meters in two queries; each letter written straight to bytes
  (:func:`portal.mail.mailer.message_bytes`); receipts' PDFs drawn by worker processes, the event loop
  never waiting for them. The letters wait in a queue of at most one batch while the next is claimed.
- **Send**: ``notify_connections`` SMTP connections, a task each, take letters from the queue. Per letter:
  MAIL FROM and RCPT TO; then the row is marked ``sending`` and that is committed; only then DATA.
- **Journal**: one task writes the marks and the outcomes (``sent`` with the server's reply, ``failed``,
  ``rejected``, ``skipped``) — everything waiting — in one transaction: one commit that must reach the
  disk serves as many letters as are waiting (a group commit), where one per letter was needed before.
  A connection asks for its next letter's mark only after queuing its last letter's outcome, so the
  commit that marks the next letter has recorded the last one.

What a crash leaves
-------------------
Killed at any moment (or its database connection lost), a sender leaves:

- ``claimed`` rows: the letters queued, being written, or between MAIL FROM and the mark. None reached
  DATA. The next run takes them over once the claim is ``notify_claim_timeout_seconds`` old, and sends.
- ``sending`` rows, **at most one per connection**: either the letter in DATA, or the one whose 250
  had arrived while its outcome waited for the journal's next commit (milliseconds) — that letter *was*
  delivered, but nothing on disk says so. The server may or may not have a ``sending`` row's letter
  (RFC 1047's window, which no SMTP client can close; here wider by that commit). A later run makes it
  **uncertain** and does *not* send it again on its own (at most once); ``--resend-uncertain`` sends
  those again, with the same Message-ID, so a mail server or program that de-duplicates by it shows one
  letter.
- Outcomes are committed like the marks (on disk): a crash of the database itself loses none.

A connection lost before DATA (connect, MAIL FROM, RCPT TO, a 421) certainly delivered nothing: the row
is still ``claimed``; that connection opens again and sends it. Lost during DATA: ``uncertain`` at once.

A second sender at any moment finds the first's rows taken: ``claimed`` ones stay the first's until
they grow stale (then the first's mark finds the claim gone and does not send), ``sending`` ones are
never taken (they become ``uncertain``); rows being claimed are skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import multiprocessing
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from email.utils import parseaddr

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.clock import month_start
from portal.kit.state import PortalState
from portal.mail.mailer import OutgoingMail, message_bytes
from portal.mail.transport import Outcome, Transport, transport_for
from portal.money import format_rubles
from portal.notify import letters, repository
from portal.notify.repository import Addressee, Claimed, Finish, NotifyRepository
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
    #: Commits of marks and outcomes (each on disk before it counts).
    commits: int = 0
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
    #: SMTP connections at once (None: ``notify_connections``).
    connections: int | None = None
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
    """At most ``rate`` letters a second over all connections, evenly spaced (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1 / rate if rate > 0 else 0.0
        self._next = time.monotonic()

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        slot = max(self._next, now)  # reserved before sleeping: two connections never share a slot
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class _Stop(Exception):
    """The SMTP server stays unreachable: end the run, leave the rest for the next one."""


class _Db:
    """A session on one database connection, and the lock that gives it to one task at a time."""

    def __init__(self, session: AsyncSession, lock: asyncio.Lock) -> None:
        self.session = session
        self.lock = lock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction, committed at the end (reads too: no snapshot is held across SMTP waits)."""
        async with self.lock:
            try:
                yield self.session
            except BaseException:
                await self.session.rollback()
                raise
            else:
                await self.session.commit()


class _Journal:
    """The marks and outcomes of a run's letters, written by one task: all that waits, in one commit."""

    def __init__(self, db: _Db, owner: str, now: Callable[[], dt.datetime]) -> None:
        self._db = db
        self._owner = owner
        self._now = now
        self._marks: dict[int, asyncio.Future[bool]] = {}
        self._finished: list[Finish] = []
        self._barriers: list[asyncio.Future[bool]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        #: Commits made (each reached the disk).
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notify journal")

    def _check(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def mark(self, delivery_id: int) -> bool:
        """``claimed`` → ``sending``, committed; False when the claim is no longer this sender's."""
        self._check()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._marks[delivery_id] = future
        self._wake.set()
        return await future

    def finish(self, finish: Finish) -> None:
        """How a letter ended: goes with the next commit (before any later mark)."""
        self._check()
        self._finished.append(finish)
        self._wake.set()

    async def flush(self) -> None:
        """Wait until everything given so far is committed."""
        self._check()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._barriers.append(future)
        self._wake.set()
        await future

    async def close(self) -> None:
        """Commit what is left and end the task (raises what made it fail)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def abort(self) -> None:
        """Stop at once (the run is failing): what waits is not committed."""
        if self._task is None:
            return
        self._task.cancel()
        with suppress(Exception, asyncio.CancelledError):
            await self._task

    def _fail(self, exc: BaseException, futures: list[asyncio.Future[bool]]) -> None:
        for future in futures:
            if future.done():
                continue
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            marks, self._marks = self._marks, {}
            finished, self._finished = self._finished, []
            barriers, self._barriers = self._barriers, []
            mine: set[int] = set()
            try:
                if marks or finished:
                    async with self._db.transaction() as session:
                        mine = await NotifyRepository(session).record(
                            finished, list(marks), self._owner, self._now()
                        )
                    self.commits += 1
            except BaseException as exc:
                self._failure = exc
                waiting = [*marks.values(), *barriers, *self._marks.values(), *self._barriers]
                self._fail(exc, waiting)
                raise
            for delivery_id, future in marks.items():
                if not future.done():
                    future.set_result(delivery_id in mine)
            for barrier in barriers:
                if not barrier.done():
                    barrier.set_result(True)
            if self._closing and not (self._marks or self._finished or self._barriers):
                return


@dataclass(frozen=True)
class _Letter:
    claimed: Claimed
    to: str
    message: bytes


#: Processes that draw receipts' PDFs (CPU-bound, about 17 ms each): one per CPU, four at most.
RENDER_PROCESSES = max(1, min(4, os.cpu_count() or 1))
#: From this many receipts due, they are drawn by those processes; fewer are drawn in a thread (a process
#: takes seconds of CPU to start: it imports the portal and reportlab).
RENDER_PROCESSES_FROM = 200


class Sender:
    def __init__(self, state: PortalState, options: Options) -> None:
        self.state = state
        self.settings = state.settings
        self.options = options
        connections = options.connections or self.settings.notify_connections
        self.transports: list[Transport] = [transport_for(state.settings) for _ in range(connections)]
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        rate = options.rate if options.rate is not None else self.settings.notify_rate
        batch = options.batch or self.settings.notify_batch
        if rate > 0:
            # Claims must be sent well within the claim's timeout, or another run would take them over:
            # up to two batches are claimed ahead of the connections (the queue, and the one being written).
            batch = max(1, min(batch, int(rate * self.settings.notify_claim_timeout_seconds / 4)))
        self.batch = batch
        self.pace = _Pace(rate)
        self.envelope_from = parseaddr(self.settings.mail_from)[1] or "noreply@kabinet.local"
        self.domain = self.envelope_from.rpartition("@")[2] or "kabinet.local"
        self.started = state.clock.now()
        self._main: _Db | None = None
        self._journal: _Journal | None = None
        self._renderer: ProcessPoolExecutor | None = None
        #: Why the run stopped early (the SMTP server could not be reached), once it did.
        self._stopped: str | None = None
        #: Claims given back when the run stopped: their letters never went.
        self._unsent: list[int] = []
        #: The highest account this job's claims have reached (the next claim looks above it).
        self._after = 0
        #: Letters claimed by this run; at this many, the deliveries' statistics are refreshed again.
        self._claimed = 0
        self._analyze_at = 1000

    @property
    def main(self) -> _Db:
        assert self._main is not None
        return self._main

    @property
    def journal(self) -> _Journal:
        assert self._journal is not None
        return self._journal

    async def run(self) -> Report:
        self.started = self.state.clock.now()
        engine = self.state.engine
        try:
            if engine.dialect.name != "postgresql":
                # SQLite: one connection (one writer at a time); the journal and the claims take turns.
                async with engine.connect() as connection:
                    db = _Db(
                        AsyncSession(bind=connection, expire_on_commit=False, autoflush=False), asyncio.Lock()
                    )
                    try:
                        return await self._run(db, db)
                    finally:
                        await db.session.close()
            # PostgreSQL: claims and reads on one connection, the journal on another, at the same time.
            async with engine.connect() as main, engine.connect() as journal:
                sessions = [
                    AsyncSession(bind=connection, expire_on_commit=False, autoflush=False)
                    for connection in (main, journal)
                ]
                try:
                    return await self._run(_Db(sessions[0], asyncio.Lock()), _Db(sessions[1], asyncio.Lock()))
                finally:
                    for session in sessions:
                        await session.close()
        finally:
            if self._renderer is not None:
                renderer, self._renderer = self._renderer, None
                await asyncio.to_thread(renderer.shutdown, True, cancel_futures=True)

    async def _run(self, main: _Db, journal: _Db) -> Report:
        self._main = main
        self._journal = _Journal(journal, self.owner, self.state.clock.now)
        report = Report()
        async with main.transaction() as session:
            report.jobs = await due_jobs(self.state, session, self.options)
            stale = self.state.clock.now() - dt.timedelta(seconds=self.settings.notify_claim_timeout_seconds)
            if not self.options.dry_run:
                report.expired = await NotifyRepository(session).expire_sending(stale)
        await self._refresh_statistics()
        self.journal.start()
        try:
            for job in report.jobs:
                counts = report.counts.setdefault(job.kind, Counts())
                if self.options.dry_run:
                    await self._dry_run(job, counts)
                    continue
                if self._stopped is None:
                    await self._run_job(job, counts)
                await self.journal.flush()
                if self._unsent:
                    async with main.transaction() as session:
                        await NotifyRepository(session).release(self._unsent, self.owner)
                    self._unsent = []
                async with main.transaction() as session:
                    counts.remaining = await NotifyRepository(session).count_new_candidates(
                        job.kind, job.period, job.reading_period
                    ) + await NotifyRepository(session).count_retryable(
                        job.kind, job.period, self.settings.notify_max_attempts
                    )
            await self.journal.close()
        except BaseException:
            await self.journal.abort()
            for transport in self.transports:
                transport.abort()
            raise
        for transport in self.transports:
            await transport.close()
        report.stopped = self._stopped
        report.connections = sum(transport.connections for transport in self.transports)
        report.commits = self.journal.commits
        return report

    async def _refresh_statistics(self) -> None:
        try:
            async with self.main.transaction() as session:
                await NotifyRepository(session).refresh_statistics()
        except SQLAlchemyError as exc:  # not the table's owner: autovacuum's statistics will do
            log.warning("mail_deliveries could not be analyzed: %s", type(exc).__name__)

    async def _dry_run(self, job: Job, counts: Counts) -> None:
        async with self.main.transaction() as session:
            counts.due = await NotifyRepository(session).count_new_candidates(
                job.kind, job.period, job.reading_period
            ) + await NotifyRepository(session).count_retryable(
                job.kind, job.period, self.settings.notify_max_attempts
            )

    async def _run_job(self, job: Job, counts: Counts) -> None:
        """The connections' tasks send what the claiming task writes into the queue."""
        if job.kind == RECEIPT and self._renderer is None:
            due = Counts()
            await self._dry_run(job, due)
            if due.due >= RENDER_PROCESSES_FROM:
                self._renderer = ProcessPoolExecutor(
                    RENDER_PROCESSES,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_drawing_process,
                    initargs=(os.getpid(),),
                )
        queue: asyncio.Queue[_Letter | None] = asyncio.Queue(maxsize=self.batch)
        try:
            async with asyncio.TaskGroup() as group:
                for transport in self.transports:
                    group.create_task(self._connection(queue, transport, counts))
                await self._produce(job, queue, counts)
                for _ in self.transports:
                    await queue.put(None)
        except BaseExceptionGroup as failure:  # the first failure, as a run without tasks would raise it
            raise failure.exceptions[0] from None

    async def _produce(self, job: Job, queue: asyncio.Queue[_Letter | None], counts: Counts) -> None:
        self._after = 0
        while self._stopped is None:
            _raise_if_cancelled()
            batch = await self._claim(job)
            if batch:
                await self._write(job, batch, queue, counts)
                continue
            async with self.main.transaction() as session:
                if not await NotifyRepository(session).new_candidates(
                    job.kind, job.period, job.reading_period, 1
                ):
                    return
            # Due, yet not claimed: behind this run's place (another sender's claim that failed, a
            # resident who subscribed meanwhile) — from the start again; or another sender is claiming
            # them this very moment.
            self._after = 0
            await asyncio.sleep(0.05)

    async def _claim(self, job: Job) -> list[Claimed]:
        """A batch of letters, claimed in one commit."""
        now = self.state.clock.now()
        stale = now - dt.timedelta(seconds=self.settings.notify_claim_timeout_seconds)
        async with self.main.transaction() as session:
            repo = NotifyRepository(session)
            claimed = await repo.claim_again(
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
                accounts = await repo.new_candidates(
                    job.kind, job.period, job.reading_period, room, after=self._after, lock=True
                )
                if accounts:
                    self._after = accounts[-1]
                rows = [(a, letters.message_id(job.kind, job.period, a, self.domain)) for a in accounts]
                claimed += await repo.claim_new(job.kind, job.period, rows, self.owner, now)
        self._claimed += len(claimed)
        if self._claimed >= self._analyze_at:
            # The planner's idea of the month's deliveries kept within a factor of four of the truth
            # (see NotifyRepository.refresh_statistics): a few times a run, however large.
            self._analyze_at *= 4
            await self._refresh_statistics()
        return claimed

    async def _write(
        self, job: Job, batch: list[Claimed], queue: asyncio.Queue[_Letter | None], counts: Counts
    ) -> None:
        """The batch's letters into the queue: what they say read in a few queries for the whole batch
        (a receipt's document: its own), receipts drawn by the worker processes meanwhile."""
        accounts = [c.account_id for c in batch]
        pdfs: dict[int, asyncio.Future[bytes]] = {}
        totals: dict[int, int] = {}
        failures: dict[int, str] = {}
        async with self.main.transaction() as session:
            who = await NotifyRepository(session).addressees(accounts)
            meters = (
                await NotifyRepository(session).meters_of(accounts, job.reading_period)
                if job.reading_period is not None
                else {}
            )
            if job.kind == RECEIPT:
                await self._draw_receipts(session, job, batch, who, pdfs, totals, failures)
        for claimed in batch:
            try:
                mail = await self._letter(
                    job, claimed, who.get(claimed.account_id), meters, pdfs, totals, failures
                )
            except Exception as exc:  # a receipt that cannot be drawn must not stop everyone else's
                reason = str(exc) if isinstance(exc, LetterFailed) else type(exc).__name__
                log.error("the letter of delivery %d could not be made: %s", claimed.id, reason)
                self._finish(claimed, "rejected", f"letter: {reason}", from_state="claimed")
                counts.failed += 1
                continue
            if mail is None:
                self._finish(claimed, "skipped", "no longer due", from_state="claimed")
                counts.skipped += 1
                continue
            if self._stopped is not None:
                self._unsent.append(claimed.id)
                continue
            message = message_bytes(self.settings.mail_from, mail)
            await queue.put(_Letter(claimed, mail.to, message))

    async def _draw_receipts(
        self,
        session: AsyncSession,
        job: Job,
        batch: list[Claimed],
        who: dict[int, Addressee],
        pdfs: dict[int, asyncio.Future[bytes]],
        totals: dict[int, int],
        failures: dict[int, str],
    ) -> None:
        """Each receipt's document (its own queries), handed at once to a worker process (or a thread)
        to draw."""
        from portal.receipts import render
        from portal.receipts.service import build_receipt

        loop = asyncio.get_running_loop()
        today = self.state.clock.today()
        for claimed in batch:
            addressee = who.get(claimed.account_id)
            if addressee is None or not addressee.receipt:
                continue
            try:
                document = await build_receipt(session, claimed.account_id, job.period, today)
            except SQLAlchemyError:
                raise  # the database failed, not this receipt: the run stops, the claims are taken over
            except Exception as exc:
                failures[claimed.id] = type(exc).__name__
                continue
            totals[claimed.id] = document.utilities.total_kopecks
            if self._renderer is not None:
                pdfs[claimed.id] = loop.run_in_executor(self._renderer, render.render_receipt, document)
            else:
                pdfs[claimed.id] = asyncio.ensure_future(asyncio.to_thread(render.render_receipt, document))

    async def _letter(
        self,
        job: Job,
        claimed: Claimed,
        who: Addressee | None,
        meters: dict[int, list[repository.MeterDue]],
        pdfs: dict[int, asyncio.Future[bytes]],
        totals: dict[int, int],
        failures: dict[int, str],
    ) -> OutgoingMail | None:
        """The letter, or None when it is no longer due (unsubscribed, meanwhile read every meter)."""
        if who is None:
            return None
        key = self.settings.secret_key
        base = self.settings.public_url
        if job.kind == RECEIPT:
            if claimed.id in failures:
                raise LetterFailed(failures[claimed.id])
            if not who.receipt:
                return None
            pdf = await pdfs[claimed.id]
            link = unsubscribe_url(base, key, claimed.account_id, Topic.RECEIPT)
            total_text = format_rubles(totals[claimed.id])
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
            today=self.state.clock.today(),
            meters=own,
            link=link,
            msgid=claimed.message_id,
        )

    def _finish(self, claimed: Claimed, state: str, detail: str, *, from_state: str = "sending") -> None:
        sent_at = self.state.clock.now() if state == "sent" else None
        # An attempt that never reached DATA counts here; marking ``sending`` counted the others.
        attempt = 1 if state == "failed" and from_state == "claimed" else 0
        self.journal.finish(Finish(claimed.id, from_state, state, detail, sent_at, attempt))

    async def _connection(
        self, queue: asyncio.Queue[_Letter | None], transport: Transport, counts: Counts
    ) -> None:
        """One SMTP connection's task: letters from the queue until its end."""
        while (letter := await queue.get()) is not None:
            if self._stopped is not None:
                self._unsent.append(letter.claimed.id)
                continue
            try:
                await self._deliver(letter, transport, counts)
            except _Stop as stop:
                self._stopped = self._stopped or str(stop)
            _raise_if_cancelled()

    async def _deliver(self, letter: _Letter, transport: Transport, counts: Counts) -> None:
        claimed = letter.claimed
        lost = marked = False

        async def before_data() -> bool:
            nonlocal lost, marked
            mine = await self.journal.mark(claimed.id)
            lost, marked = not mine, mine
            if mine and self.options.before_send is not None:
                self.options.before_send(claimed)
            return mine

        for attempt in range(RECONNECTS + 1):
            await self.pace.wait()
            result = await transport.send(letter.message, self.envelope_from, letter.to, before_data)
            if lost:  # another sender took the claim over (this one was too slow): it sends
                return
            if result.outcome is Outcome.ACCEPTED:
                self._finish(claimed, "sent", result.detail)
                counts.sent += 1
                return
            if result.outcome is Outcome.UNCERTAIN:
                self._finish(claimed, "uncertain", result.detail)
                counts.uncertain += 1
                return
            # Refused at MAIL/RCPT (still "claimed") or after DATA ("sending").
            at = "sending" if marked else "claimed"
            if result.outcome is Outcome.PERMANENT:
                self._finish(claimed, "rejected", result.detail, from_state=at)
                counts.failed += 1
                return
            if result.outcome is Outcome.TEMPORARY:
                self._finish(claimed, "failed", result.detail, from_state=at)
                counts.failed += 1
                return
            # NOT_SENT: certainly not delivered (before DATA). Again over a new connection.
            log.warning("SMTP connection lost (%s); reconnecting", result.detail)
            await asyncio.sleep(min(2**attempt * 0.5, 5) if attempt else 0)
        self._finish(claimed, "failed", "SMTP server unreachable", from_state="claimed")
        counts.failed += 1
        raise _Stop(f"the SMTP server could not be reached ({RECONNECTS + 1} attempts)")


def _drawing_process(parent: int) -> None:
    """A PDF-drawing process starts: fonts loaded, and a watch that ends it once the sender is gone. A
    killed sender's processes would otherwise wait for work for ever (each holds both ends of its queue,
    so no end of file comes)."""
    from portal.receipts import render

    render.register_fonts()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="sender watch", daemon=True).start()


def _raise_if_cancelled() -> None:
    """Raise the cancellation of this task if something on the way swallowed it. ``asyncio.wait_for``
    (which aiosmtplib uses for every command) can, in Python 3.11, when the command ends as the
    cancellation arrives: a connection's task whose run is failing would then wait for its next letter
    for ever (seen in the test of a dying sender)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


class LetterFailed(Exception):
    """A letter that could not be made (its receipt could not be built)."""


async def notify(state: PortalState, options: Options) -> Report:
    return await Sender(state, options).run()
