"""What the screens show, decoded from the portal's JSON into exact, typed, immutable values.

Every amount of money is :class:`~tui.formatting.Money` (the API's ``*_kopecks`` integers, the
``_kopecks`` suffix dropped from the name), every decimal (area, readings, volumes) a ``Decimal``
parsed from the API's string, every month and date a ``datetime.date`` (a month as its first day) and
every moment an aware ``datetime.datetime``. Lists are tuples, so a model is hashable and no screen can
change another's data.

Each model names the OpenAPI component it decodes (:func:`tui.wire.wire`) and is decoded by one
mechanism, :func:`tui.wire.decode`; the API client (:mod:`tui.client`) turns a body of the wrong shape
into a :class:`~tui.errors.PortalError` with the code ``unexpected_response``. A wire name that differs
from the attribute is mapped in the field's annotation. The request side is :class:`ReadingEntry`
(what a resident typed for one meter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasPath, Field

from tui.formatting import Money
from tui.wire import DecimalText, Kopecks, Moment, Month, PngBase64, wire

JSON = Mapping[str, Any]
"""A JSON object as ``httpx`` decodes it."""


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
    #: Taken by a remote reading system (АСКУЭ) and loaded by the billing center's import.
    REMOTE = "remote"


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


@wire("Health")
@dataclass(frozen=True, slots=True)
class Health:
    """``GET /health``: the portal and its database are up."""

    status: str
    database: str
    version: str


@wire("SessionInfo", ignored={"token"})
@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in resident's session (the token itself stays inside the client)."""

    account_number: str
    expires_at: Moment
    """Absolute end of the session (aware, UTC)."""
    idle_timeout_seconds: int
    """The portal ends the session after this long without a request."""


@wire("LookupResult")
@dataclass(frozen=True, slots=True)
class RegistrationLookup:
    """Registration step 1: the account exists; its address is shown masked (``г. В*****, …``)."""

    account_number: str
    masked_address: str
    found: bool = True


@wire("RegistrationAccepted")
@dataclass(frozen=True, slots=True)
class RegistrationAccepted:
    """Registration step 2 accepted: the password went to the (masked) e-mail."""

    message: str
    email_masked: str


@wire("RecoveryRequested")
@dataclass(frozen=True, slots=True)
class RecoveryRequested:
    """Password recovery asked for; the message never says whether the account/e-mail pair exists."""

    message: str


# --- account summary -----------------------------------------------------------------------------------


@wire("ServiceCharge")
@dataclass(frozen=True, slots=True)
class ServiceCharge:
    """One service line of a receipt or a statement month: volume × tariff + recalculation."""

    service_code: str
    """``cold_water``, ``heating``…; the catalogue key ``service.<code>`` names it in any language."""
    service_name: str
    """The portal's (Russian) name."""
    unit: str
    volume: DecimalText
    tariff: Annotated[Kopecks, Field(alias="tariff_kopecks")]
    charged: Annotated[Kopecks, Field(alias="charged_kopecks")]
    recalculation: Annotated[Kopecks, Field(alias="recalculation_kopecks")]
    """May be negative."""

    @property
    def total(self) -> Money:
        """Charged plus recalculation: the line's «Итого»."""
        return self.charged + self.recalculation


@wire("AmountDueBreakdown")
@dataclass(frozen=True, slots=True)
class AmountDueBreakdown:
    """How the amount due comes from the last receipt: its total minus what was paid since."""

    period: Month | None
    """The last receipt's month (first day); None: no receipt yet."""
    opening_balance: Annotated[Kopecks, Field(alias="opening_balance_kopecks")]
    """Balance at the start of that month (входящее сальдо)."""
    charged: Annotated[Kopecks, Field(alias="charged_kopecks")]
    recalculation: Annotated[Kopecks, Field(alias="recalculation_kopecks")]
    paid_in_period: Annotated[Kopecks, Field(alias="paid_in_period_kopecks")]
    receipt_total: Annotated[Kopecks, Field(alias="receipt_total_kopecks")]
    """«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» of that receipt."""
    payments_since: Annotated[Kopecks, Field(alias="payments_since_kopecks")]
    lines: tuple[ServiceCharge, ...]


