"""The terminal app's API client against the embedded demo portal: typed answers, typed errors, retries."""

from __future__ import annotations

import datetime as dt
import shutil
import ssl
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from hosting.embedded import EmbeddedPortal
from tui.client import PortalClient, app_version, new_idempotency_key, tls_context
from tui.errors import (
    Conflict,
    LoginFailed,
    NotFound,
    PortalError,
    PortalUnavailable,
    SessionExpired,
    TooManyAttempts,
    ValidationFailed,
)
from tui.formatting import Money
from tui.i18n import Translator
from tui.models import (
    Meter,
    PaymentChannel,
    PaymentPurpose,
    ReadingEntry,
    ReadingSource,
    ReadingStatus,
    ResultStatus,
)

UNKNOWN_ACCOUNT = "9999999999"


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture
async def embedded(seeded_data_dir: Path, tmp_path: Path) -> AsyncIterator[EmbeddedPortal]:
    """A running embedded portal on a fresh copy of the seeded data (the second-run path)."""
    data_dir = tmp_path / "embedded"
    shutil.copytree(seeded_data_dir, data_dir)
    async with EmbeddedPortal(data_dir=data_dir) as portal:
        yield portal


@pytest.fixture
async def client(embedded: EmbeddedPortal) -> AsyncIterator[PortalClient]:
    async with PortalClient(transport=embedded.transport, retry_backoff=0) as portal_client:
        yield portal_client


@pytest.fixture
async def logged_in(client: PortalClient, embedded: EmbeddedPortal) -> PortalClient:
    await client.login(*embedded.demo_account())
    return client


