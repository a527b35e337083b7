"""Registration rules: find the account, then prove the receipt total and receive a password by e-mail.

Step 2 is a knowledge check on a low-entropy secret (the receipt total), so it is throttled and fails in
one way — same status, code, message and similar work — whether the account is unknown, the total is
wrong or the account is already registered (SECURITY.md). Letters go out after the answer, from the
endpoint's background tasks; this module only says which letters to send.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.billing.service import last_receipt_period, receipt_total
from portal.kit.clock import BILLING_TZ, month_start
from portal.kit.errors import ApiError
from portal.kit.state import PortalState
from portal.mail import OutgoingMail
from portal.registration.errors import (
    AccountNotFound,
    EmailsDiffer,
    InvalidAccountNumber,
    InvalidEmail,
    InvalidReceiptTotal,
    RegistrationRefused,
    TermsNotAccepted,
)
from portal.registration.repository import RegistrationRepository
from portal.registration.schemas import LookupResult, RegistrationRequest
from portal.security.password_policy import generate_password
from portal.throttling.service import Scope, Window, take_client_window

_ACCOUNT_NUMBER = re.compile(r"[0-9]{6,20}")
#: The apartment part of an address (``кв. 12``, ``кв.12``, ``квартира 12``) up to the next comma.
_APARTMENT = re.compile(r"\bкв(?:артира|\.)?\s*[^,]+", re.IGNORECASE)
#: No account has this id: an unknown account number runs the same queries as a known one.
_NO_ACCOUNT_ID = -1


def parse_account_number(text: str) -> str:
    """The account number without surrounding spaces, or 422 naming the field and the format."""
    number = text.strip(" ")
    if not _ACCOUNT_NUMBER.fullmatch(number):
        raise InvalidAccountNumber()
    return number


def parse_email(text: str) -> str:
    """The normalised e-mail address (syntax only, no DNS), or 422 ``invalid_email``."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidEmail() from None


def mask_address(address: str) -> str:
    """The address with the apartment number hidden: the street and house confirm the right account."""
    return _APARTMENT.sub("кв. **", address)


def mask_email(email: str) -> str:
    """``i***@example.ru``: enough for the resident to recognise the address, not to learn it."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True)
class RegistrationForm:
    """Step 2 after the format checks."""

    account_number: str
    receipt_total_kopecks: int
    email: str


@dataclass(frozen=True)
class RegistrationOutcome:
    """What step 2 decided: the refusal to answer (if any) and the letters to send after answering."""

    email_masked: str
    letters: list[OutgoingMail] = field(default_factory=list)
    refusal: ApiError | None = None


async def lookup(state: PortalState, session: AsyncSession, account_number: str, client: str) -> LookupResult:
    """Step 1: the account with its masked address, or 404 ``account_not_found``.

    Every lookup (found or not) counts against the client address's window, like the other public
    lookups: the answer tells whether a number exists and where (masked).
    """
    number = parse_account_number(account_number)
    await take_client_window(
        session,
        Window.REGISTRATION_LOOKUP,
        client,
        state.clock.now(),
        limit=state.settings.public_lookups_per_window,
        length=dt.timedelta(seconds=state.settings.public_payment_window_seconds),
    )
    account = await RegistrationRepository(session).account_by_number(number)
    if account is None:
        raise AccountNotFound()
    return LookupResult(account_number=account.number, masked_address=mask_address(account.address))


def check_form(body: RegistrationRequest) -> RegistrationForm:
    """The format checks of step 2, in the order of the form's fields; each has its own 422."""
    number = parse_account_number(body.account_number)
    total = body.receipt_total_kopecks
    if total < 0:
        raise InvalidReceiptTotal()
    email = parse_email(body.email)
    if body.email_repeat.strip().casefold() != body.email.strip().casefold():
        raise EmailsDiffer()
    if not body.accept_terms:
        raise TermsNotAccepted()
    return RegistrationForm(number, total, email)


