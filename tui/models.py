"""What the screens show, parsed from the portal's JSON into exact, typed, immutable values.

Every amount of money is :class:`~tui.formatting.Money` (the API's ``*_kopecks`` integers, the
``_kopecks`` suffix dropped from the name), every decimal (area, readings, volumes) a ``Decimal``
parsed from the API's string, every date a ``datetime.date`` and every moment an aware
``datetime.datetime``. Lists are tuples, so a model is hashable and no screen can change another's data.

Each model has ``from_json(data)``; the API client (:mod:`tui.client`) calls it and turns a body of
the wrong shape into a :class:`~tui.errors.PortalError` with the code ``unexpected_response``. The
request side is :class:`ReadingEntry` (what a resident typed for one meter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self, TypeVar

from tui.formatting import Money

JSON = Mapping[str, Any]
"""A JSON object as ``httpx`` decodes it."""

_T = TypeVar("_T")


# --- value parsers: one place that turns JSON scalars into exact types ----------------------------------


def _date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO date string, got {type(value).__name__}")
    return dt.date.fromisoformat(value)


def _optional_date(value: Any) -> dt.date | None:
    return None if value is None else _date(value)


def _datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO date-time string, got {type(value).__name__}")
    moment = dt.datetime.fromisoformat(value)
    # The portal always answers in UTC with an offset; a naive moment would compare wrongly later.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _decimal(value: Any) -> Decimal:
    # Decimals travel as strings so nothing passes through a float; a number here is a contract breach.
    if not isinstance(value, str):
        raise TypeError(f"expected a decimal string, got {type(value).__name__}")
    return Decimal(value)


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value)


def _money(value: Any) -> Money:
    return Money(value)  # Money itself refuses anything but an int


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _optional_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _tuple(items: Any, parse: Callable[[JSON], _T]) -> tuple[_T, ...]:
    if not isinstance(items, list):
        raise TypeError(f"expected a list, got {type(items).__name__}")
    return tuple(parse(item) for item in items)


def _optional(value: Any, parse: Callable[[JSON], _T]) -> _T | None:
    return None if value is None else parse(value)


# --- closed sets of values -----------------------------------------------------------------------------
# The values are the API's; the catalogue keys use them too (``payment_history.channel_cash_desk``).


class PaymentChannel(StrEnum):
    """How a payment reached the billing center."""

    BANK = "bank"
    POST = "post"
    CASH_DESK = "cash_desk"
    A3 = "a3"
    PAYMO = "paymo"


class PaymentPurpose(StrEnum):
    """Who a payment or a statement is for: the billing center or the capital repair fund."""

    UTILITIES = "utilities"
    CAPITAL_REPAIR = "capital_repair"


class ReadingSource(StrEnum):
    """Who sent a reading."""

    RESIDENT = "resident"
    WITHOUT_LOGIN = "without_login"
    INSPECTOR = "inspector"
    IMPORT = "import"


class ReadingStatus(StrEnum):
    """A reading in the history: the one in force for its period, or one a later reading replaced."""

    ACCEPTED = "accepted"
    REPLACED = "replaced"


class ResultStatus(StrEnum):
    """What happened to one meter's reading in a submission."""

    ACCEPTED = "accepted"
    REPLACED_PREVIOUS = "replaced_previous"
    REJECTED = "rejected"
    NEEDS_CONFIRMATION = "needs_confirmation"


class VerificationStatus(StrEnum):
    """A meter's verification (поверка): fine, due within 60 days, or expired (no readings taken)."""

    OK = "ok"
    DUE_SOON = "due_soon"
    EXPIRED = "expired"


