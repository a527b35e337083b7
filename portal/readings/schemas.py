"""Request and response bodies of meters and meter readings (with and without login).

Readings are exact decimals: they travel as JSON strings (``"123.456"``) and are typed by residents
with a comma or a dot.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from portal.auth.schemas import AccountNumber
from portal.models import ReadingSource
from portal.periods import Month

#: Database ids are 32-bit integers; a larger number could never match and must not reach the driver.
MAX_ID = 2**31 - 1
#: How many meters one request may carry (an apartment has a handful).
MAX_METERS = 50
#: A typed reading: ASCII digits, ``,`` or ``.`` before the decimals, spaces around allowed. The same
#: text in ECMAScript and Python; the service checks it whole.
READING_PATTERN = r"^ *([0-9]+)(?:[.,]([0-9]+))? *$"


class VerificationStatus(enum.StrEnum):
    """State of a meter's verification (поверка)."""

    OK = "ok"
    DUE_SOON = "due_soon"  # due within 60 days: a warning
    EXPIRED = "expired"  # the date has passed: no readings are accepted


class ResultStatus(enum.StrEnum):
    """What happened to one meter's reading in a submission."""

    ACCEPTED = "accepted"
    REPLACED_PREVIOUS = "replaced_previous"  # accepted; the earlier reading of this period is replaced
    REJECTED = "rejected"
    NEEDS_CONFIRMATION = "needs_confirmation"  # send again with the confirmation flag the code names


class ReadingWindow(BaseModel):
    """When readings are accepted (days of the month, billing-center time)."""

    #: Every answer has every field (null when empty): the document says so to the client.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    open: bool = Field(description="Readings are accepted today.")
    period: Month = Field(description="The billing month readings go to.")
    always_open: bool = Field(description="Readings are accepted on any day.")
    start_day: int | None = Field(default=None, description="First day of the month of the window.")
    end_day: int | None = Field(default=None, description="Last day of the month of the window (inclusive).")
    closes_on: dt.date | None = Field(default=None, description="Last day of the open window.")
    opens_on: dt.date | None = Field(default=None, description="First day of the next window when closed.")
    message: str = Field(description="The window in words, e.g. «Приём показаний с 15 по 25 число.»")


class ReadingOut(BaseModel):
    """A stored reading."""

    reading_id: int
    value: Decimal = Field(description="Exact decimal as a string, with the meter's number of decimals.")
    period: Month
    submitted_at: dt.datetime
    source: ReadingSource
    rollover: bool = Field(description="The meter wrapped past 99…9 (confirmed by the resident).")
    needs_review: bool = Field(description="Unusually large consumption: a specialist checks it.")


class ConsumptionCheck(BaseModel):
    """When a reading sent now counts as unusually large (it must then be confirmed and is reviewed)."""

    #: Every answer has every field (null when empty): the document says so to the client.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    confirm_above: Decimal = Field(
        description="Consumption since the previous reading above which the reading must be confirmed."
    )
    average_monthly: Decimal | None = Field(
        default=None, description="The meter's average monthly consumption, when the limit is five times it."
    )
    monthly_limit: Decimal | None = Field(
        default=None, description="The service's monthly limit, when the limit is that one."
    )
    months: int = Field(description="Months between the previous reading's period and the current one.")


class MeterOut(BaseModel):
    """A meter of the account with its previous and this period's reading."""

    #: Every answer has every field (null when empty): the document says so to the client.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    meter_id: int
    service: str = Field(description="Service code, e.g. `cold_water`.")
    service_name: str = Field(description="Service name in Russian.")
    unit: str
    serial_number: str
    integer_digits: int = Field(description="Digits before the decimal separator on the meter's dial.")
    decimals: int = Field(description="Digits after the decimal separator (0 for whole units).")
    value_format: str = Field(description="The allowed format in words, with an example.")
    next_verification_on: dt.date
    verification_status: VerificationStatus
    verification_message: str | None = Field(default=None, description="Warning or refusal, if any.")
    accepts_readings: bool = Field(description="False when the verification has expired.")
    previous_reading: ReadingOut | None = Field(
        default=None, description="The last accepted reading of an earlier period (consumption starts here)."
    )
    current_reading: ReadingOut | None = Field(
        default=None, description="The reading already accepted for this period (a new one replaces it)."
    )
    consumption_check: ConsumptionCheck | None = Field(
        default=None, description="How a new reading's consumption is judged (None: nothing to judge by)."
    )