class FlakyTransport(httpx.AsyncBaseTransport):
    """Fails the first ``failures`` requests with ``error`` (before or after the portal saw them)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        failures: int,
        error: Callable[[httpx.Request], Exception] = lambda r: httpx.ConnectError("refused", request=r),
        *,
        after_sending: bool = False,
    ) -> None:
        self.inner = inner
        self.failures = failures
        self.error = error
        self.after_sending = after_sending
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) > self.failures:
            return await self.inner.handle_async_request(request)
        if self.after_sending:
            # The portal handles the request, but the answer is lost on the way back.
            response = await self.inner.handle_async_request(request)
            await response.aread()
        raise self.error(request)


def _first_meter(meters: tuple[Meter, ...]) -> Meter:
    return next(m for m in meters if m.accepts_readings and m.previous_reading is not None)


def _next_value(meter: Meter, step: str = "1.5") -> Decimal:
    assert meter.previous_reading is not None
    return (meter.previous_reading.value + Decimal(step)).quantize(Decimal(1).scaleb(-meter.decimals))


# --- login and session ---------------------------------------------------------------------------------


async def test_login_keeps_the_session(client: PortalClient, embedded: EmbeddedPortal) -> None:
    number, password = embedded.demo_account()
    session = await client.login(number, password)
    assert session.account_number == number
    assert session.expires_at > dt.datetime.now(dt.UTC)
    assert session.idle_timeout_seconds > 0
    assert client.is_logged_in and client.session == session
    assert (await client.session_info()).account_number == number


async def test_wrong_password_is_login_failed_in_russian(
    client: PortalClient, embedded: EmbeddedPortal
) -> None:
    number, _ = embedded.demo_account()
    with pytest.raises(LoginFailed) as caught:
        await client.login(number, "not-the-password")
    assert caught.value.status == 401
    assert caught.value.code == "login_failed"
    assert str(caught.value) == "Неверный номер лицевого счета или пароль."
    assert caught.value.describe(Translator("en")) == Translator("en")("error.login_failed")
    assert not client.is_logged_in


async def test_repeated_failures_are_throttled(client: PortalClient, embedded: EmbeddedPortal) -> None:
    number, _ = embedded.demo_account()
    with pytest.raises(TooManyAttempts) as caught:
        for _ in range(10):
            with pytest.raises(LoginFailed):
                await client.login(number, "wrong-password")
    assert caught.value.status == 429
    assert caught.value.retry_after > 0


async def test_logout_forgets_the_session(logged_in: PortalClient) -> None:
    assert await logged_in.logout() is True
    assert not logged_in.is_logged_in and logged_in.session is None
    with pytest.raises(SessionExpired) as caught:
        await logged_in.account_summary()
    assert caught.value.status == 401


async def test_a_dead_token_is_session_expired_and_forgotten(logged_in: PortalClient) -> None:
    token = logged_in._session_token
    await logged_in.logout()
    logged_in._session_token = token  # as if the session had ended on the portal while the app slept
    with pytest.raises(SessionExpired) as caught:
        await logged_in.meters()
    assert caught.value.code in {"session_expired", "not_authenticated"}
    assert not logged_in.is_logged_in


async def test_logout_forgets_the_token_even_without_the_portal(embedded: EmbeddedPortal) -> None:
    flaky = FlakyTransport(embedded.transport, failures=0)
    async with PortalClient(transport=flaky, retry_backoff=0) as client:
        await client.login(*embedded.demo_account())
        flaky.failures, flaky.requests = 1, []
        assert await client.logout() is False
        assert not client.is_logged_in


async def test_forget_wipes_both_tokens(logged_in: PortalClient) -> None:
    logged_in.forget()
    assert not logged_in.is_logged_in and not logged_in.has_readings_access


# --- the resident's data -------------------------------------------------------------------------------


async def test_summary_is_typed(logged_in: PortalClient) -> None:
    summary = await logged_in.account_summary()
    assert logged_in.session is not None
    assert summary.account_number == logged_in.session.account_number
    assert "кв. 7" in summary.address
    assert isinstance(summary.area_m2, Decimal) and summary.area_m2 > 0
    assert summary.residents >= 1
    assert isinstance(summary.debt, Money) and isinstance(summary.amount_due, Money)
    breakdown = summary.amount_due_breakdown
    assert isinstance(breakdown.period, dt.date) and breakdown.period.day == 1
    assert breakdown.lines and all(isinstance(line.charged, Money) for line in breakdown.lines)
    assert (
        sum((line.total for line in breakdown.lines), Money(0)) == breakdown.charged + breakdown.recalculation
    )
    assert summary.capital_repair is not None
    assert isinstance(summary.capital_repair.receipt_total, Money)
    assert summary.capital_repair.account_number != summary.account_number
    window = summary.reading_window
    assert isinstance(window.period, dt.date) and window.open and window.message
    assert summary.last_payment is not None
    assert isinstance(summary.last_payment.paid_on, dt.date)
    assert isinstance(summary.last_payment.channel, PaymentChannel)


async def test_receipts_are_typed(logged_in: PortalClient) -> None:
    receipts = await logged_in.receipts()
    assert receipts
    assert all(isinstance(r.period, dt.date) and isinstance(r.total, Money) for r in receipts)
    assert receipts[0].capital_repair > Money(0)


async def test_meters_are_typed(logged_in: PortalClient) -> None:
    overview = await logged_in.meters()
    assert overview.window.open
    meter = _first_meter(overview.meters)
    assert meter.integer_digits > 0 and meter.decimals >= 0 and meter.value_format
    assert isinstance(meter.next_verification_on, dt.date)
    assert meter.previous_reading is not None
    assert isinstance(meter.previous_reading.value, Decimal)
    assert meter.previous_reading.submitted_at.tzinfo is not None


# --- readings ------------------------------------------------------------------------------------------


async def test_submitted_reading_is_accepted_and_a_repeat_is_replayed(logged_in: PortalClient) -> None:
    meter = _first_meter((await logged_in.meters()).meters)
    value = _next_value(meter)
    key = new_idempotency_key()
    entries = [ReadingEntry(meter.meter_id, value)]

    first = await logged_in.submit_readings(entries, idempotency_key=key)
    assert first.idempotency_key == key and not first.replayed
    result = first.result_for(meter.meter_id)
    assert result is not None and result.status is ResultStatus.ACCEPTED and result.stored
    assert result.consumption == Decimal("1.5")
    assert result.reading is not None and result.reading.value == value

    again = await logged_in.submit_readings(entries, idempotency_key=key)
    assert again.replayed and again.results == first.results

    today = dt.date.today()
    history = await logged_in.reading_history(today - dt.timedelta(days=40), today, meter_id=meter.meter_id)
    this_period = [row for row in history.readings if row.period == first.period]
    assert [row.value for row in this_period] == [value]


async def test_a_lost_answer_is_retried_once_with_the_same_key(embedded: EmbeddedPortal) -> None:
    flaky = FlakyTransport(embedded.transport, failures=0, after_sending=True)
    async with PortalClient(transport=flaky, retry_backoff=0) as client:
        await client.login(*embedded.demo_account())
        meter = _first_meter((await client.meters()).meters)
        flaky.failures, flaky.requests = 1, []
        result = await client.submit_readings([ReadingEntry(meter.meter_id, _next_value(meter))])
    assert [r.method for r in flaky.requests] == ["POST", "POST"]
    keys = {r.headers["Idempotency-Key"] for r in flaky.requests}
    assert keys == {result.idempotency_key}
    assert result.replayed  # the portal had stored the first one: nothing stored twice


async def test_submission_gives_up_after_one_retry_and_names_its_key(embedded: EmbeddedPortal) -> None:
    flaky = FlakyTransport(embedded.transport, failures=0)
    async with PortalClient(transport=flaky, retry_backoff=0) as client:
        await client.login(*embedded.demo_account())
        flaky.failures, flaky.requests = 5, []
        with pytest.raises(PortalUnavailable) as caught:
            await client.submit_readings([ReadingEntry(1, "1")], idempotency_key="key-1")
    assert len(flaky.requests) == 2
    assert caught.value.idempotency_key == "key-1"


async def test_reading_below_previous_is_rejected_per_meter(logged_in: PortalClient) -> None:
    meter = _first_meter((await logged_in.meters()).meters)
    result = await logged_in.submit_readings([ReadingEntry(meter.meter_id, Decimal("0"))])
    (only,) = result.results
    assert only.status in {ResultStatus.REJECTED, ResultStatus.NEEDS_CONFIRMATION}
    assert not only.stored and only.message


async def test_readings_without_login(embedded: EmbeddedPortal, logged_in: PortalClient) -> None:
    number, _ = embedded.demo_account()
    known = (await logged_in.meters()).meters
    previous = {m.meter_id: m.previous_reading.value for m in known if m.previous_reading is not None}

    async with PortalClient(transport=embedded.transport, retry_backoff=0) as anonymous:
        lookup = await anonymous.public_lookup(number)
        assert {m.meter_id for m in lookup.meters} == {m.meter_id for m in known}
        assert all("*" in m.serial_masked for m in lookup.meters)

        with pytest.raises(Conflict) as caught:
            await anonymous.public_check(number, {meter_id: "1" for meter_id in previous})
        assert caught.value.code == "previous_readings_mismatch"
        assert not anonymous.has_readings_access

        access = await anonymous.public_check(number, previous)
        assert anonymous.has_readings_access and not anonymous.is_logged_in
        assert access.expires_at > dt.datetime.now(dt.UTC)
        overview = await anonymous.public_meters()
        meter = _first_meter(overview.meters)
        submitted = await anonymous.public_submit([ReadingEntry(meter.meter_id, _next_value(meter, "2"))])
        assert submitted.source is ReadingSource.WITHOUT_LOGIN
        assert submitted.results[0].stored


async def test_public_lookup_of_an_unknown_account_is_not_found(client: PortalClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.public_lookup(UNKNOWN_ACCOUNT)
    assert caught.value.code == "account_not_found"


# --- histories -----------------------------------------------------------------------------------------


async def test_histories_are_typed(logged_in: PortalClient) -> None:
    today = dt.date.today()
    since = today - dt.timedelta(days=365)

    readings = await logged_in.reading_history(since, today)
    assert readings.date_from == since and readings.readings
    row = readings.readings[0]
    assert isinstance(row.period, dt.date) and isinstance(row.value, Decimal)
    assert isinstance(row.submitted_at, dt.datetime) and isinstance(row.status, ReadingStatus)
    assert any(isinstance(r.consumption, Decimal) for r in readings.readings)

    payments = await logged_in.payment_history(since, today)
    assert payments.payments and payments.months
    assert isinstance(payments.payments[0].amount, Money)
    assert payments.totals.total == payments.totals.utilities + payments.totals.capital_repair
    assert sum((p.amount for p in payments.payments), Money(0)) == payments.totals.total

    statement = await logged_in.statement(since, today, PaymentPurpose.CAPITAL_REPAIR)
    assert statement.purpose is PaymentPurpose.CAPITAL_REPAIR and statement.months
    month = statement.months[0]
    assert month.closing == month.opening + month.charged + month.recalculation - month.paid


async def test_a_reversed_period_is_a_validation_error(logged_in: PortalClient) -> None:
    today = dt.date.today()
    with pytest.raises(ValidationFailed) as caught:
        await logged_in.payment_history(today, today - dt.timedelta(days=1))
    assert caught.value.status == 422


# --- registration and recovery -------------------------------------------------------------------------


async def test_registration_lookup(client: PortalClient) -> None:
    found = await client.registration_lookup("3500012012")
    assert found.found and found.account_number == "3500012012" and "*" in found.masked_address
    with pytest.raises(NotFound) as caught:
        await client.registration_lookup(UNKNOWN_ACCOUNT)
    assert caught.value.status == 404 and caught.value.message


async def test_registration_with_a_wrong_total_is_refused(client: PortalClient) -> None:
    email = "new@example.ru"
    with pytest.raises(Conflict) as caught:
        await client.register("3500012012", Money(102312), email, email, accept_terms=True)
    assert caught.value.code == "registration_data_mismatch"


async def test_a_malformed_field_is_validation_failed_naming_the_field(client: PortalClient) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await client.registration_lookup("12ab")
    assert caught.value.field == "account_number"
    assert caught.value.code == "invalid_account_number"
    assert "Лицевой счет" in caught.value.message

    with pytest.raises(ValidationFailed) as generic:
        await client.login("12ab", "password")
    assert generic.value.code == "validation_error" and generic.value.field == "account_number"
    assert generic.value.details and generic.value.details[0]["loc"][-1] == "account_number"


async def test_recovery_letter_lands_in_the_outbox(client: PortalClient, embedded: EmbeddedPortal) -> None:
    from portal.mail.mailer import read_outbox

    number, _ = embedded.demo_account()
    requested = await client.request_recovery(number, "kv7@demo.kabinet.local")
    assert requested.message
    assert read_outbox(embedded.outbox_dir)
    with pytest.raises(Conflict):
        await client.confirm_recovery(number, "000000", "Another-Pass-2026", "Another-Pass-2026")


# --- failures of the connection ------------------------------------------------------------------------


async def test_a_closed_port_is_portal_unavailable() -> None:
    async with PortalClient("http://127.0.0.1:1", retry_backoff=0) as client:
        with pytest.raises(PortalUnavailable) as caught:
            await client.health()
    assert caught.value.reason == "portal_unreachable"
    assert isinstance(caught.value.cause, httpx.ConnectError)
    assert caught.value.status == 0
    assert caught.value.describe(Translator("ru")).startswith("Портал не отвечает")


@pytest.mark.parametrize(("failures", "succeeds"), [(1, True), (2, True), (3, False)])
async def test_get_is_retried_twice(embedded: EmbeddedPortal, failures: int, succeeds: bool) -> None:
    flaky = FlakyTransport(embedded.transport, failures=failures)
    async with PortalClient(transport=flaky, retry_backoff=0) as client:
        if succeeds:
            assert (await client.health()).status == "ok"
        else:
            with pytest.raises(PortalUnavailable):
                await client.health()
    assert len(flaky.requests) == min(failures + 1, 3)


async def test_login_is_never_retried(embedded: EmbeddedPortal) -> None:
    flaky = FlakyTransport(embedded.transport, failures=1, after_sending=True)
    async with PortalClient(transport=flaky, retry_backoff=0) as client:
        with pytest.raises(PortalUnavailable):
            await client.login(*embedded.demo_account())
        assert not client.is_logged_in
    assert len(flaky.requests) == 1


async def test_a_read_timeout_is_not_retried(embedded: EmbeddedPortal) -> None:
    flaky = FlakyTransport(
        embedded.transport, failures=1, error=lambda r: httpx.ReadTimeout("slow", request=r)
    )
    async with PortalClient(transport=flaky, retry_backoff=0) as client:
        with pytest.raises(PortalUnavailable) as caught:
            await client.health()
    assert caught.value.reason == "timeout" and len(flaky.requests) == 1


async def test_server_errors_and_odd_answers() -> None:
    answers = {
        "/api/v1/health": httpx.Response(
            503, json={"code": "database_unavailable", "message": "БД недоступна."}
        ),
        "/api/v1/account": httpx.Response(200, text="<html>proxy login</html>"),
        "/api/v1/receipts": httpx.Response(200, json={"receipts": [{"period": "2026-10-01"}]}),
        "/api/v1/meters": httpx.Response(418, text="teapot"),
    }
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[request.url.path]

    async with PortalClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(PortalUnavailable) as unavailable:
            await client.health()
        assert unavailable.value.reason == "server_error" and unavailable.value.status == 503
        for call in (client.account_summary, client.receipts):
            with pytest.raises(PortalError) as odd:
                await call()
            assert odd.value.code == "unexpected_response"
        with pytest.raises(PortalError) as teapot:
            await client.meters()
        assert teapot.value.status == 418 and teapot.value.code == "http_error"
    assert len(seen) == 4  # a 5xx answer is not retried
    assert seen[0].headers["User-Agent"] == f"kabinet/{app_version()}"


RECEIPT = {"period": "2026-10", "total_kopecks": 102312, "capital_repair_kopecks": 34560}
READING_ROW = {
    "reading_id": 1,
    "meter_id": 2,
    "service_code": "cold_water",
    "service_name": "Холодное водоснабжение",
    "unit": "м³",
    "serial_number": "ХВ-1",
    "period": "2026-10",
    "value": "12.345",
    "consumption": None,
    "rollover": False,
    "submitted_at": "2026-10-20T10:00:00",
    "source": "resident",
    "status": "accepted",
}


async def test_answers_decode_to_exact_types() -> None:
    history = {"date_from": "2026-10-01", "date_to": "2026-10-31", "readings": [READING_ROW]}
    answers = {"/api/v1/receipts": {"receipts": [RECEIPT]}, "/api/v1/history/readings": history}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answers[request.url.path]))
    async with PortalClient(transport=transport) as client:
        (receipt,) = await client.receipts()
        (row,) = (await client.reading_history(dt.date(2026, 10, 1), dt.date(2026, 10, 31))).readings
    assert (receipt.period, receipt.total, receipt.capital_repair) == (
        dt.date(2026, 10, 1),
        Money(102312),
        Money(34560),
    )
    assert row.value == Decimal("12.345") and row.period == dt.date(2026, 10, 1)
    assert row.submitted_at == dt.datetime(2026, 10, 20, 10, tzinfo=dt.UTC)  # naive: taken as UTC


@pytest.mark.parametrize(
    ("receipt", "reading", "where"),
    [
        ({"period": "2026-10-01"}, {}, "receipts.0.period"),  # a month is not a day
        ({"period": "2026-13"}, {}, "receipts.0.period"),
        ({"total_kopecks": "102312"}, {}, "receipts.0.total_kopecks"),  # kopecks are a JSON integer
        ({"total_kopecks": 1023.12}, {}, "receipts.0.total_kopecks"),
        ({"total_kopecks": True}, {}, "receipts.0.total_kopecks"),
        ({"total": 102312, "total_kopecks": None}, {}, "receipts.0.total_kopecks"),
        ({}, {"value": 12.345}, "readings.0.value"),  # a decimal is a string, never a float
        ({}, {"value": "12,345"}, "readings.0.value"),
        ({}, {"meter_id": "2"}, "readings.0.meter_id"),
        ({}, {"status": "lost"}, "readings.0.status"),
        ({}, {"submitted_at": "вчера"}, "readings.0.submitted_at"),
    ],
)
async def test_an_answer_of_another_shape_is_a_typed_error_naming_the_field(
    receipt: dict[str, object], reading: dict[str, object], where: str
) -> None:
    history = {
        "date_from": "2026-10-01",
        "date_to": "2026-10-31",
        "readings": [{**READING_ROW, **reading}],
    }
    answers = {
        "/api/v1/receipts": {"receipts": [{**RECEIPT, **receipt}]},
        "/api/v1/history/readings": history,
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answers[request.url.path]))
    async with PortalClient(transport=transport) as client:
        with pytest.raises(PortalError) as caught:
            if receipt:
                await client.receipts()
            else:
                await client.reading_history(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert caught.value.code == "unexpected_response" and caught.value.status == 200
    assert where in caught.value.message


async def test_throttled_answer_carries_retry_after() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"code": "too_many_attempts", "message": "Слишком много неудачных попыток."}
        return httpx.Response(429, json=body, headers={"Retry-After": "42"})

    async with PortalClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(TooManyAttempts) as caught:
            await client.registration_lookup("3500012007")
    assert caught.value.retry_after == 42


async def test_a_client_needs_somewhere_to_go() -> None:
    with pytest.raises(ValueError):
        PortalClient()


# --- the embedded portal -------------------------------------------------------------------------------


async def test_embedded_portal_refuses_use_before_start(tmp_path: Path) -> None:
    portal = EmbeddedPortal(data_dir=tmp_path)
    assert not portal.running
    with pytest.raises(RuntimeError):
        _ = portal.transport
    number, password = portal.demo_account()
    assert number.isdigit() and password


# --- several accounts under one login ------------------------------------------------------------------


async def test_the_client_attaches_chooses_pays_all_and_detaches(
    logged_in: PortalClient, embedded: EmbeddedPortal
) -> None:
    from sqlalchemy import select

    from portal.billing.service import last_receipt_period, receipt_total
    from portal.demo.accounts import UNREGISTERED_DEBTOR_APARTMENT, account_number
    from portal.models import Account
    from tui.models import LoginAccounts, PayAllResult, PaymentProvider, PaymentPurpose

    other = account_number(UNREGISTERED_DEBTOR_APARTMENT)
    assert embedded._app is not None
    async with embedded._app.state.portal.sessionmaker() as session:
        account_id = await session.scalar(select(Account.id).where(Account.number == other))
        period = await last_receipt_period(session, account_id)
        assert period is not None
        total = await receipt_total(session, account_id, period)
    own = (await logged_in.accounts()).accounts[0]
    assert own.own and own.current

    with pytest.raises(Conflict) as caught:
        await logged_in.attach_account(other, Money(total + 1))
    assert caught.value.code == "attach_data_mismatch"
    attached = await logged_in.attach_account(other, Money(total))
    assert isinstance(attached, LoginAccounts)
    assert [a.account_number for a in attached.accounts] == [own.account_number, other]
    assert attached.accounts[1].amount_due > Money(0)
    assert attached.total_due == sum((a.amount_due for a in attached.accounts), Money(0))

    chosen = await logged_in.choose_account(other)
    assert chosen.current is not None and chosen.current.account_number == other
    assert (await logged_in.account_summary()).account_number == other
    assert logged_in.session is not None and logged_in.session.account_number == other
    with pytest.raises(NotFound) as not_attached:
        await logged_in.choose_account("3599999999")
    assert not_attached.value.code == "account_not_attached"

    key = new_idempotency_key()
    paid = await logged_in.pay_all(PaymentPurpose.UTILITIES, PaymentProvider.A3, key)
    assert isinstance(paid, PayAllResult)
    assert other in {p.account_number for p in paid.payments}
    assert paid.total == sum((p.order.amount for p in paid.payments), Money(0))
    again = await logged_in.pay_all(PaymentPurpose.UTILITIES, PaymentProvider.A3, key)
    assert [p.order.order_id for p in again.payments] == [p.order.order_id for p in paid.payments]
    assert all(p.replayed for p in again.payments)

    with pytest.raises(Conflict) as own_refused:
        await logged_in.detach_account(own.account_number)
    assert own_refused.value.code == "own_account_not_detachable"
    remaining = await logged_in.detach_account(other)
    assert [a.account_number for a in remaining.accounts] == [own.account_number]
    assert (await logged_in.account_summary()).account_number == own.account_number


def test_clients_load_the_tls_trust_store_once_and_still_verify(tmp_path: Path) -> None:
    """One trust store per process and per SSL_CERT_FILE / SSL_CERT_DIR (as httpx chooses it), not one per
    client; certificates and host names are still checked."""
    default = tls_context({})
    assert tls_context({}) is default
    assert tls_context({"SSL_CERT_DIR": str(tmp_path)}) is not default
    assert tls_context({"SSL_CERT_DIR": str(tmp_path)}) is tls_context({"SSL_CERT_DIR": str(tmp_path)})
    assert default.verify_mode == ssl.CERT_REQUIRED
    assert default.check_hostname
    assert default.cert_store_stats()["x509_ca"] > 0