# --- session, registration, recovery -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Health:
    """``GET /health``: the portal and its database are up."""

    status: str
    database: str
    version: str

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            status=_str(data["status"]), database=_str(data["database"]), version=_str(data["version"])
        )


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in resident's session (the token itself stays inside the client)."""

    account_number: str
    expires_at: dt.datetime
    """Absolute end of the session (aware, UTC)."""
    idle_timeout_seconds: int
    """The portal ends the session after this long without a request."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            account_number=_str(data["account_number"]),
            expires_at=_datetime(data["expires_at"]),
            idle_timeout_seconds=_int(data["idle_timeout_seconds"]),
        )


@dataclass(frozen=True, slots=True)
class RegistrationLookup:
    """Registration step 1: the account exists; its address is shown masked (``г. В*****, …``)."""

    account_number: str
    masked_address: str
    found: bool = True

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            account_number=_str(data["account_number"]),
            masked_address=_str(data["masked_address"]),
            found=_bool(data.get("found", True)),
        )


@dataclass(frozen=True, slots=True)
class RegistrationAccepted:
    """Registration step 2 accepted: the password went to the (masked) e-mail."""

    message: str
    email_masked: str

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(message=_str(data["message"]), email_masked=_str(data["email_masked"]))


@dataclass(frozen=True, slots=True)
class RecoveryRequested:
    """Password recovery asked for; the message never says whether the account/e-mail pair exists."""

    message: str

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(message=_str(data["message"]))


# --- account summary -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceCharge:
    """One service line of a receipt or a statement month: volume × tariff + recalculation."""

    service_code: str
    """``cold_water``, ``heating``…; the catalogue key ``service.<code>`` names it in any language."""
    service_name: str
    """The portal's (Russian) name."""
    unit: str
    volume: Decimal
    tariff: Money
    charged: Money
    recalculation: Money
    """May be negative."""

    @property
    def total(self) -> Money:
        """Charged plus recalculation: the line's «Итого»."""
        return self.charged + self.recalculation

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            service_code=_str(data["service_code"]),
            service_name=_str(data["service_name"]),
            unit=_str(data["unit"]),
            volume=_decimal(data["volume"]),
            tariff=_money(data["tariff_kopecks"]),
            charged=_money(data["charged_kopecks"]),
            recalculation=_money(data["recalculation_kopecks"]),
        )


@dataclass(frozen=True, slots=True)
class AmountDueBreakdown:
    """How the amount due comes from the last receipt: its total minus what was paid since."""

    period: dt.date | None
    """The last receipt's month (first day); None: no receipt yet."""
    opening_balance: Money
    """Balance at the start of that month (входящее сальдо)."""
    charged: Money
    recalculation: Money
    paid_in_period: Money
    receipt_total: Money
    """«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» of that receipt."""
    payments_since: Money
    lines: tuple[ServiceCharge, ...]

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            period=_optional_date(data["period"]),
            opening_balance=_money(data["opening_balance_kopecks"]),
            charged=_money(data["charged_kopecks"]),
            recalculation=_money(data["recalculation_kopecks"]),
            paid_in_period=_money(data["paid_in_period_kopecks"]),
            receipt_total=_money(data["receipt_total_kopecks"]),
            payments_since=_money(data["payments_since_kopecks"]),
            lines=_tuple(data["lines"], ServiceCharge.from_json),
        )