class MetersOverview(BaseModel):
    """The account's meters and the reading window."""

    account_number: str
    window: ReadingWindow
    meters: list[MeterOut]


class ReadingInput(BaseModel):
    """One meter's new reading."""

    # Strict: a JSON number, not ``"7"``; ``true``/``false``, not ``0`` or ``"yes"``.
    meter_id: StrictInt = Field(ge=1, le=MAX_ID)
    # No pattern: a badly typed value is that meter's `rejected` result (`invalid_format`), not a 422.
    value: str = Field(
        min_length=1,
        max_length=40,
        description="The new reading: digits with `,` or `.` as the decimal separator.",
        examples=["12345,678"],
    )
    confirm_rollover: StrictBool = Field(
        default=False, description="The meter wrapped past 99…9: accept a value below the previous one."
    )
    confirm_implausible: StrictBool = Field(
        default=False, description="The unusually large consumption is right (it will be reviewed)."
    )


class SubmitReadingsRequest(BaseModel):
    readings: list[ReadingInput] = Field(
        min_length=1,
        max_length=MAX_METERS,
        description="One reading per meter (422 `duplicate_meter` for a meter twice).",
    )


class ReadingResult(BaseModel):
    """The outcome for one meter; rejected and unconfirmed readings are not stored."""

    #: Every answer has every field (null when empty): the document says so to the client.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    meter_id: int
    status: ResultStatus
    code: str = Field(
        description=(
            "`accepted`, `replaced_previous`, `unknown_meter`, `invalid_format`, `verification_expired`, "
            "`below_previous`, `rollover_confirmation_required`, "
            "`implausible_consumption_confirmation_required`."
        )
    )
    message: str = Field(description="What happened, in Russian.")
    consumption: Decimal | None = Field(default=None, description="Consumption since the previous reading.")
    reading: ReadingOut | None = Field(default=None, description="The stored reading, when accepted.")


class SubmitReadingsResponse(BaseModel):
    """Per-meter outcomes of a submission."""

    period: Month
    source: ReadingSource
    results: list[ReadingResult]


class LookupRequest(BaseModel):
    account_number: str = AccountNumber


class PublicMeterOut(BaseModel):
    """A meter as shown before the previous readings are proven: no values, a masked serial number."""

    #: Every answer has every field (null when empty): the document says so to the client.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    meter_id: int
    service: str
    service_name: str
    unit: str
    serial_masked: str = Field(examples=["****1234"])
    integer_digits: int
    decimals: int
    previous_required: bool = Field(
        default=True,
        description="The meter has a previous reading, which the check needs (False: leave it out).",
    )


class LookupResponse(BaseModel):
    account_number: str
    window: ReadingWindow
    meters: list[PublicMeterOut]


class PreviousReadingInput(BaseModel):
    meter_id: StrictInt = Field(ge=1, le=MAX_ID)
    value: str = Field(
        min_length=1,
        max_length=40,
        description="The previous reading as on the receipt (422 `invalid_format` otherwise).",
        examples=["12345,678"],
        json_schema_extra={"pattern": READING_PATTERN},
    )


class CheckRequest(BaseModel):
    account_number: str = AccountNumber
    previous_readings: list[PreviousReadingInput] = Field(
        min_length=1,
        max_length=MAX_METERS,
        description="One previous reading per meter (422 `duplicate_meter` for a meter twice).",
    )


class ReadingsAccessGranted(MetersOverview):
    """The previous readings matched: a short-lived token to submit new readings without login."""

    token: str = Field(description="Bearer token for `/public/meters` and `/public/readings`.")
    expires_at: dt.datetime
