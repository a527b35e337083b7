"""Rules of meter readings: the reading window, the meter's format, verification, rollover, implausible
consumption, replacement within a period, and readings without login.

One submission function serves both the logged-in resident and the readings-without-login token;
only the recorded source differs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.accounts.repository import AccountsRepository
from portal.auth.service import Principal, open_token
from portal.idempotency import IdempotencyKeys, StoredResponse, request_hash
from portal.kit.cache import invalidate_after_commit
from portal.kit.clock import month_start
from portal.kit.state import PortalState
from portal.meter_verification import VerificationState, verification_message, verification_state
from portal.models import ReadingSource, TokenKind
from portal.reading_window import reading_window as shared_window
from portal.readings.errors import (
    AccountNotFound,
    DuplicateMeter,
    InvalidPreviousReading,
    PreviousReadingsMismatch,
    ReadingsConflict,
    ReadingWindowClosed,
)
from portal.readings.repository import (
    MeterRecord,
    MeterWithHistory,
    NewReading,
    ReadingRecord,
    ReadingsRepository,
)
from portal.readings.schemas import (
    READING_PATTERN,
    CheckRequest,
    ConsumptionCheck,
    LookupResponse,
    MeterOut,
    MetersOverview,
    PublicMeterOut,
    ReadingOut,
    ReadingResult,
    ReadingsAccessGranted,
    ReadingWindow,
    ResultStatus,
    SubmitReadingsRequest,
    SubmitReadingsResponse,
    VerificationStatus,
)
from portal.settings import Settings
from portal.throttling.service import Scope, Window, take_client_window

#: The name under which submissions store their idempotency records.
IDEMPOTENCY_ENDPOINT = "readings"
#: Consumption above this multiple of the meter's monthly average must be confirmed.
IMPLAUSIBLE_FACTOR = 5
#: The average covers at most this many recent periods …
AVERAGE_PERIODS = 12
#: … and is trusted only with at least this many months of history.
AVERAGE_MIN_MONTHS = 3
#: Without any limit to judge by, a wrap past 99…9 is believed up to this share of the dial.
ROLLOVER_SHARE_WITHOUT_LIMIT = Decimal("0.1")

#: Digits only ([0-9], not any Unicode digit), one optional `,` or `.` separator.
_READING = re.compile(READING_PATTERN)


# --- words and numbers ---------------------------------------------------------------------------------


def shown(value: Decimal, decimals: int) -> Decimal:
    """``value`` with exactly the meter's number of decimals (storage keeps three)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals))


def _ru(value: Decimal) -> str:
    """A decimal the Russian way, as the app shows it: ``99 507,457`` (no-break spaces between thousands)."""
    text = f"{value:f}"
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    head = len(whole) % 3 or 3
    groups = [whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)]
    return sign + "\u00a0".join(groups) + ("," + fraction if fraction else "")