@dataclass(frozen=True, slots=True)
class CapitalRepair:
    """The capital repair block: a separate payee with its own account number, paid separately."""

    account_number: str
    """The apartment's account at the fund (not the login)."""
    fund_name: str
    period: dt.date | None
    receipt_total: Money
    """«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ» of the last receipt."""
    amount_due: Money
    debt: Money
    """Signed: positive owes, negative prepaid."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            account_number=_str(data["account_number"]),
            fund_name=_str(data["fund_name"]),
            period=_optional_date(data["period"]),
            receipt_total=_money(data["receipt_total_kopecks"]),
            amount_due=_money(data["amount_due_kopecks"]),
            debt=_money(data["debt_kopecks"]),
        )


@dataclass(frozen=True, slots=True)
class ReadingWindow:
    """When readings are accepted; ``message`` says it in words («Приём показаний с 15 по 25 число.»)."""

    open: bool
    """Readings are accepted today."""
    period: dt.date
    """The billing month (first day) readings sent now are for."""
    always_open: bool
    start_day: int | None
    end_day: int | None
    closes_on: dt.date | None
    """Last day of the open window."""
    opens_on: dt.date | None
    """First day of the next window while closed."""
    message: str

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            open=_bool(data["open"]),
            period=_date(data["period"]),
            always_open=_bool(data["always_open"]),
            start_day=_optional_int(data.get("start_day")),
            end_day=_optional_int(data.get("end_day")),
            closes_on=_optional_date(data.get("closes_on")),
            opens_on=_optional_date(data.get("opens_on")),
            message=_str(data["message"]),
        )


@dataclass(frozen=True, slots=True)
class MeterWarning:
    """A meter whose verification has expired (``verification_expired``) or is due (``verification_due``)."""

    code: str
    meter_id: int
    service_name: str
    serial_number: str
    date: dt.date
    """The verification date."""
    message: str

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            code=_str(data["code"]),
            meter_id=_int(data["meter_id"]),
            service_name=_str(data["service_name"]),
            serial_number=_str(data["serial_number"]),
            date=_date(data["date"]),
            message=_str(data["message"]),
        )


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One payment received (also the summary's «last payment»)."""

    paid_on: dt.date
    amount: Money
    channel: PaymentChannel
    purpose: PaymentPurpose

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            paid_on=_date(data["paid_on"]),
            amount=_money(data["amount_kopecks"]),
            channel=PaymentChannel(data["channel"]),
            purpose=PaymentPurpose(data["purpose"]),
        )


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """The home screen: who and where, what is owed, the capital repair block, the reading window."""

    account_number: str
    address: str
    owner_name: str
    area_m2: Decimal
    residents: int
    debt: Money
    """Signed current balance: positive = owes, negative = prepaid."""
    amount_due: Money
    """Left to pay now: the last receipt's total minus payments since (≥ 0)."""
    amount_due_breakdown: AmountDueBreakdown
    capital_repair: CapitalRepair | None
    """None when the apartment has no account at the fund."""
    reading_window: ReadingWindow
    warnings: tuple[MeterWarning, ...]
    last_payment: PaymentRow | None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        balance = data["balance"]
        return cls(
            account_number=_str(data["account_number"]),
            address=_str(data["address"]),
            owner_name=_str(data["owner_name"]),
            area_m2=_decimal(data["area_m2"]),
            residents=_int(data["residents"]),
            debt=_money(balance["debt_kopecks"]),
            amount_due=_money(balance["amount_due_kopecks"]),
            amount_due_breakdown=AmountDueBreakdown.from_json(balance["breakdown"]),
            capital_repair=_optional(data["capital_repair"], CapitalRepair.from_json),
            reading_window=ReadingWindow.from_json(data["reading_window"]),
            warnings=_tuple(data["warnings"], MeterWarning.from_json),
            last_payment=_optional(data["last_payment"], PaymentRow.from_json),
        )