@wire("CapitalRepair")
@dataclass(frozen=True, slots=True)
class CapitalRepair:
    """The capital repair block: a separate payee with its own account number, paid separately."""

    account_number: str
    """The apartment's account at the fund (not the login)."""
    fund_name: str
    period: Month | None
    receipt_total: Annotated[Kopecks, Field(alias="receipt_total_kopecks")]
    """«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ» of the last receipt."""
    amount_due: Annotated[Kopecks, Field(alias="amount_due_kopecks")]
    debt: Annotated[Kopecks, Field(alias="debt_kopecks")]
    """Signed: positive owes, negative prepaid."""


@wire("ReadingWindow")
@dataclass(frozen=True, slots=True)
class ReadingWindow:
    """When readings are accepted; ``message`` says it in words («Приём показаний с 15 по 25 число.»)."""

    open: bool
    """Readings are accepted today."""
    period: Month
    """The billing month (first day) readings sent now are for."""
    always_open: bool
    start_day: int | None
    end_day: int | None
    closes_on: dt.date | None
    """Last day of the open window."""
    opens_on: dt.date | None
    """First day of the next window while closed."""
    message: str


@wire("MeterWarning")
@dataclass(frozen=True, slots=True)
class MeterWarning:
    """A meter whose verification has expired (``verification_expired``) or is due (``verification_due``)."""

    code: Literal["verification_expired", "verification_due"]
    meter_id: int
    service_name: str
    serial_number: str
    date: dt.date
    """The verification date."""
    message: str