async def last_receipt_total(state: PortalState, session: AsyncSession, account_id: int) -> int | None:
    period = await last_receipt_period(session, account_id)
    # Without a receipt (or an account) the same statement queries still run, on no rows.
    total = await receipt_total(session, account_id, period or month_start(state.clock.today()))
    return total if period is not None else None


async def register(
    state: PortalState, session: AsyncSession, form: RegistrationForm, client: str
) -> RegistrationOutcome:
    """Step 2: create the user and mail a generated password — or the one uniform refusal."""
    now = state.clock.now()
    number = form.account_number
    reservation = await state.throttle.reserve(session, Scope.REGISTRATION, number, client, now)
    # Every branch pays for the same argon2 hash, so the time of the answer does not tell them apart.
    password = generate_password()
    password_hash = await state.hashing.hash(password)

    repo = RegistrationRepository(session)
    account = await repo.account_by_number(number)
    account_id = account.id if account is not None else _NO_ACCOUNT_ID
    owner = await repo.user_of_account(account_id)
    expected = await last_receipt_total(state, session, account_id)
    total_matches = expected is not None and expected == form.receipt_total_kopecks
    masked = mask_email(form.email)

    if account is None or owner is not None or not total_matches:
        # The attempt stays counted (the reservation). The owner hears of it only when the receipt
        # total was right: then someone holds the receipt (often the owner who forgot registering);
        # wrong guesses would only flood their mailbox.
        letters = [_attempt_notice(owner.email, number, now)] if owner is not None and total_matches else []
        return RegistrationOutcome(masked, letters, RegistrationRefused())

    try:
        # The check of "not registered yet" and the write are one step: users.account_id is unique, so
        # of concurrent registrations of an account exactly one inserts; the others wait for it and fail.
        await repo.add_user(account_id, form.email, password_hash, now)
    except IntegrityError:
        # A concurrent registration of the same account won: this one fails like any other (its
        # reservation stays counted) and the owner hears that someone else held the receipt.
        await session.rollback()
        owner = await repo.user_of_account(account_id)
        letters = [_attempt_notice(owner.email, number, now)] if owner is not None else []
        return RegistrationOutcome(masked, letters, RegistrationRefused())
    await state.throttle.succeeded(session, reservation)
    return RegistrationOutcome(masked, [_password_letter(form.email, number, password)])


def _password_letter(email: str, number: str, password: str) -> OutgoingMail:
    body = (
        "Здравствуйте!\n\n"
        f"Лицевой счет {number} зарегистрирован в личном кабинете. Этот адрес электронной почты "
        "привязан к лицевому счету и служит для восстановления пароля.\n\n"
        "Для входа в личный кабинет укажите:\n"
        f"Лицевой счет: {number}\n"
        f"Пароль: {password}\n\n"
        "Рекомендуем после первого входа сменить пароль в профиле пользователя.\n\n"
        "Если вы не регистрировались в личном кабинете, сообщите об этом в расчётный центр.\n"
    )
    return OutgoingMail(to=email, subject="Пароль для входа в личный кабинет", body=body)


def _attempt_notice(email: str, number: str, now: dt.datetime) -> OutgoingMail:
    when = now.astimezone(BILLING_TZ).strftime("%d.%m.%Y %H:%M")
    body = (
        "Здравствуйте!\n\n"
        f"{when} (время московское) кто-то пытался зарегистрировать в личном кабинете лицевой счет "
        f"{number}, который уже зарегистрирован на этот адрес электронной почты. Регистрация не "
        "выполнена, ваш пароль не изменён.\n\n"
        "Если это были вы и вы не помните пароль, воспользуйтесь восстановлением пароля: укажите "
        "номер лицевого счета и этот адрес электронной почты.\n\n"
        "Если это были не вы, ничего делать не нужно. Если письма повторяются, сообщите об этом "
        "в расчётный центр.\n"
    )
    return OutgoingMail(to=email, subject="Попытка повторной регистрации лицевого счета", body=body)