@dataclass(frozen=True, slots=True)
class ReceiptMonth:
    """One monthly receipt (ЕПД) available: its month and its two totals."""

    period: dt.date
    total: Money
    """«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ …» (without capital repair)."""
    capital_repair: Money
    """«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ»."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            period=_date(data["period"]),
            total=_money(data["total_kopecks"]),
            capital_repair=_money(data["capital_repair_kopecks"]),
        )


# --- meters and readings -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """A stored reading of one meter."""

    reading_id: int
    value: Decimal
    """Exact, with the meter's number of decimals."""
    period: dt.date
    submitted_at: dt.datetime
    source: ReadingSource
    rollover: bool
    """The meter wrapped past 99…9 (the resident confirmed it)."""
    needs_review: bool
    """Unusually large consumption: a specialist checks it."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            reading_id=_int(data["reading_id"]),
            value=_decimal(data["value"]),
            period=_date(data["period"]),
            submitted_at=_datetime(data["submitted_at"]),
            source=ReadingSource(data["source"]),
            rollover=_bool(data["rollover"]),
            needs_review=_bool(data["needs_review"]),
        )


@dataclass(frozen=True, slots=True)
class ConsumptionCheck:
    """When a reading sent now counts as unusually large: the portal then asks to confirm it."""

    confirm_above: Decimal
    """Consumption since the previous reading above which the reading must be confirmed."""
    average_monthly: Decimal | None
    """The meter's average monthly consumption, when the limit is five times it."""
    monthly_limit: Decimal | None
    """The service's monthly limit, when the limit is that one."""
    months: int
    """Months since the previous reading's period."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            confirm_above=_decimal(data["confirm_above"]),
            average_monthly=_optional_decimal(data.get("average_monthly")),
            monthly_limit=_optional_decimal(data.get("monthly_limit")),
            months=_int(data["months"]),
        )


@dataclass(frozen=True, slots=True)
class Meter:
    """A meter of the account, with its format, its verification and its last readings."""

    meter_id: int
    service: str
    """Service code, e.g. ``cold_water``."""
    service_name: str
    unit: str
    serial_number: str
    integer_digits: int
    """Digits before the separator on the dial (for :func:`tui.formatting.parse_reading`)."""
    decimals: int
    value_format: str
    """The allowed format in words, with an example (Russian, from the portal)."""
    next_verification_on: dt.date
    verification_status: VerificationStatus
    verification_message: str | None
    accepts_readings: bool
    """False when the verification has expired."""
    previous_reading: Reading | None
    """The last accepted reading of an earlier period: consumption starts here."""
    current_reading: Reading | None
    """The reading already accepted for this period: a new one replaces it."""
    consumption_check: ConsumptionCheck | None = None
    """When the consumption of a reading sent now is unusually large (None: nothing to judge by)."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            meter_id=_int(data["meter_id"]),
            service=_str(data["service"]),
            service_name=_str(data["service_name"]),
            unit=_str(data["unit"]),
            serial_number=_str(data["serial_number"]),
            integer_digits=_int(data["integer_digits"]),
            decimals=_int(data["decimals"]),
            value_format=_str(data["value_format"]),
            next_verification_on=_date(data["next_verification_on"]),
            verification_status=VerificationStatus(data["verification_status"]),
            verification_message=_optional_str(data.get("verification_message")),
            accepts_readings=_bool(data["accepts_readings"]),
            previous_reading=_optional(data.get("previous_reading"), Reading.from_json),
            current_reading=_optional(data.get("current_reading"), Reading.from_json),
            consumption_check=_optional(data.get("consumption_check"), ConsumptionCheck.from_json),
        )


@dataclass(frozen=True, slots=True)
class MetersOverview:
    """The meters of an account and the reading window (``GET /meters`` and ``/public/meters``)."""

    account_number: str
    window: ReadingWindow
    meters: tuple[Meter, ...]

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            account_number=_str(data["account_number"]),
            window=ReadingWindow.from_json(data["window"]),
            meters=_tuple(data["meters"], Meter.from_json),
        )


@dataclass(frozen=True, slots=True)
class PublicMeter:
    """A meter as shown before the resident proved anything: masked serial, no values."""

    meter_id: int
    service: str
    service_name: str
    unit: str
    serial_masked: str
    integer_digits: int
    decimals: int
    previous_required: bool = True
    """The meter has a previous reading, which the check needs (False: it has none; leave it empty)."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            meter_id=_int(data["meter_id"]),
            service=_str(data["service"]),
            service_name=_str(data["service_name"]),
            unit=_str(data["unit"]),
            serial_masked=_str(data["serial_masked"]),
            integer_digits=_int(data["integer_digits"]),
            decimals=_int(data["decimals"]),
            previous_required=_bool(data.get("previous_required", True)),
        )


@dataclass(frozen=True, slots=True)
class PublicLookup:
    """Readings without login, step 1: the account's meters to type the previous readings of."""

    account_number: str
    window: ReadingWindow
    meters: tuple[PublicMeter, ...]

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            account_number=_str(data["account_number"]),
            window=ReadingWindow.from_json(data["window"]),
            meters=_tuple(data["meters"], PublicMeter.from_json),
        )