@wire("PaymentRow")
@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One payment received (also the summary's «last payment»)."""

    paid_on: dt.date
    amount: Annotated[Kopecks, Field(alias="amount_kopecks")]
    channel: PaymentChannel
    purpose: PaymentPurpose


@wire("AccountSummary")
@dataclass(frozen=True, slots=True)
class AccountSummary:
    """The home screen: who and where, what is owed, the capital repair block, the reading window."""

    account_number: str
    address: str
    owner_name: str
    area_m2: DecimalText
    residents: int
    debt: Annotated[Kopecks, Field(validation_alias=AliasPath("balance", "debt_kopecks"))]
    """Signed current balance: positive = owes, negative = prepaid."""
    amount_due: Annotated[Kopecks, Field(validation_alias=AliasPath("balance", "amount_due_kopecks"))]
    """Left to pay now: the last receipt's total minus payments since (≥ 0)."""
    amount_due_breakdown: Annotated[
        AmountDueBreakdown, Field(validation_alias=AliasPath("balance", "breakdown"))
    ]
    capital_repair: CapitalRepair | None
    """None when the apartment has no account at the fund."""
    reading_window: ReadingWindow
    warnings: tuple[MeterWarning, ...]
    last_payment: PaymentRow | None


@wire("ReceiptMonth")
@dataclass(frozen=True, slots=True)
class ReceiptMonth:
    """One monthly receipt (ЕПД) available: its month and its two totals."""

    period: Month
    total: Annotated[Kopecks, Field(alias="total_kopecks")]
    """«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ …» (without capital repair)."""
    capital_repair: Annotated[Kopecks, Field(alias="capital_repair_kopecks")]
    """«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ»."""


# --- meters and readings -------------------------------------------------------------------------------


@wire("ReadingOut")
@dataclass(frozen=True, slots=True)
class Reading:
    """A stored reading of one meter."""

    reading_id: int
    value: DecimalText
    """Exact, with the meter's number of decimals."""
    period: Month
    submitted_at: Moment
    source: ReadingSource
    rollover: bool
    """The meter wrapped past 99…9 (the resident confirmed it)."""
    needs_review: bool
    """Unusually large consumption: a specialist checks it."""


@wire("ConsumptionCheck")
@dataclass(frozen=True, slots=True)
class ConsumptionCheck:
    """When a reading sent now counts as unusually large: the portal then asks to confirm it."""

    confirm_above: DecimalText
    """Consumption since the previous reading above which the reading must be confirmed."""
    average_monthly: DecimalText | None
    """The meter's average monthly consumption, when the limit is five times it."""
    monthly_limit: DecimalText | None
    """The service's monthly limit, when the limit is that one."""
    months: int
    """Months since the previous reading's period."""


@wire("MeterOut")
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


@wire("MetersOverview")
@dataclass(frozen=True, slots=True)
class MetersOverview:
    """The meters of an account and the reading window (``GET /meters`` and ``/public/meters``)."""

    account_number: str
    window: ReadingWindow
    meters: tuple[Meter, ...]


@wire("PublicMeterOut")
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


@wire("LookupResponse")
@dataclass(frozen=True, slots=True)
class PublicLookup:
    """Readings without login, step 1: the account's meters to type the previous readings of."""

    account_number: str
    window: ReadingWindow
    meters: tuple[PublicMeter, ...]


@wire("ReadingsAccessGranted", ignored={"token"})
@dataclass(frozen=True, slots=True)
class ReadingsAccess:
    """Readings without login, step 2 passed: the meters, open until ``expires_at`` (token in the client)."""

    account_number: str
    window: ReadingWindow
    meters: tuple[Meter, ...]
    expires_at: Moment


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


@wire("ReadingResult")
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
    consumption: DecimalText | None
    reading: Reading | None
    """The stored reading, when accepted."""

    @property
    def stored(self) -> bool:
        """The reading was stored (accepted or replacing this period's earlier one)."""
        return self.status in {ResultStatus.ACCEPTED, ResultStatus.REPLACED_PREVIOUS}


@wire("SubmitReadingsResponse", local={"idempotency_key", "replayed"})
@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The answer to a submission: per-meter results, and whether it is a replay of an earlier answer."""

    period: Month
    source: ReadingSource
    results: tuple[ReadingResult, ...]
    idempotency_key: str = ""
    """The key the submission was sent with (reuse it only to repeat the very same submission)."""
    replayed: bool = False
    """The portal had already handled this key: this is the stored first answer, nothing new stored."""

    def result_for(self, meter_id: int) -> ReadingResult | None:
        """The result of one meter, if it was in the submission."""
        return next((result for result in self.results if result.meter_id == meter_id), None)


# --- histories -----------------------------------------------------------------------------------------


@wire("ReadingRow")
@dataclass(frozen=True, slots=True)
class ReadingHistoryRow:
    """One reading in the history, with its meter (replaced readings stay, marked ``replaced``)."""

    reading_id: int
    meter_id: int
    service_code: str
    service_name: str
    unit: str
    serial_number: str
    period: Month
    value: DecimalText
    consumption: DecimalText | None
    """Accepted readings: this value minus the previous accepted one; None when unknown or replaced."""
    rollover: bool
    submitted_at: Moment
    source: ReadingSource
    status: ReadingStatus


@wire("ReadingHistory")
@dataclass(frozen=True, slots=True)
class ReadingHistory:
    """Readings submitted between two dates (inclusive)."""

    date_from: dt.date
    date_to: dt.date
    readings: tuple[ReadingHistoryRow, ...]


@wire("PaymentMonth")
@dataclass(frozen=True, slots=True)
class PaymentMonth:
    """Payments received in one month, by payee."""

    period: Month
    """First day of the month."""
    utilities: Annotated[Kopecks, Field(alias="utilities_kopecks")]
    capital_repair: Annotated[Kopecks, Field(alias="capital_repair_kopecks")]

    @property
    def total(self) -> Money:
        return self.utilities + self.capital_repair


@wire("PaymentTotals")
@dataclass(frozen=True, slots=True)
class PaymentTotals:
    """Payments of the whole period, by payee."""

    utilities: Annotated[Kopecks, Field(alias="utilities_kopecks")]
    capital_repair: Annotated[Kopecks, Field(alias="capital_repair_kopecks")]
    total: Annotated[Kopecks, Field(alias="total_kopecks")]


@wire("PaymentHistory")
@dataclass(frozen=True, slots=True)
class PaymentHistory:
    """Payments between two dates (inclusive): each payment, monthly totals and the period's totals."""

    date_from: dt.date
    date_to: dt.date
    payments: tuple[PaymentRow, ...]
    months: tuple[PaymentMonth, ...]
    totals: PaymentTotals


@wire("StatementMonthRow")
@dataclass(frozen=True, slots=True)
class StatementMonth:
    """One month of the statement: opening + charged ± recalculation + penalties − paid = closing."""

    period: Month
    opening: Annotated[Kopecks, Field(alias="opening_kopecks")]
    charged: Annotated[Kopecks, Field(alias="charged_kopecks")]
    recalculation: Annotated[Kopecks, Field(alias="recalculation_kopecks")]
    penalties: Annotated[Kopecks, Field(alias="penalties_kopecks")]
    """Пени charged in the month (imported from the billing center)."""
    paid: Annotated[Kopecks, Field(alias="paid_kopecks")]
    closing: Annotated[Kopecks, Field(alias="closing_kopecks")]
    lines: tuple[ServiceCharge, ...]


@wire("Statement")
@dataclass(frozen=True, slots=True)
class Statement:
    """The statement by month for one payee (utilities or capital repair) between two dates."""

    date_from: dt.date
    date_to: dt.date
    purpose: PaymentPurpose
    months: tuple[StatementMonth, ...]


@wire("ReceiptList")
@dataclass(frozen=True, slots=True)
class ReceiptList:
    """``GET /receipts``: the months with a receipt, as the portal orders them (newest first)."""

    receipts: tuple[ReceiptMonth, ...]


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
    "ReceiptList",
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
]


