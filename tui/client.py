"""The portal's API as typed async methods: JSON in and out here, screens see only models and errors.

One :class:`PortalClient` per app run. It talks either to a deployed portal (``base_url``) or to the
embedded demo portal (``transport=EmbeddedPortal.transport``), keeps the session token of the logged-in
resident and, separately, the short-lived token of readings without login, and turns every failure
into a :mod:`tui.errors` exception.

Retries happen only where a repeat cannot do harm:

- ``GET`` requests are retried twice on a connection error (refused, reset, dropped, connect
  time-out), after 0.3 s and 0.6 s;
- readings submissions always carry an ``Idempotency-Key`` and are retried once on a connection error
  with the **same** key, so the portal stores them at most once (a repeat replays the first answer);
- every other ``POST`` (login, registration, recovery, the readings check) is never retried: a
  repeated login attempt would count twice against the throttle.

A read time-out is not retried (the portal may still be working on it): it is a
:class:`~tui.errors.PortalUnavailable` at once, and the resident decides to repeat.

The client does no blocking work, but each call awaits the network: screens call it from workers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import os
import ssl
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

import httpx
from pydantic import ValidationError

from tui.errors import (
    CAPTCHA_CODES,
    UNEXPECTED_RESPONSE,
    CaptchaRejected,
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
from tui.models import (
    JSON,
    AccountSummary,
    CapitalRepairLookup,
    Captcha,
    CaptchaPurpose,
    EmailChanged,
    Health,
    LoginAccounts,
    MailSubscriptions,
    MetersOverview,
    PayAllResult,
    PaymentCodes,
    PaymentHistory,
    PaymentOrder,
    PaymentProvider,
    PaymentPurpose,
    Profile,
    PublicLookup,
    ReadingEntry,
    ReadingHistory,
    ReadingsAccess,
    ReceiptList,
    ReceiptMailed,
    ReceiptMonth,
    RecoveryRequested,
    RegistrationAccepted,
    RegistrationLookup,
    SandboxAction,
    Session,
    Statement,
    SubmitResult,
    decimal_text,
)
from tui.wire import decode

API_PREFIX: Final = "/api/v1"

EMBEDDED_BASE_URL: Final = "http://kabinet.embedded"
"""The base URL used with a transport and no ``base_url`` (the host is never resolved)."""

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
"""Connect within 5 s; every read (and write, and wait for a pooled connection) within 30 s."""

GET_RETRIES: Final = 2
SUBMIT_RETRIES: Final = 1
RETRY_BACKOFF_SECONDS: Final = 0.3
"""The first pause before a retry; each next one doubles."""

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
DEFAULT_RETRY_AFTER_SECONDS: Final = 60
"""Used when a 429 answer lacks a readable ``Retry-After``."""

# Errors after which the request surely or probably never reached the portal's logic, or the
# connection broke: safe to repeat for GETs and keyed submissions. Read/write/pool time-outs are not
# here: the portal may still be processing, and waiting 30 s more twice over helps nobody.
_RETRYABLE: Final = (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ConnectTimeout)

_T = TypeVar("_T")

TokenKind = Literal["session", "readings", "readings_or_session"]


def new_idempotency_key() -> str:
    """A fresh key for one readings submission (a random UUID).

    Make one when the resident presses «Отправить» and keep it while repeating the same submission
    after a lost answer (:class:`~tui.errors.PortalUnavailable`); make a new one when the values change.
    """
    return str(uuid.uuid4())


def app_version() -> str:
    """The installed version of Kabinet (``0.0.0`` when run from a tree that was never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kabinet")
    except PackageNotFoundError:
        return "0.0.0"


def tls_context(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The TLS context of the portal's clients: the trust store httpx itself would load (``SSL_CERT_FILE``,
    else ``SSL_CERT_DIR``, else certifi's), loaded once per process and store instead of once per client.

    Loading a store takes about 1 MiB; the fork server (:mod:`hosting.forkserver`) loads it before it
    forks, so the sessions forked from it share one instead of each loading its own.
    """
    env = os.environ if environ is None else environ
    cafile = env.get("SSL_CERT_FILE") or None
    return _tls_context(cafile, None if cafile else env.get("SSL_CERT_DIR") or None)


@functools.cache
def _tls_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    if capath:
        return ssl.create_default_context(capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _iso(day: dt.date) -> str:
    return day.isoformat()


class PortalClient:
    """Typed async access to every endpoint of the portal API.

    Give ``base_url`` (``https://lk.example.ru``, the portal's root) for a deployed portal, or
    ``transport`` for the embedded one (:attr:`hosting.embedded.EmbeddedPortal.transport`); both may be
    given (tests do). Use as ``async with PortalClient(...) as client:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry_backoff: float = RETRY_BACKOFF_SECONDS,
        user_agent: str | None = None,
    ) -> None:
        if base_url is None and transport is None:
            raise ValueError("PortalClient needs a base_url or a transport")
        self._http = httpx.AsyncClient(
            base_url=(base_url or EMBEDDED_BASE_URL).rstrip("/"),
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": user_agent or f"kabinet/{app_version()}", "Accept": "application/json"},
            follow_redirects=False,
            verify=tls_context(),
        )
        self._retry_backoff = retry_backoff
        self._session_token: str | None = None
        self._readings_token: str | None = None
        self._session: Session | None = None

    # --- lifetime and state -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Forget the tokens and close the connections."""
        self.forget()
        await self._http.aclose()

    def forget(self) -> str | None:
        """Wipe both tokens from memory (no request: use :meth:`logout` to end the session on the portal).

        Returns the session token it held, for :meth:`logout_token`.
        """
        token = self._session_token
        self._session_token = None
        self._readings_token = None
        self._session = None
        return token

    async def logout_token(self, token: str) -> bool:
        """End a session this client no longer holds (see :meth:`forget`); False: the portal was not told."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            await self._request("POST", "/auth/logout", retries=0, headers=headers)
        except PortalError:
            return False
        return True

    def forget_readings_access(self) -> None:
        """Wipe the token of readings without login (the resident left that screen)."""
        self._readings_token = None

    @property
    def is_logged_in(self) -> bool:
        """A session token is held (it may have expired on the portal meanwhile)."""
        return self._session_token is not None

    @property
    def has_readings_access(self) -> bool:
        """A readings-without-login token is held (from :meth:`public_check`)."""
        return self._readings_token is not None

    @property
    def session(self) -> Session | None:
        """The session of the last :meth:`login` (or :meth:`session_info`), while a token is held."""
        return self._session

    # --- health, registration, login -----------------------------------------------------------------

    async def health(self) -> Health:
        """``GET /health``; a portal whose database is down answers 503: :class:`PortalUnavailable`."""
        return await self._get(Health, "/health")

    async def registration_lookup(self, account_number: str) -> RegistrationLookup:
        """Registration step 1: Raises :class:`NotFound` (``account_not_found``), ValidationFailed."""
        response = await self._post("/registration/lookup", {"account_number": account_number})
        return _decode(RegistrationLookup, response)

    async def register(
        self,
        account_number: str,
        receipt_total: Money,
        email: str,
        email_repeat: str,
        *,
        accept_terms: bool,
    ) -> RegistrationAccepted:
        """Registration step 2: the password is mailed. ``receipt_total`` without capital repair.

        Raises :class:`Conflict` (``registration_data_mismatch``…), :class:`ValidationFailed`,
        :class:`TooManyAttempts`.
        """
        response = await self._post(
            "/registration",
            {
                "account_number": account_number,
                "receipt_total_kopecks": receipt_total.kopecks,
                "email": email,
                "email_repeat": email_repeat,
                "accept_terms": accept_terms,
            },
        )
        return _decode(RegistrationAccepted, response)

    async def login(self, account_number: str, password: str) -> Session:
        """Log in and keep the session token. Raises :class:`LoginFailed`, :class:`TooManyAttempts`."""
        response = await self._post("/auth/login", {"account_number": account_number, "password": password})
        session = _decode(Session, response)
        token = _json_object(response).get("token")
        if not isinstance(token, str) or not token:
            raise _unexpected(200, "the login answer has no token")
        self._session_token = token
        self._session = session
        return session

    async def logout(self) -> bool:
        """End the session on the portal and forget the token, whatever happens.

        Returns True when the portal confirmed (or there was no session), False when it could not
        be told (no connection, already expired): the token is forgotten all the same, and the
        session ends on the portal by itself.
        """
        if self._session_token is None:
            return True
        try:
            await self._request("POST", "/auth/logout", auth="session", retries=0)
        except PortalError:
            return False
        finally:
            self._session_token = None
            self._session = None
        return True

    async def session_info(self) -> Session:
        """The current session (also keeps it alive). Raises :class:`SessionExpired`."""
        session = await self._get(Session, "/auth/session", auth="session")
        self._session = session
        return session

    async def request_recovery(self, account_number: str, email: str) -> RecoveryRequested:
        """Ask for a recovery code by e-mail. Raises :class:`ValidationFailed`, :class:`TooManyAttempts`."""
        response = await self._post("/auth/recovery", {"account_number": account_number, "email": email})
        return _decode(RecoveryRequested, response)

    async def confirm_recovery(
        self, account_number: str, code: str, new_password: str, new_password_repeat: str
    ) -> None:
        """Set a new password with the code from the letter.

        Raises :class:`Conflict` (``recovery_code_invalid``), :class:`ValidationFailed`
        (``weak_password``, ``passwords_differ``), :class:`TooManyAttempts`.
        """
        await self._post(
            "/auth/recovery/confirm",
            {
                "account_number": account_number,
                "code": code,
                "new_password": new_password,
                "new_password_repeat": new_password_repeat,
            },
        )

    # --- the logged-in resident ----------------------------------------------------------------------

    async def account_summary(self) -> AccountSummary:
        """The home screen's data. Raises :class:`SessionExpired`."""
        return await self._get(AccountSummary, "/account", auth="session")

    async def receipts(self) -> tuple[ReceiptMonth, ...]:
        """The months with a receipt. Raises :class:`SessionExpired`."""
        return (await self._get(ReceiptList, "/receipts", auth="session")).receipts

    async def meters(self) -> MetersOverview:
        """The account's meters and the reading window. Raises :class:`SessionExpired`."""
        return await self._get(MetersOverview, "/meters", auth="session")

    async def submit_readings(
        self, entries: Sequence[ReadingEntry], idempotency_key: str | None = None
    ) -> SubmitResult:
        """Send new readings; each meter gets its own result (accepted, rejected, needs confirmation).

        See :func:`new_idempotency_key` for the key. Raises :class:`Conflict`
        (``reading_window_closed``, ``request_in_progress``, ``readings_conflict``),
        :class:`ValidationFailed` (``duplicate_meter``, ``idempotency_key_reused``),
        :class:`SessionExpired`, :class:`PortalUnavailable` — each carrying ``idempotency_key``.
        """
        return await self._submit("/readings", entries, idempotency_key, auth="session")

    # --- readings without login ----------------------------------------------------------------------

    async def public_lookup(self, account_number: str) -> PublicLookup:
        """Step 1: the account's meters, masked. Raises :class:`NotFound`, :class:`ValidationFailed`."""
        response = await self._post("/public/readings/lookup", {"account_number": account_number})
        return _decode(PublicLookup, response)

    async def public_check(
        self, account_number: str, previous_readings: Mapping[int, Decimal | str]
    ) -> ReadingsAccess:
        """Step 2: prove the account with each meter's previous reading; keeps the readings token.

        ``previous_readings`` maps ``meter_id`` to the value as on the receipt. Raises
        :class:`Conflict` (``previous_readings_mismatch``: never says which meter),
        :class:`TooManyAttempts`, :class:`ValidationFailed`.
        """
        response = await self._post(
            "/public/readings/check",
            {
                "account_number": account_number,
                "previous_readings": [
                    {"meter_id": meter_id, "value": decimal_text(value)}
                    for meter_id, value in previous_readings.items()
                ],
            },
        )
        access = _decode(ReadingsAccess, response)
        token = _json_object(response).get("token")
        if not isinstance(token, str) or not token:
            raise _unexpected(200, "the readings check answer has no token")
        self._readings_token = token
        return access

    async def public_meters(self) -> MetersOverview:
        """The meters with their readings, after :meth:`public_check`. Raises :class:`SessionExpired`."""
        return await self._get(MetersOverview, "/public/meters", auth="readings_or_session")

    async def public_submit(
        self, entries: Sequence[ReadingEntry], idempotency_key: str | None = None
    ) -> SubmitResult:
        """Send readings without login (after :meth:`public_check`); as :meth:`submit_readings`."""
        return await self._submit("/public/readings", entries, idempotency_key, auth="readings_or_session")

    # --- histories -----------------------------------------------------------------------------------

    async def reading_history(
        self, date_from: dt.date, date_to: dt.date, meter_id: int | None = None
    ) -> ReadingHistory:
        """Readings submitted between the dates (inclusive), of one meter or all.

        Raises :class:`ValidationFailed` (``invalid_period``, ``period_too_long``,
        ``date_out_of_range``), :class:`SessionExpired`.
        """
        params: dict[str, str | int] = {"date_from": _iso(date_from), "date_to": _iso(date_to)}
        if meter_id is not None:
            params["meter_id"] = meter_id
        return await self._get(ReadingHistory, "/history/readings", auth="session", params=params)

    async def payment_history(self, date_from: dt.date, date_to: dt.date) -> PaymentHistory:
        """Payments between the dates (inclusive), with monthly totals. Errors as :meth:`reading_history`."""
        params = {"date_from": _iso(date_from), "date_to": _iso(date_to)}
        return await self._get(PaymentHistory, "/history/payments", auth="session", params=params)

    async def statement(
        self,
        date_from: dt.date,
        date_to: dt.date,
        purpose: PaymentPurpose = PaymentPurpose.UTILITIES,
    ) -> Statement:
        """The statement by month for one payee. Errors as :meth:`reading_history`."""
        params = {"date_from": _iso(date_from), "date_to": _iso(date_to), "purpose": purpose.value}
        return await self._get(Statement, "/history/statement", auth="session", params=params)

    # --- the receipt's PDF and letter, captcha images, the profile ------------------------------------

    async def receipt_pdf(self, period: dt.date) -> bytes:
        """The month's receipt, the bytes of a one-page PDF. Raises :class:`NotFound`, SessionExpired."""
        response = await self._request(
            "GET", f"/receipts/{period:%Y-%m}", auth="session", retries=GET_RETRIES
        )
        if not response.content.startswith(b"%PDF-"):
            raise _unexpected(response.status_code, "the receipt is not a PDF")
        return response.content

    async def email_receipt(self, period: dt.date) -> ReceiptMailed:
        """«Отправить на e-mail»: the portal mails the month's PDF to the registered address.

        Raises :class:`NotFound`, :class:`TooManyAttempts` (a few letters in a row, then a pause),
        :class:`SessionExpired`. Never retried: a repeat would send a second letter.
        """
        response = await self._request("POST", f"/receipts/{period:%Y-%m}/email", auth="session", retries=0)
        return _decode(ReceiptMailed, response)

    async def captcha(self, purpose: CaptchaPurpose) -> Captcha:
        """A new captcha image for one profile change (the previous one of that purpose dies)."""
        response = await self._request(
            "POST", "/captcha", json={"purpose": purpose.value}, auth="session", retries=0
        )
        return _decode(Captcha, response)

    async def profile(self) -> Profile:
        """The account number and the registered e-mail. Raises :class:`SessionExpired`."""
        return await self._get(Profile, "/profile", auth="session")

    async def mail_subscriptions(self) -> MailSubscriptions:
        """Which letters the resident gets by e-mail. Raises :class:`SessionExpired`."""
        return await self._get(MailSubscriptions, "/profile/notifications", auth="session")

    async def set_mail_subscriptions(self, *, receipt: bool, reminders: bool) -> MailSubscriptions:
        """Turn the monthly receipt and the reading reminders on or off (both said; a repeat is harmless)."""
        response = await self._request(
            "PUT",
            "/profile/notifications",
            json={"receipt": receipt, "reminders": reminders},
            auth="session",
            retries=2,  # a PUT of the whole choice: repeating it changes nothing
        )
        return _decode(MailSubscriptions, response)

    async def change_email(
        self,
        current_password: str,
        new_email: str,
        new_email_repeat: str,
        captcha_id: str,
        captcha_answer: str,
    ) -> EmailChanged:
        """Change the registered e-mail (the old address is told).

        Raises :class:`ValidationFailed` (``invalid_email``, ``emails_differ``), :class:`Conflict`
        (``current_password_wrong``), :class:`CaptchaRejected` (fetch a new image),
        :class:`TooManyAttempts`.
        """
        payload = {
            "current_password": current_password,
            "new_email": new_email,
            "new_email_repeat": new_email_repeat,
            "captcha_id": captcha_id,
            "captcha_answer": captcha_answer,
        }
        response = await self._request("POST", "/profile/email", json=payload, auth="session", retries=0)
        return _decode(EmailChanged, response)

    async def change_password(
        self,
        current_password: str,
        new_password: str,
        new_password_repeat: str,
        captcha_id: str,
        captcha_answer: str,
    ) -> None:
        """Change the password; the portal ends every other session (this one stays).

        Raises :class:`ValidationFailed` (``weak_password``, ``passwords_differ``), :class:`Conflict`
        (``current_password_wrong``, ``password_unchanged``), :class:`CaptchaRejected`,
        :class:`TooManyAttempts`.
        """
        payload = {
            "current_password": current_password,
            "new_password": new_password,
            "new_password_repeat": new_password_repeat,
            "captcha_id": captcha_id,
            "captcha_answer": captcha_answer,
        }
        await self._request("POST", "/profile/password", json=payload, auth="session", retries=0)

    # --- payments (A3, PayMO, the capital repair contribution) ----------------------------------------

    async def create_payment(
        self,
        purpose: PaymentPurpose,
        amount: Money,
        provider: PaymentProvider,
        idempotency_key: str | None = None,
    ) -> PaymentOrder:
        """Start a payment of the logged-in resident's account; go to ``payment_url`` to pay.

        Keep the ``idempotency_key`` (see :func:`new_idempotency_key`) while repeating the same payment
        after a lost answer, so the portal starts it once; a retry on a connection error uses it too.
        Raises :class:`ValidationFailed` (``field`` ``amount``), :class:`Conflict`
        (``idempotency_key_reused``), :class:`SessionExpired`, :class:`PortalUnavailable` — each
        carrying ``idempotency_key``.
        """
        payload = {"purpose": purpose.value, "amount_kopecks": amount.kopecks, "provider": provider.value}
        response = await self._post_keyed("/payments", payload, idempotency_key, auth="session")
        return _decode(PaymentOrder, response)

    async def payment(self, order_id: str) -> PaymentOrder:
        """A payment of the logged-in resident, as it is now. Raises :class:`NotFound`, SessionExpired."""
        return await self._get(PaymentOrder, f"/payments/{_segment(order_id)}", auth="session")

    # --- several accounts under one login -------------------------------------------------------------

    async def accounts(self) -> LoginAccounts:
        """The login's accounts with their amounts due; ``current`` is the one this session works on."""
        return await self._get(LoginAccounts, "/accounts", auth="session")

    async def attach_account(self, account_number: str, receipt_total: Money) -> LoginAccounts:
        """Attach another account by its last receipt's total (without the capital repair contribution).

        Raises :class:`Conflict` (``attach_data_mismatch``: whatever did not match),
        :class:`ValidationFailed`,
        :class:`TooManyAttempts`, :class:`SessionExpired`.
        """
        payload = {"account_number": account_number, "receipt_total_kopecks": receipt_total.kopecks}
        response = await self._request("POST", "/accounts/attach", json=payload, auth="session", retries=0)
        return _decode(LoginAccounts, response)

    async def choose_account(self, account_number: str) -> LoginAccounts:
        """Make every other call of this session work on one of the login's accounts.

        Raises :class:`NotFound` (``account_not_attached``), :class:`SessionExpired`.
        """
        payload = {"account_number": account_number}
        response = await self._request("POST", "/accounts/current", json=payload, auth="session", retries=0)
        chosen = _decode(LoginAccounts, response)
        if self._session is not None and chosen.current is not None:
            self._session = dataclasses.replace(self._session, account_number=chosen.current.account_number)
        return chosen

    async def detach_account(self, account_number: str) -> LoginAccounts:
        """Detach an account from the login (not its own: :class:`Conflict` ``own_account_not_detachable``).

        If this session worked on it, it works on the login's own account from now.
        Raises :class:`NotFound` (``account_not_attached``), :class:`SessionExpired`.
        """
        response = await self._request(
            "DELETE", f"/accounts/{_segment(account_number)}", auth="session", retries=0
        )
        remaining = _decode(LoginAccounts, response)
        if self._session is not None and remaining.current is not None:
            self._session = dataclasses.replace(
                self._session, account_number=remaining.current.account_number
            )
        return remaining

    async def pay_all(
        self, purpose: PaymentPurpose, provider: PaymentProvider, idempotency_key: str | None = None
    ) -> PayAllResult:
        """Start one card payment per account with something due, for the amount due.

        The key as in :meth:`create_payment`: repeating with it answers the orders made before.
        Raises :class:`Conflict`, :class:`SessionExpired`, :class:`PortalUnavailable` — each carrying
        ``idempotency_key``.
        """
        payload = {"purpose": purpose.value, "provider": provider.value}
        response = await self._post_keyed("/accounts/payments", payload, idempotency_key, auth="session")
        return _decode(PayAllResult, response)

    async def account_payment(self, order_id: str) -> PaymentOrder:
        """A payment of any of the login's accounts (a pay-all order), as it is now.

        Raises :class:`NotFound` (another login's order), :class:`SessionExpired`.
        """
        return await self._get(PaymentOrder, f"/accounts/payments/{_segment(order_id)}", auth="session")

    async def public_capital_repair_lookup(self, capital_repair_account: str) -> CapitalRepairLookup:
        """«Оплата взноса ФКР» without login: the fund account's masked address and amount due.

        Raises :class:`NotFound` (``field`` ``capital_repair_account``), :class:`ValidationFailed`,
        :class:`TooManyAttempts`.
        """
        return await self._get(
            CapitalRepairLookup, f"/public/capital-repair/{_segment(capital_repair_account)}"
        )

    async def create_public_capital_repair_payment(
        self,
        capital_repair_account: str,
        amount: Money,
        provider: PaymentProvider,
        idempotency_key: str | None = None,
    ) -> PaymentOrder:
        """Start a capital repair payment without login; the key as in :meth:`create_payment`.

        Raises :class:`NotFound` (unknown fund account), :class:`ValidationFailed`,
        :class:`TooManyAttempts`, :class:`PortalUnavailable`.
        """
        payload = {
            "capital_repair_account": capital_repair_account,
            "amount_kopecks": amount.kopecks,
            "provider": provider.value,
        }
        response = await self._post_keyed(
            "/public/capital-repair/payments", payload, idempotency_key, auth=None
        )
        return _decode(PaymentOrder, response)

    async def public_payment(self, order_id: str) -> PaymentOrder:
        """A payment started without login, as it is now (its unguessable id is the only key)."""
        return await self._get(PaymentOrder, f"/public/payments/{_segment(order_id)}")

    async def sandbox_action(self, order: PaymentOrder, action: SandboxAction | str) -> None:
        """Press a button of the demo sandbox's payment page: ``pay``, ``decline`` or ``cancel``.

        What a browser on the hosted form would do (no login), through this client's own connection, so
        it works on the embedded portal offline. Only for ``order.sandbox``: a real provider's page is
        the resident's to use. Raises :class:`PortalError` subclasses as any request.
        """
        if not order.sandbox:
            raise ValueError("only the sandbox's payment page can be pressed by the app")
        chosen = SandboxAction(action)
        url = f"{order.payment_url.rstrip('/')}/{chosen.value}"
        try:
            response = await self._http.post(url, headers={"Accept": "text/html"})
        except httpx.TimeoutException as exc:
            raise PortalUnavailable("timeout", cause=exc) from exc
        except httpx.TransportError as exc:
            raise PortalUnavailable("portal_unreachable", cause=exc) from exc
        # The sandbox answers as a web form does: a page (200) or a redirect back to the shop (303).
        if not (response.is_success or response.is_redirect):
            raise _error_from(response)

    async def payment_codes(self, period: dt.date) -> PaymentCodes:
        """The ГОСТ payment QR texts of a month's receipt. Raises :class:`NotFound`, SessionExpired."""
        return await self._get(PaymentCodes, f"/receipts/{period:%Y-%m}/payment-codes", auth="session")

    # --- the machinery -------------------------------------------------------------------------------

    async def _get(
        self,
        model: type[_T],
        path: str,
        *,
        auth: TokenKind | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> _T:
        response = await self._request("GET", path, auth=auth, params=params, retries=GET_RETRIES)
        return _decode(model, response)

    async def _post(self, path: str, payload: Mapping[str, Any]) -> httpx.Response:
        return await self._request("POST", path, json=payload, retries=0)

    async def _submit(
        self,
        path: str,
        entries: Sequence[ReadingEntry],
        idempotency_key: str | None,
        *,
        auth: TokenKind,
    ) -> SubmitResult:
        key = idempotency_key or new_idempotency_key()
        payload = {"readings": [entry.to_json() for entry in entries]}
        try:
            response = await self._request(
                "POST",
                path,
                json=payload,
                auth=auth,
                headers={IDEMPOTENCY_HEADER: key},
                retries=SUBMIT_RETRIES,
            )
            replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
            result = _decode(SubmitResult, response)
            return dataclasses.replace(result, idempotency_key=key, replayed=replayed)
        except PortalError as error:
            error.idempotency_key = key
            raise

    async def _post_keyed(
        self, path: str, payload: Mapping[str, Any], idempotency_key: str | None, *, auth: TokenKind | None
    ) -> httpx.Response:
        """A ``POST`` with an ``Idempotency-Key``, retried once with the same key on a connection error."""
        key = idempotency_key or new_idempotency_key()
        try:
            response = await self._request(
                "POST",
                path,
                json=payload,
                auth=auth,
                headers={IDEMPOTENCY_HEADER: key},
                retries=SUBMIT_RETRIES,
            )
            return response
        except PortalError as error:
            error.idempotency_key = key
            raise

    def _token(self, auth: TokenKind | None) -> str | None:
        if auth == "session":
            return self._session_token
        if auth == "readings":
            return self._readings_token
        if auth == "readings_or_session":
            return self._readings_token or self._session_token
        return None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        retries: int,
        auth: TokenKind | None = None,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with up to ``retries`` repeats on a connection error; a 2xx answer or an exception."""
        token = self._token(auth)
        request_headers = dict(headers or {})
        if token is not None:
            request_headers["Authorization"] = f"Bearer {token}"
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    method, API_PREFIX + path, json=json, params=params, headers=request_headers
                )
                break
            except _RETRYABLE as exc:
                if attempt >= retries:
                    reason: Literal["timeout", "portal_unreachable"] = (
                        "timeout" if isinstance(exc, httpx.TimeoutException) else "portal_unreachable"
                    )
                    raise PortalUnavailable(reason, cause=exc) from exc
                await asyncio.sleep(self._retry_backoff * 2**attempt)
                attempt += 1
            except httpx.TimeoutException as exc:
                raise PortalUnavailable("timeout", cause=exc) from exc
            except httpx.TransportError as exc:
                raise PortalUnavailable("portal_unreachable", cause=exc) from exc
        if response.is_success:
            return response
        error = _error_from(response)
        if isinstance(error, SessionExpired) and token is not None:
            # The token is dead on the portal: holding on to it would only fail again.
            if token == self._session_token:
                self._session_token = None
                self._session = None
            if token == self._readings_token:
                self._readings_token = None
        raise error


def _json_object(response: httpx.Response) -> JSON:
    try:
        body = response.json()
    except ValueError as exc:
        raise _unexpected(response.status_code, "the answer is not JSON") from exc
    if not isinstance(body, dict):
        raise _unexpected(response.status_code, "the answer is not a JSON object")
    return body


def _segment(value: str) -> str:
    """``value`` as one path segment: nothing typed can reach another endpoint (``../``, ``?``, ``#``)."""
    from urllib.parse import quote

    return quote(value, safe="")


def _unexpected(status: int, why: str) -> PortalError:
    return PortalError(status, UNEXPECTED_RESPONSE, f"Портал прислал непонятный ответ ({why}).")


def _decode(model: type[_T], response: httpx.Response) -> _T:
    """The model of a 2xx answer; a body of another shape is a :class:`PortalError` too."""
    try:
        return decode(model, response.content)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the answer"
        raise _unexpected(response.status_code, f"{where}: {problem['msg']}") from exc


def _retry_after(response: httpx.Response) -> int:
    try:
        return max(0, int(response.headers.get("Retry-After", "")))
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS


def _error_from(response: httpx.Response) -> PortalError:
    """The exception of a non-2xx answer, by status and ``code``."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str):
        code: str = body["code"]
        message: str = body["message"]
        field = body.get("field") if isinstance(body.get("field"), str) else None
        if field is not None:
            # Money travels as ``amount_kopecks``; the app names the field as its models do (``amount``).
            field = field.removesuffix("_kopecks")
        details = body.get("details") if isinstance(body.get("details"), list) else None
    else:
        code, message, field, details = "http_error", f"Портал ответил ошибкой {status}.", None, None
    if status >= 500:
        portal_message = message if code != "http_error" else None
        return PortalUnavailable("server_error", status=status, message=portal_message)
    if status == 401:
        kind: type[PortalError] = LoginFailed if code == "login_failed" else SessionExpired
        return kind(status, code, message, field, details)
    if status == 429:
        return TooManyAttempts(status, code, message, field, details, retry_after=_retry_after(response))
    if status == 409 and code in CAPTCHA_CODES:
        return CaptchaRejected(status, code, message, field, details)
    kind = {404: NotFound, 409: Conflict, 422: ValidationFailed}.get(status, PortalError)
    return kind(status, code, message, field, details)


__all__ = [
    "API_PREFIX",
    "DEFAULT_TIMEOUT",
    "GET_RETRIES",
    "SUBMIT_RETRIES",
    "PortalClient",
    "app_version",
    "new_idempotency_key",
    "tls_context",
]