@dataclass(frozen=True, slots=True)
class ReadingsAccess:
    """Readings without login, step 2 passed: the meters, open until ``expires_at`` (token in the client)."""

    account_number: str
    window: ReadingWindow
    meters: tuple[Meter, ...]
    expires_at: dt.datetime

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            account_number=_str(data["account_number"]),
            window=ReadingWindow.from_json(data["window"]),
            meters=_tuple(data["meters"], Meter.from_json),
            expires_at=_datetime(data["expires_at"]),
        )


def decimal_text(value: Decimal | str) -> str:
    """A reading as the API takes it: a ``Decimal`` in plain notation (never ``1E+3``), a str as typed."""
    return value if isinstance(value, str) else format(value, "f")


@dataclass(frozen=True, slots=True)
class ReadingEntry:
    """One meter's new reading to send.

    ``value`` is normally the ``Decimal`` from :func:`tui.formatting.parse_reading`; a ``str`` is sent
    as typed (the portal accepts ``,`` or ``.`` and answers a per-meter ``invalid_format``).
    """

    meter_id: int
    value: Decimal | str
    confirm_rollover: bool = False
    """The resident confirmed the meter wrapped past 99…9."""
    confirm_implausible: bool = False
    """The resident confirmed an unusually large consumption."""

    def to_json(self) -> dict[str, Any]:
        return {
            "meter_id": self.meter_id,
            "value": decimal_text(self.value),
            "confirm_rollover": self.confirm_rollover,
            "confirm_implausible": self.confirm_implausible,
        }