# --- receipts by e-mail, captcha images, the profile ---------------------------------------------------


class CaptchaPurpose(StrEnum):
    """What a captcha image is for: the portal refuses it for anything else."""

    EMAIL_CHANGE = "email_change"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - a purpose, not a password


@wire("ReceiptMailed")
@dataclass(frozen=True, slots=True)
class ReceiptMailed:
    """«Отправить на e-mail»: the portal is mailing the receipt."""

    message: str
    """The portal's sentence (Russian)."""
    email_masked: str
    """The registered address, mostly hidden: ``i***@example.ru``."""


@wire("CaptchaIssued")
@dataclass(frozen=True, slots=True)
class Captcha:
    """A single-use captcha image of one purpose; its answer stays on the portal."""

    captcha_id: str
    """Sent back with the answer."""
    image_png: Annotated[PngBase64, Field(alias="image_png_base64")] = field(repr=False)
    """The picture, PNG."""
    width: int
    height: int
    expires_at: Moment
    attempts_left: int


@wire("ProfileView")
@dataclass(frozen=True, slots=True)
class Profile:
    """The resident's own profile: the login and the registered e-mail."""

    account_number: str
    email: str
    email_masked: str


@wire("EmailChanged")
@dataclass(frozen=True, slots=True)
class EmailChanged:
    """The e-mail is changed: a notice went to the old address, a confirmation to the new one."""

    message: str
    email_masked: str
    """The new address, mostly hidden."""


@wire("Subscriptions")
@dataclass(frozen=True, slots=True)
class MailSubscriptions:
    """The letters the resident chose: the monthly receipt, reading reminders; where they go."""

    receipt: bool
    reminders: bool
    email_masked: str


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