def times_ru(ratio: Decimal) -> str:
    """How many times larger, in Russian: ``в 18 537 раз``, ``в 22 раза``, ``в 5,6 раза``.

    From 10 on the ratio is rounded to a whole number, below that to one decimal.
    """
    if ratio >= 10:
        count = int(ratio.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        last_two, last = count % 100, count % 10
        word = "раза" if 2 <= last <= 4 and not 12 <= last_two <= 14 else "раз"
        return f"в {_ru(Decimal(count))} {word}"
    rounded = ratio.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        count = int(rounded)
        return f"в {count} {'раза' if 2 <= count <= 4 else 'раз'}"
    return f"в {_ru(rounded)} раза"


def _digits(count: int) -> str:
    return f"{count} цифры" if count % 10 == 1 and count % 100 != 11 else f"{count} цифр"


def value_format(meter: MeterRecord) -> str:
    """The meter's format in words with an example, e.g. ``не более 5 цифр до запятой и 3 после, …``."""
    sample = ("1234567890" * 2)[: meter.integer_digits + meter.decimals]
    if meter.decimals == 0:
        return f"целое число, не более {_digits(meter.integer_digits)}, например {sample}"
    whole, fraction = sample[: meter.integer_digits], sample[meter.integer_digits :]
    return (
        f"не более {_digits(meter.integer_digits)} до запятой и {meter.decimals} после, "
        f"например {whole},{fraction}"
    )


def parse_reading(text: str, meter: MeterRecord) -> Decimal | None:
    """The typed value if it fits the meter's dial (leading zeros allowed), else None."""
    match = _READING.fullmatch(text)
    if match is None:
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    if len(whole.lstrip("0")) > meter.integer_digits or len(fraction) > meter.decimals:
        return None
    return Decimal(f"{whole}.{fraction or '0'}")


def _parse_any(text: str) -> Decimal | None:
    """A typed reading of any precision (for comparing the previous readings)."""
    match = _READING.fullmatch(text)
    if match is None:
        return None
    return Decimal(f"{match.group(1)}.{match.group(2) or '0'}")


# --- the reading window and verification (the rules live in portal.reading_window / meter_verification) ---


def reading_window(settings: Settings, today: dt.date) -> ReadingWindow:
    """The window of :func:`portal.reading_window.reading_window` in this API's shape."""
    return ReadingWindow.model_validate(shared_window(settings, today), from_attributes=True)


# --- meters and their history --------------------------------------------------------------------------


_STATUS = {
    VerificationState.VALID: VerificationStatus.OK,
    VerificationState.DUE: VerificationStatus.DUE_SOON,
    VerificationState.EXPIRED: VerificationStatus.EXPIRED,
}


def verification(meter: MeterRecord, today: dt.date) -> tuple[VerificationStatus, str | None]:
    """The meter's verification state and what the resident is told about it."""
    state = verification_state(meter.next_verification_on, today)
    message = verification_message(state, meter.service.name, meter.serial_number, meter.next_verification_on)
    return _STATUS[state], message or None


@dataclass
class MeterHistory:
    """A meter's accepted readings around the current period."""

    #: Accepted readings of earlier periods, oldest first (the last one is the previous reading).
    earlier: list[ReadingRecord] = field(default_factory=list)
    #: The accepted reading of the current period, if one was submitted already.
    current: ReadingRecord | None = None

    @property
    def previous(self) -> ReadingRecord | None:
        return self.earlier[-1] if self.earlier else None


def _histories(meters: list[MeterWithHistory], period: dt.date) -> dict[int, MeterHistory]:
    histories: dict[int, MeterHistory] = {}
    for found in meters:
        history = MeterHistory()
        for reading in found.accepted:
            if reading.period < period:
                history.earlier.append(reading)
            else:
                history.current = reading
        histories[found.meter.id] = history
    return histories


def _months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _dial(meter: MeterRecord) -> Decimal:
    """10^N: where a meter with N integer digits wraps to zero."""
    return Decimal(10) ** meter.integer_digits


def average_monthly(meter: MeterRecord, earlier: list[ReadingRecord]) -> Decimal | None:
    """Average monthly consumption over the last :data:`AVERAGE_PERIODS` accepted periods, if enough."""
    readings = earlier[-(AVERAGE_PERIODS + 1) :]
    if len(readings) < 2:
        return None
    months = _months_between(readings[0].period, readings[-1].period)
    if months < AVERAGE_MIN_MONTHS:
        return None
    total = Decimal(0)
    for before, after in itertools.pairwise(readings):
        total += Decimal(after.value) - Decimal(before.value) + (_dial(meter) if after.rollover else 0)
    return total / months


@dataclass(frozen=True)
class _Limit:
    """A consumption (over the months since the previous reading) above which a reading is confirmed."""

    consumption: Decimal
    #: The service's own monthly limit, when this limit is that one …
    monthly: Decimal | None = None
    #: … or the meter's average monthly consumption, when it is five times that.
    average: Decimal | None = None
    months: int = 1

    def reason(self, meter: MeterRecord, consumption: Decimal) -> str:
        """Why ``consumption`` is unusual, with the true figures (the actual ratio, not the threshold)."""
        unit = meter.service.unit
        if self.average is not None:
            average = shown(self.average, meter.decimals)  # the ratio to the average as it is shown
            ratio = consumption / (max(average, Decimal("0.001")) * self.months)
            span = f" за {self.months} мес." if self.months > 1 else ""
            return f"{times_ru(ratio)} больше среднего расхода{span} ({_ru(average)} {unit} в месяц)"
        assert self.monthly is not None
        return f"больше {_ru(shown(self.monthly, meter.decimals))} {unit} в месяц"


def _limits(meter: MeterRecord, history: MeterHistory, months: int) -> list[_Limit]:
    """The consumption over ``months`` months above which a reading must be confirmed."""
    limits: list[_Limit] = []
    monthly_limit = meter.service.implausible_monthly_limit
    if monthly_limit is not None:
        limit = Decimal(monthly_limit)
        limits.append(_Limit(limit * months, monthly=limit, months=months))
    average = average_monthly(meter, history.earlier)
    if average is not None and average > 0:
        limits.append(_Limit(average * IMPLAUSIBLE_FACTOR * months, average=average, months=months))
    return limits


def lowest_limit(meter: MeterRecord, history: MeterHistory, today: dt.date) -> _Limit | None:
    """The limit a reading sent ``today`` is judged by (None: no previous reading, or nothing to judge by)."""
    previous = history.previous
    if previous is None:
        return None
    months = max(1, _months_between(previous.period, month_start(today)))
    limits = _limits(meter, history, months)
    return min(limits, key=lambda limit: limit.consumption) if limits else None


def _consumption_check(meter: MeterRecord, history: MeterHistory, today: dt.date) -> ConsumptionCheck | None:
    limit = lowest_limit(meter, history, today)
    if limit is None:
        return None
    return ConsumptionCheck(
        confirm_above=shown(limit.consumption, 3),
        average_monthly=None if limit.average is None else shown(limit.average, meter.decimals),
        monthly_limit=None if limit.monthly is None else shown(limit.monthly, meter.decimals),
        months=limit.months,
    )


# --- overview ------------------------------------------------------------------------------------------


def _reading_out(reading: ReadingRecord, meter: MeterRecord) -> ReadingOut:
    return ReadingOut(
        reading_id=reading.id,
        value=shown(reading.value, meter.decimals),
        period=reading.period,
        submitted_at=reading.submitted_at,
        source=ReadingSource(reading.source),
        rollover=reading.rollover,
        needs_review=reading.needs_review,
    )


def _meter_out(meter: MeterRecord, history: MeterHistory, today: dt.date) -> MeterOut:
    status, message = verification(meter, today)
    previous = history.previous
    return MeterOut(
        meter_id=meter.id,
        service=meter.service.code,
        service_name=meter.service.name,
        unit=meter.service.unit,
        serial_number=meter.serial_number,
        integer_digits=meter.integer_digits,
        decimals=meter.decimals,
        value_format=value_format(meter),
        next_verification_on=meter.next_verification_on,
        verification_status=status,
        verification_message=message,
        accepts_readings=status != VerificationStatus.EXPIRED,
        previous_reading=_reading_out(previous, meter) if previous else None,
        current_reading=_reading_out(history.current, meter) if history.current else None,
        consumption_check=_consumption_check(meter, history, today),
    )


async def meters_overview(state: PortalState, session: AsyncSession, principal: Principal) -> MetersOverview:
    """The principal's meters with their previous and this period's readings, and the window."""
    today = state.clock.today()
    window = reading_window(state.settings, today)
    meters = await ReadingsRepository(session, principal.account_id).meters_with_history(window.period)
    histories = _histories(meters, window.period)
    return MetersOverview(
        account_number=principal.account_number,
        window=window,
        meters=[_meter_out(found.meter, histories[found.meter.id], today) for found in meters],
    )


# --- submission ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    status: ResultStatus
    code: str
    message: str
    value: Decimal | None = None
    consumption: Decimal | None = None
    rollover: bool = False
    needs_review: bool = False


def _rejected(code: str, message: str) -> _Verdict:
    return _Verdict(ResultStatus.REJECTED, code, message)


def _judge(
    meter: MeterRecord | None,
    text: str,
    confirm_rollover: bool,
    confirm_implausible: bool,
    history: MeterHistory,
    today: dt.date,
) -> _Verdict:
    """Apply the rules to one meter's new reading; nothing is written here."""
    if meter is None:
        # Someone else's meter and a meter that does not exist look the same.
        return _rejected("unknown_meter", "Счётчик не найден в этом лицевом счёте.")
    status, note = verification(meter, today)
    if status == VerificationStatus.EXPIRED:
        return _rejected("verification_expired", note or "")
    value = parse_reading(text, meter)
    if value is None:
        return _rejected("invalid_format", f"Новое показание: {value_format(meter)}.")
    previous = history.previous
    if previous is None:
        return _Verdict(ResultStatus.ACCEPTED, "accepted", "", value=value)

    unit = meter.service.unit
    previous_value = Decimal(previous.value)
    lowest = lowest_limit(meter, history, today)
    rollover = False
    if value < previous_value:
        consumption = _dial(meter) - previous_value + value
        plausible_up_to = lowest.consumption if lowest else _dial(meter) * ROLLOVER_SHARE_WITHOUT_LIMIT
        if consumption > plausible_up_to:
            return _rejected(
                "below_previous",
                f"Новое показание {_ru(shown(value, meter.decimals))} меньше предыдущего показания "
                f"{_ru(shown(previous_value, meter.decimals))}. Проверьте показание.",
            )
        if not confirm_rollover:
            return _Verdict(
                ResultStatus.NEEDS_CONFIRMATION,
                "rollover_confirmation_required",
                f"Новое показание {_ru(shown(value, meter.decimals))} меньше предыдущего "
                f"{_ru(shown(previous_value, meter.decimals))}. Если счётчик перешёл через ноль "
                f"(после {_ru(_dial(meter) - 1)} снова с нуля), подтвердите: расход составит "
                f"{_ru(shown(consumption, meter.decimals))} {unit}.",
                consumption=consumption,
            )
        rollover = True
    else:
        consumption = value - previous_value
        if lowest is not None and consumption > lowest.consumption and not confirm_implausible:
            return _Verdict(
                ResultStatus.NEEDS_CONFIRMATION,
                "implausible_consumption_confirmation_required",
                f"Расход {_ru(shown(consumption, meter.decimals))} {unit} необычно большой: "
                f"{lowest.reason(meter, consumption)}. "
                "Проверьте показание; если оно верно, подтвердите его — показание проверит специалист.",
                consumption=consumption,
            )
    needs_review = not rollover and lowest is not None and consumption > lowest.consumption
    return _Verdict(
        ResultStatus.ACCEPTED,
        "accepted",
        "",
        value=value,
        consumption=consumption,
        rollover=rollover,
        needs_review=needs_review,
    )


def _accepted_message(verdict: _Verdict, meter: MeterRecord, replaced: ReadingRecord | None) -> str:
    parts = ["Показание принято."]
    if replaced is not None:
        parts = [
            "Показание принято и заменило переданное ранее в этом месяце "
            f"({_ru(shown(replaced.value, meter.decimals))})."
        ]
    if verdict.consumption is not None:
        parts.append(f"Расход: {_ru(shown(verdict.consumption, meter.decimals))} {meter.service.unit}.")
    if verdict.rollover:
        parts.append("Учтён переход счётчика через ноль.")
    if verdict.needs_review:
        parts.append("Из-за большого расхода показание проверит специалист.")
    return " ".join(parts)


@dataclass(frozen=True)
class SubmitOutcome:
    """The answer to a submission: the exact JSON stored (and replayed) and whether it is a replay."""

    response: StoredResponse
    replayed: bool


def _ensure_distinct(meter_ids: list[int], field_name: str) -> None:
    seen: set[int] = set()
    for meter_id in meter_ids:
        if meter_id in seen:
            raise DuplicateMeter(meter_id=meter_id, field=field_name)
        seen.add(meter_id)


def source_of(principal: Principal) -> ReadingSource:
    return ReadingSource.WITHOUT_LOGIN if principal.kind == TokenKind.READINGS else ReadingSource.RESIDENT


async def submit_readings(
    state: PortalState,
    session: AsyncSession,
    principal: Principal,
    request: SubmitReadingsRequest,
    idempotency_key: str | None,
) -> SubmitOutcome:
    """Judge and store new readings of the principal's meters, each meter on its own.

    The account's meters are locked first, so the checks below see every earlier submission and
    no other submission of this account can interleave until this transaction ends.
    """
    _ensure_distinct([entry.meter_id for entry in request.readings], "readings")
    repository = ReadingsRepository(session, principal.account_id)
    await repository.lock_meters()

    keys = IdempotencyKeys(session, principal.account_id)
    hashed = request_hash(IDEMPOTENCY_ENDPOINT, request.model_dump(mode="json"))
    if idempotency_key is not None:
        stored = await keys.replay(idempotency_key, IDEMPOTENCY_ENDPOINT, hashed)
        if stored is not None:
            return SubmitOutcome(stored, replayed=True)

    today = state.clock.today()
    window = reading_window(state.settings, today)
    if not window.open:
        raise ReadingWindowClosed(window=window.message)

    now = state.clock.now()
    source = source_of(principal)
    found = await repository.meters_with_history(window.period)
    meters = {meter.meter.id: meter.meter for meter in found}
    histories = _histories(found, window.period)
    # Judge every entry first; the accepted ones are then written together.
    results: list[ReadingResult | None] = []
    accepted: list[tuple[int, MeterRecord, _Verdict, Decimal, ReadingRecord | None]] = []
    for entry in request.readings:
        meter = meters.get(entry.meter_id)
        history = histories.get(entry.meter_id, MeterHistory())
        verdict = _judge(
            meter, entry.value, entry.confirm_rollover, entry.confirm_implausible, history, today
        )
        if meter is None or verdict.value is None or verdict.status != ResultStatus.ACCEPTED:
            results.append(
                ReadingResult(
                    meter_id=entry.meter_id,
                    status=verdict.status,
                    code=verdict.code,
                    message=verdict.message,
                    consumption=shown(verdict.consumption, meter.decimals)
                    if meter is not None and verdict.consumption is not None
                    else None,
                )
            )
            continue
        accepted.append((len(results), meter, verdict, verdict.value, history.current))
        results.append(None)  # answered once stored

    new_readings = [
        NewReading(
            meter_id=meter.id,
            period=window.period,
            value=value,
            submitted_at=now,
            source=source.value,
            rollover=verdict.rollover,
            needs_review=verdict.needs_review,
            replacing=replaced.id if replaced is not None else None,
        )
        for _, meter, verdict, value, replaced in accepted
    ]
    try:
        reading_ids = await repository.add_readings(new_readings)
    except IntegrityError:
        # The unique index caught a writer that bypassed the meter lock (e.g. an import):
        # the whole submission rolls back and the resident can simply send it again.
        raise ReadingsConflict() from None
    for (position, meter, verdict, _, replaced), new, reading_id in zip(
        accepted, new_readings, reading_ids, strict=True
    ):
        reading = ReadingRecord(
            id=reading_id,
            meter_id=new.meter_id,
            period=new.period,
            value=new.value,
            submitted_at=new.submitted_at,
            source=new.source,
            rollover=new.rollover,
            needs_review=new.needs_review,
        )
        status = ResultStatus.ACCEPTED if replaced is None else ResultStatus.REPLACED_PREVIOUS
        results[position] = ReadingResult(
            meter_id=meter.id,
            status=status,
            code=status.value,
            message=_accepted_message(verdict, meter, replaced),
            consumption=shown(verdict.consumption, meter.decimals)
            if verdict.consumption is not None
            else None,
            reading=_reading_out(reading, meter),
        )

    body = SubmitReadingsResponse(
        period=window.period, source=source, results=[result for result in results if result is not None]
    )
    response = StoredResponse(200, body.model_dump_json())
    if reading_ids:
        await invalidate_after_commit(session, f"account:{principal.account_id}")
    if idempotency_key is not None:
        await keys.remember(idempotency_key, IDEMPOTENCY_ENDPOINT, hashed, response, now)
    return SubmitOutcome(response, replayed=False)


# --- readings without login ----------------------------------------------------------------------------


def _masked(serial_number: str) -> str:
    return "****" + serial_number[-4:] if len(serial_number) > 4 else "****"


async def lookup_meters(
    state: PortalState, session: AsyncSession, account_number: str, client: str
) -> LookupResponse:
    """The account's meters without values, so the resident knows which previous readings to type.

    Every lookup (found or not) counts against the client address's window of public lookups.
    """
    await take_client_window(
        session,
        Window.READINGS_LOOKUP,
        client,
        state.clock.now(),
        limit=state.settings.public_lookups_per_window,
        length=dt.timedelta(seconds=state.settings.public_payment_window_seconds),
    )
    account = await AccountsRepository(session).account_by_number(account_number.strip())
    if account is None:
        raise AccountNotFound()
    period = month_start(state.clock.today())
    found = await ReadingsRepository(session, account.id).meters_with_history(period)
    histories = _histories(found, period)
    return LookupResponse(
        account_number=account.number,
        window=reading_window(state.settings, state.clock.today()),
        meters=[
            PublicMeterOut(
                meter_id=meter.id,
                service=meter.service.code,
                service_name=meter.service.name,
                unit=meter.service.unit,
                serial_masked=_masked(meter.serial_number),
                integer_digits=meter.integer_digits,
                decimals=meter.decimals,
                previous_required=histories[meter.id].previous is not None,
            )
            for meter in (item.meter for item in found)
        ],
    )


async def _previous_readings_match(
    session: AsyncSession, account_id: int, typed: dict[int, Decimal], period: dt.date
) -> bool:
    """Every meter with a history is given and matches its last accepted reading (no extra meters).

    The last accepted reading of an earlier period is what the receipt prints; a reading already
    submitted this month is accepted too, since that is the value the resident saw last.
    """
    found = await ReadingsRepository(session, account_id).meters_with_history(period)
    meter_ids = {meter.meter.id for meter in found}
    histories = _histories(found, period)
    required = {meter_id for meter_id in meter_ids if histories.get(meter_id, MeterHistory()).previous}
    if not required or not required <= typed.keys() or not typed.keys() <= meter_ids:
        return False
    for meter_id, value in typed.items():
        history = histories.get(meter_id, MeterHistory())
        known = [reading.value for reading in (history.previous, history.current) if reading is not None]
        if not any(Decimal(stored) == value for stored in known):
            return False
    return True


async def check_previous_readings(
    state: PortalState, session: AsyncSession, request: CheckRequest, client: str
) -> ReadingsAccessGranted:
    """Prove the account by its previous readings (throttled, uniform failure) and open a readings token."""
    _ensure_distinct([entry.meter_id for entry in request.previous_readings], "previous_readings")
    typed: dict[int, Decimal] = {}
    for entry in request.previous_readings:
        value = _parse_any(entry.value)
        if value is None:
            raise InvalidPreviousReading()
        typed[entry.meter_id] = value

    now = state.clock.now()
    number = request.account_number.strip()
    reservation = await state.throttle.reserve(session, Scope.READINGS_CHECK, number, client, now)
    account = await AccountsRepository(session).account_by_number(number)
    period = month_start(state.clock.today())
    # An unknown account runs the same queries (on an id no account has): similar timing, same answer.
    matched = await _previous_readings_match(session, account.id if account else 0, typed, period)
    if account is None or not matched:
        raise PreviousReadingsMismatch()  # the attempt was counted by the reservation
    await state.throttle.succeeded(session, reservation)
    token, principal = await open_token(state, session, TokenKind.READINGS, account.id, account.number, None)
    overview = await meters_overview(state, session, principal)
    return ReadingsAccessGranted(
        token=token,
        expires_at=principal.expires_at,
        account_number=overview.account_number,
        window=overview.window,
        meters=overview.meters,
    )