@dataclass(frozen=True, slots=True)
class ReadingResult:
    """What happened to one meter's reading: ``status`` and ``code`` say it, ``message`` in Russian.

    ``code``: ``accepted``, ``replaced_previous``, ``unknown_meter``, ``invalid_format``,
    ``verification_expired``, ``below_previous``, ``rollover_confirmation_required``,
    ``implausible_consumption_confirmation_required``, … (``error.<code>`` in the catalogue).
    """

    meter_id: int
    status: ResultStatus
    code: str
    message: str
    consumption: Decimal | None
    reading: Reading | None
    """The stored reading, when accepted."""

    @property
    def stored(self) -> bool:
        """The reading was stored (accepted or replacing this period's earlier one)."""
        return self.status in {ResultStatus.ACCEPTED, ResultStatus.REPLACED_PREVIOUS}

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            meter_id=_int(data["meter_id"]),
            status=ResultStatus(data["status"]),
            code=_str(data["code"]),
            message=_str(data["message"]),
            consumption=_optional_decimal(data.get("consumption")),
            reading=_optional(data.get("reading"), Reading.from_json),
        )


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The answer to a submission: per-meter results, and whether it is a replay of an earlier answer."""

    period: dt.date
    source: ReadingSource
    results: tuple[ReadingResult, ...]
    idempotency_key: str = ""
    """The key the submission was sent with (reuse it only to repeat the very same submission)."""
    replayed: bool = False
    """The portal had already handled this key: this is the stored first answer, nothing new stored."""

    def result_for(self, meter_id: int) -> ReadingResult | None:
        """The result of one meter, if it was in the submission."""
        return next((result for result in self.results if result.meter_id == meter_id), None)

    @classmethod
    def from_json(cls, data: JSON, *, idempotency_key: str = "", replayed: bool = False) -> Self:
        return cls(
            period=_date(data["period"]),
            source=ReadingSource(data["source"]),
            results=_tuple(data["results"], ReadingResult.from_json),
            idempotency_key=idempotency_key,
            replayed=replayed,
        )


# --- histories -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadingHistoryRow:
    """One reading in the history, with its meter (replaced readings stay, marked ``replaced``)."""

    reading_id: int
    meter_id: int
    service_code: str
    service_name: str
    unit: str
    serial_number: str
    period: dt.date
    value: Decimal
    consumption: Decimal | None
    """Accepted readings: this value minus the previous accepted one; None when unknown or replaced."""
    rollover: bool
    submitted_at: dt.datetime
    source: ReadingSource
    status: ReadingStatus

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            reading_id=_int(data["reading_id"]),
            meter_id=_int(data["meter_id"]),
            service_code=_str(data["service_code"]),
            service_name=_str(data["service_name"]),
            unit=_str(data["unit"]),
            serial_number=_str(data["serial_number"]),
            period=_date(data["period"]),
            value=_decimal(data["value"]),
            consumption=_optional_decimal(data.get("consumption")),
            rollover=_bool(data["rollover"]),
            submitted_at=_datetime(data["submitted_at"]),
            source=ReadingSource(data["source"]),
            status=ReadingStatus(data["status"]),
        )


@dataclass(frozen=True, slots=True)
class ReadingHistory:
    """Readings submitted between two dates (inclusive)."""

    date_from: dt.date
    date_to: dt.date
    readings: tuple[ReadingHistoryRow, ...]

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            date_from=_date(data["date_from"]),
            date_to=_date(data["date_to"]),
            readings=_tuple(data["readings"], ReadingHistoryRow.from_json),
        )


@dataclass(frozen=True, slots=True)
class PaymentMonth:
    """Payments received in one month, by payee."""

    period: dt.date
    """First day of the month."""
    utilities: Money
    capital_repair: Money

    @property
    def total(self) -> Money:
        return self.utilities + self.capital_repair

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            period=_date(data["period"]),
            utilities=_money(data["utilities_kopecks"]),
            capital_repair=_money(data["capital_repair_kopecks"]),
        )


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    """Payments of the whole period, by payee."""

    utilities: Money
    capital_repair: Money
    total: Money

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            utilities=_money(data["utilities_kopecks"]),
            capital_repair=_money(data["capital_repair_kopecks"]),
            total=_money(data["total_kopecks"]),
        )


@dataclass(frozen=True, slots=True)
class PaymentHistory:
    """Payments between two dates (inclusive): each payment, monthly totals and the period's totals."""

    date_from: dt.date
    date_to: dt.date
    payments: tuple[PaymentRow, ...]
    months: tuple[PaymentMonth, ...]
    totals: PaymentTotals

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            date_from=_date(data["date_from"]),
            date_to=_date(data["date_to"]),
            payments=_tuple(data["payments"], PaymentRow.from_json),
            months=_tuple(data["months"], PaymentMonth.from_json),
            totals=PaymentTotals.from_json(data["totals"]),
        )


@dataclass(frozen=True, slots=True)
class StatementMonth:
    """One month of the statement: opening + charged ± recalculation − paid = closing."""

    period: dt.date
    opening: Money
    charged: Money
    recalculation: Money
    paid: Money
    closing: Money
    lines: tuple[ServiceCharge, ...]

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            period=_date(data["period"]),
            opening=_money(data["opening_kopecks"]),
            charged=_money(data["charged_kopecks"]),
            recalculation=_money(data["recalculation_kopecks"]),
            paid=_money(data["paid_kopecks"]),
            closing=_money(data["closing_kopecks"]),
            lines=_tuple(data["lines"], ServiceCharge.from_json),
        )


@dataclass(frozen=True, slots=True)
class Statement:
    """The statement by month for one payee (utilities or capital repair) between two dates."""

    date_from: dt.date
    date_to: dt.date
    purpose: PaymentPurpose
    months: tuple[StatementMonth, ...]

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            date_from=_date(data["date_from"]),
            date_to=_date(data["date_to"]),
            purpose=PaymentPurpose(data["purpose"]),
            months=_tuple(data["months"], StatementMonth.from_json),
        )


def receipts_from_json(data: JSON) -> tuple[ReceiptMonth, ...]:
    """``GET /receipts``: the months with a receipt, as the portal orders them."""
    return _tuple(data["receipts"], ReceiptMonth.from_json)