@wire("PaymentOrderOut", non_null={"payment_url"})
@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """A payment started through A3 or PayMO: where to pay (``payment_url``) and how it is going."""

    order_id: Annotated[str, Field(alias="id")]
    """Unguessable opaque id (``po_…``); also what the public status endpoint is asked with."""
    provider: PaymentProvider
    purpose: PaymentPurpose
    amount: Annotated[Kopecks, Field(alias="amount_kopecks")]
    status: PaymentStatus
    payment_url: str
    """The provider's hosted card form or checkout page (opened in a browser, or read as a QR code)."""
    sandbox: bool
    """The provider is the demo's in-process sandbox twin: the app may press its buttons itself."""
    created_at: Moment
    updated_at: Moment
    credited: bool
    """The payment has been recorded in the account's payments (it shows in the history and balance)."""

    @property
    def is_final(self) -> bool:
        """The status will not change any more."""
        return self.status.is_final


@wire("CapitalRepairLookup")
@dataclass(frozen=True, slots=True)
class CapitalRepairLookup:
    """«Оплата взноса ФКР» without login: the fund account exists; masked address and the amount due."""

    capital_repair_account: str
    address_masked: str
    amount_due: Annotated[Kopecks, Field(alias="amount_due_kopecks")]


@wire("PaymentCode")
@dataclass(frozen=True, slots=True)
class PaymentCode:
    """One payee's ГОСТ Р 56042-2014 payment QR text (``ST00012|Name=…``) and the sum in it."""

    payload: str
    amount: Annotated[Kopecks, Field(alias="amount_kopecks")]


@wire("PaymentCodes")
@dataclass(frozen=True, slots=True)
class PaymentCodes:
    """The payment QR codes a month's receipt prints: utilities, and the capital repair block if any."""

    period: Month
    """The receipt's month (first day)."""
    utilities: PaymentCode
    capital_repair: PaymentCode | None


__all__ += [
    "CapitalRepairLookup",
    "PaymentCode",
    "PaymentCodes",
    "PaymentOrder",
    "PaymentProvider",
    "PaymentStatus",
    "SandboxAction",
]


# --- several accounts under one login ------------------------------------------------------------------


@wire("AttachedAccount")
@dataclass(frozen=True, slots=True)
class LoginAccount:
    """One account of the login (its own or attached), with what is due on it today."""

    account_number: str
    address: str
    own: bool
    """The account the login registered with: it cannot be detached."""
    current: bool
    """The account this session works on (every other screen shows it)."""
    period: Month | None
    """The last receipt's month; None before the first receipt."""
    amount_due: Annotated[Kopecks, Field(alias="amount_due_kopecks")]
    """Utilities left to pay now (as on the account's own summary)."""
    capital_repair_amount_due: Annotated[Kopecks | None, Field(alias="capital_repair_amount_due_kopecks")]
    """The capital repair contribution left to pay now; None: no account at the fund."""


@wire("AttachedAccounts")
@dataclass(frozen=True, slots=True)
class LoginAccounts:
    """The home screen's list: the login's own account first, then the attached ones."""

    accounts: tuple[LoginAccount, ...]
    total_due: Annotated[Kopecks, Field(alias="total_due_kopecks")]
    capital_repair_total_due: Annotated[Kopecks, Field(alias="capital_repair_total_due_kopecks")]

    @property
    def current(self) -> LoginAccount | None:
        """The account this session works on."""
        return next((account for account in self.accounts if account.current), None)


@wire("AccountPayment")
@dataclass(frozen=True, slots=True)
class AccountPayment:
    """The card payment order made for one account by «pay all»."""

    account_number: str
    replayed: bool
    """The order an earlier request with the same key made."""
    order: PaymentOrder


@wire("PayAllResult")
@dataclass(frozen=True, slots=True)
class PayAllResult:
    """One order per account that had something to pay; each has its own ``payment_url``."""

    payments: tuple[AccountPayment, ...]
    total: Annotated[Kopecks, Field(alias="total_kopecks")]
