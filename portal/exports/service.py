"""Rules of the exports: what each file holds, its control line, and the checks of the operator's input.

Every export reads one transaction's snapshot through a server-side cursor and hands out byte chunks
as it goes (never the whole month in memory); the CLI writes them to a file, the operator API streams
them. Both call :func:`export_chunks`, so a file is the same bytes whichever door it came through.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from portal.exports.format import CsvChunks, CsvFormat, Encoding
from portal.exports.repository import ExportsRepository
from portal.kit.clock import BILLING_TZ
from portal.models import PaymentPurpose

log = logging.getLogger("kabinet.portal.exports")

_PERIOD = re.compile(r"[0-9]{4}-[0-9]{2}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Years an export can be asked for (the portal's dates are in this range).
FIRST_YEAR, LAST_YEAR = 2000, 2099


class ExportKind(enum.StrEnum):
    READINGS = "readings"
    PAYMENTS = "payments"
    REGISTRATIONS = "registrations"


READINGS_HEADER = ("account_number", "meter_serial", "service", "value", "source", "submitted_at", "status")
PAYMENTS_HEADER = (
    "account_number",
    "purpose",
    "capital_repair_account",
    "amount",
    "provider",
    "order_id",
    "provider_payment_id",
    "paid_at",
    "operation",
)
REGISTRATIONS_HEADER = ("account_number", "registered_on")
REGISTRATIONS_EMAIL_HEADER = (*REGISTRATIONS_HEADER, "email")


class ExportInputError(ValueError):
    """A bad option of an export: the option, what is allowed, and what was given."""

    def __init__(self, code: str, option: str, value: str, allowed_en: str, allowed_ru: str) -> None:
        super().__init__(f"--{option} must be {allowed_en}, not {value!r}")
        self.code = code
        self.option = option
        self.value = value
        self.allowed_ru = allowed_ru

    @property
    def message_ru(self) -> str:
        return f"Параметр «{self.option}»: нужен {self.allowed_ru}, а не «{self.value}»."

    @property
    def command_line_ru(self) -> str:
        """The same for the command line, where the option is written ``--period``."""
        return f"параметр --{self.option}: нужен {self.allowed_ru}, а не «{self.value}»."


def _in_years(day: dt.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_period(text: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month (a billing period)."""
    allowed_en = f"a month as YYYY-MM (e.g. 2026-11), years {FIRST_YEAR}–{LAST_YEAR}"
    allowed_ru = f"месяц в формате ГГГГ-ММ (например, 2026-11), годы {FIRST_YEAR}–{LAST_YEAR}"
    if _PERIOD.fullmatch(text):
        try:
            period = dt.date(int(text[:4]), int(text[5:7]), 1)
        except ValueError:
            pass
        else:
            if _in_years(period):
                return period
    raise ExportInputError("invalid_export_period", "period", text, allowed_en, allowed_ru)


def parse_day(text: str) -> dt.date:
    """``YYYY-MM-DD`` → that date (the billing center's day a payment is booked on)."""
    allowed_en = f"a date as YYYY-MM-DD (e.g. 2026-11-20), years {FIRST_YEAR}–{LAST_YEAR}"
    allowed_ru = f"день в формате ГГГГ-ММ-ДД (например, 2026-11-20), годы {FIRST_YEAR}–{LAST_YEAR}"
    if _DAY.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if _in_years(day):
                return day
    raise ExportInputError("invalid_export_date", "date", text, allowed_en, allowed_ru)


def parse_encoding(text: str) -> Encoding:
    names = {"utf-8": Encoding.UTF8, "utf8": Encoding.UTF8, "cp1251": Encoding.CP1251}
    names["windows-1251"] = Encoding.CP1251
    found = names.get(text.lower())
    if found is None:
        raise ExportInputError(
            "invalid_encoding", "encoding", text, "utf-8 or cp1251", "utf-8 или cp1251 (кодировка)"
        )
    return found