__all__ = [
    "JSON",
    "AccountSummary",
    "AmountDueBreakdown",
    "CapitalRepair",
    "ConsumptionCheck",
    "Health",
    "Meter",
    "MeterWarning",
    "MetersOverview",
    "PaymentChannel",
    "PaymentHistory",
    "PaymentMonth",
    "PaymentPurpose",
    "PaymentRow",
    "PaymentTotals",
    "PublicLookup",
    "PublicMeter",
    "Reading",
    "ReadingEntry",
    "ReadingHistory",
    "ReadingHistoryRow",
    "ReadingResult",
    "ReadingSource",
    "ReadingStatus",
    "ReadingWindow",
    "ReadingsAccess",
    "ReceiptMonth",
    "RecoveryRequested",
    "RegistrationAccepted",
    "RegistrationLookup",
    "ResultStatus",
    "ServiceCharge",
    "Session",
    "Statement",
    "StatementMonth",
    "SubmitResult",
    "VerificationStatus",
    "decimal_text",
    "receipts_from_json",
]


# --- receipts by e-mail, captcha images, the profile ---------------------------------------------------


class CaptchaPurpose(StrEnum):
    """What a captcha image is for: the portal refuses it for anything else."""

    EMAIL_CHANGE = "email_change"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - a purpose, not a password


@dataclass(frozen=True, slots=True)
class ReceiptMailed:
    """«Отправить на e-mail»: the portal is mailing the receipt."""

    message: str
    """The portal's sentence (Russian)."""
    email_masked: str
    """The registered address, mostly hidden: ``i***@example.ru``."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(message=_str(data["message"]), email_masked=_str(data["email_masked"]))


@dataclass(frozen=True, slots=True)
class Captcha:
    """A single-use captcha image of one purpose; its answer stays on the portal."""

    captcha_id: str
    """Sent back with the answer."""
    image_png: bytes = field(repr=False)
    """The picture, PNG."""
    width: int
    height: int
    expires_at: dt.datetime
    attempts_left: int

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        import base64
        import binascii

        try:
            image = base64.b64decode(_str(data["image_png_base64"]), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"image_png_base64: {exc}") from None
        if not image.startswith(b"\x89PNG"):
            raise ValueError("image_png_base64 is not a PNG")
        return cls(
            captcha_id=_str(data["captcha_id"]),
            image_png=image,
            width=_int(data["width"]),
            height=_int(data["height"]),
            expires_at=_datetime(data["expires_at"]),
            attempts_left=_int(data["attempts_left"]),
        )


@dataclass(frozen=True, slots=True)
class Profile:
    """The resident's own profile: the login and the registered e-mail."""

    account_number: str
    email: str
    email_masked: str

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            account_number=_str(data["account_number"]),
            email=_str(data["email"]),
            email_masked=_str(data["email_masked"]),
        )


@dataclass(frozen=True, slots=True)
class EmailChanged:
    """The e-mail is changed: a notice went to the old address, a confirmation to the new one."""

    message: str
    email_masked: str
    """The new address, mostly hidden."""

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(message=_str(data["message"]), email_masked=_str(data["email_masked"]))


@dataclass(frozen=True, slots=True)
class MailSubscriptions:
    """The letters the resident chose: the monthly receipt, reading reminders; where they go."""

    receipt: bool
    reminders: bool
    email_masked: str

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        receipt, reminders = data["receipt"], data["reminders"]
        if not isinstance(receipt, bool) or not isinstance(reminders, bool):
            raise ValueError("receipt and reminders must be true or false")
        return cls(receipt=receipt, reminders=reminders, email_masked=_str(data["email_masked"]))


__all__ += ["Captcha", "CaptchaPurpose", "EmailChanged", "MailSubscriptions", "Profile", "ReceiptMailed"]


# --- payments ------------------------------------------------------------------------------------------
# ``POST /payments`` and friends (the payments contract): one vocabulary of statuses for A3 and PayMO.


class PaymentProvider(StrEnum):
    """The payment service that takes the card: the catalogue key ``payment.service_<value>`` names it."""

    A3 = "a3"
    PAYMO = "paymo"


class PaymentStatus(StrEnum):
    """Where a payment order is; ``payment.status_<value>`` in the catalogue says it in words."""

    INITIATED = "initiated"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def is_final(self) -> bool:
        """Nothing will change any more (paid, failed, cancelled or refunded): stop asking."""
        return self in _FINAL_PAYMENT_STATUSES


_FINAL_PAYMENT_STATUSES = frozenset(
    {PaymentStatus.SUCCESS, PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.REFUNDED}
)


class SandboxAction(StrEnum):
    """What the demo sandbox's payment page can be told: the buttons of its hosted form."""

    PAY = "pay"
    DECLINE = "decline"
    CANCEL = "cancel"


def _amount(value: Any) -> Money:
    """An amount sent as a decimal string of rubles (``"1023.12"``): exact, never through a float."""
    return Money.from_decimal(_decimal(value))


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """A payment started through A3 or PayMO: where to pay (``payment_url``) and how it is going."""

    order_id: str
    """Unguessable opaque id (``po_…``); also what the public status endpoint is asked with."""
    provider: PaymentProvider
    purpose: PaymentPurpose
    amount: Money
    status: PaymentStatus
    payment_url: str
    """The provider's hosted card form or checkout page (opened in a browser, or read as a QR code)."""
    sandbox: bool
    """The provider is the demo's in-process sandbox twin: the app may press its buttons itself."""
    created_at: dt.datetime
    updated_at: dt.datetime
    credited: bool
    """The payment has been recorded in the account's payments (it shows in the history and balance)."""

    @property
    def is_final(self) -> bool:
        """The status will not change any more."""
        return self.status.is_final

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            order_id=_str(data["id"]),
            provider=PaymentProvider(data["provider"]),
            purpose=PaymentPurpose(data["purpose"]),
            amount=_amount(data["amount"]),
            status=PaymentStatus(data["status"]),
            payment_url=_str(data["payment_url"]),
            sandbox=_bool(data["sandbox"]),
            created_at=_datetime(data["created_at"]),
            updated_at=_datetime(data["updated_at"]),
            credited=_bool(data["credited"]),
        )


@dataclass(frozen=True, slots=True)
class CapitalRepairLookup:
    """«Оплата взноса ФКР» without login: the fund account exists; masked address and the amount due."""

    capital_repair_account: str
    address_masked: str
    amount_due: Money

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            capital_repair_account=_str(data["capital_repair_account"]),
            address_masked=_str(data["address_masked"]),
            amount_due=_amount(data["amount_due"]),
        )


@dataclass(frozen=True, slots=True)
class PaymentCode:
    """One payee's ГОСТ Р 56042-2014 payment QR text (``ST00012|Name=…``) and the sum in it."""

    payload: str
    amount: Money

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(payload=_str(data["payload"]), amount=_amount(data["amount"]))


def _month(value: Any) -> dt.date:
    """A billing month sent as ``YYYY-MM``, as the first day of the month."""
    text = _str(value)
    year, _, month = text.partition("-")
    if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    return dt.date(int(year), int(month), 1)


@dataclass(frozen=True, slots=True)
class PaymentCodes:
    """The payment QR codes a month's receipt prints: utilities, and the capital repair block if any."""

    period: dt.date
    """The receipt's month (first day)."""
    utilities: PaymentCode
    capital_repair: PaymentCode | None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            period=_month(data["period"]),
            utilities=PaymentCode.from_json(data["utilities"]),
            capital_repair=_optional(data.get("capital_repair"), PaymentCode.from_json),
        )


__all__ += [
    "CapitalRepairLookup",
    "PaymentCode",
    "PaymentCodes",
    "PaymentOrder",
    "PaymentProvider",
    "PaymentStatus",
    "SandboxAction",
]