@dataclass(frozen=True)
class ExportRequest:
    """One file to export."""

    kind: ExportKind
    #: The billing period (readings) or the day (payments); None for registrations.
    day: dt.date | None = None
    encoding: Encoding = Encoding.UTF8
    #: Registrations only: add the residents' e-mail addresses (see docs/exchange-out.md).
    with_email: bool = False

    @property
    def format(self) -> CsvFormat:
        return CsvFormat(self.encoding)

    @property
    def filename(self) -> str:
        suffix = "" if self.encoding is Encoding.UTF8 else "-cp1251"
        if self.kind is ExportKind.READINGS:
            assert self.day is not None
            return f"readings-{self.day:%Y-%m}{suffix}.csv"
        if self.kind is ExportKind.PAYMENTS:
            assert self.day is not None
            return f"payments-{self.day.isoformat()}{suffix}.csv"
        return f"registrations{suffix}.csv"


@dataclass
class ExportTotals:
    """What the control line said, once the last chunk was produced."""

    records: int = 0
    total: str = ""
    complete: bool = False


Line = tuple[str, ...]


async def export_chunks(
    session: AsyncSession, request: ExportRequest, totals: ExportTotals | None = None
) -> AsyncIterator[bytes]:
    """The file as byte chunks: header, records in a stable order, the control line."""
    totals = totals if totals is not None else ExportTotals()
    out = CsvChunks(request.format)
    records = {
        ExportKind.READINGS: _readings,
        ExportKind.PAYMENTS: _payments,
        ExportKind.REGISTRATIONS: _registrations,
    }[request.kind]
    header = True  # each producer yields the header row first: no record
    async for lines in records(ExportsRepository(session), request, totals):
        totals.records += 0 if header else len(lines)
        header = False
        yield out.rows(lines)
    yield out.control(totals.records, totals.total)
    totals.complete = True


async def _readings(
    repo: ExportsRepository, request: ExportRequest, totals: ExportTotals
) -> AsyncIterator[list[Line]]:
    assert request.day is not None
    fmt = request.format
    yield [READINGS_HEADER]
    value_sum = Decimal(0)
    async for partition in repo.readings(request.day):
        lines: list[Line] = []
        for number, serial, service, decimals, value, source, submitted_at, status in partition:
            value_sum += value
            lines.append(
                (
                    number,
                    serial,
                    service,
                    fmt.decimal(value, decimals),
                    source,
                    fmt.moment(submitted_at),
                    status,
                )
            )
        yield lines
    totals.total = fmt.decimal(value_sum, 3)


async def _payments(
    repo: ExportsRepository, request: ExportRequest, totals: ExportTotals
) -> AsyncIterator[list[Line]]:
    assert request.day is not None
    fmt = request.format
    yield [PAYMENTS_HEADER]
    kopecks = 0
    async for partition in repo.payments(request.day):
        lines: list[Line] = []
        for number, purpose, capital, amount, channel, order_id, provider_id, paid_at, _id in partition:
            kopecks += amount
            lines.append(
                (
                    number,
                    purpose,
                    capital if purpose == PaymentPurpose.CAPITAL_REPAIR.value and capital else "",
                    fmt.money(amount),
                    channel,
                    order_id or "",
                    provider_id or "",
                    fmt.moment(paid_at),
                    "storno" if amount < 0 else "payment",
                )
            )
        yield lines
    totals.total = fmt.money(kopecks)


async def _registrations(
    repo: ExportsRepository, request: ExportRequest, totals: ExportTotals
) -> AsyncIterator[list[Line]]:
    fmt = request.format
    yield [REGISTRATIONS_EMAIL_HEADER if request.with_email else REGISTRATIONS_HEADER]
    async for partition in repo.registrations():
        lines: list[Line] = []
        for number, created_at, email in partition:
            registered_on = fmt.date(billing_date(created_at))
            lines.append((number, registered_on, email) if request.with_email else (number, registered_on))
        yield lines


def billing_date(moment: dt.datetime) -> dt.date:
    """The billing center's date of a UTC moment (naive from SQLite)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(BILLING_TZ).date()


def log_export(request: ExportRequest, totals: ExportTotals, who: str) -> None:
    """One log line per export: what, for whom, how many records and their sum, whether it completed."""
    log.info(
        "export %s %s (%s%s) by %s: %s records, sum %s%s",
        request.kind.value,
        request.day.isoformat() if request.day else "-",
        request.encoding.value,
        ", with e-mail" if request.with_email else "",
        who,
        totals.records,
        totals.total or "-",
        "" if totals.complete else ", INCOMPLETE",
    )
