"""Password recovery rules: a single-use code mailed to the registered e-mail, then a new password.

The code is six digits (``123 456``), easy to read off a phone and type at a kiosk or over SSH. Its
strength is not its length but what a guesser may do with it, as with a bank's SMS code: it lives
:attr:`~portal.settings.Settings.recovery_code_minutes` minutes, only the newest code of an account
works, and after :attr:`~portal.settings.Settings.recovery_code_attempts` wrong codes for an account
its code is void (a new one must be asked for) — on top of the account's and the client's throttle.
Only an HMAC of the code with the account's id is stored.

Asking for a code answers the same whatever the data, so it tells nobody whether an account is
registered or which e-mail it has. Every request counts against the throttle — not only those that
do not match — because a count that grows only on mismatches would itself reveal the right e-mail,
and it also caps how many letters anyone can make us send to a resident.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.repository import AuthRepository
from portal.auth.service import end_sessions
from portal.kit.clock import BILLING_TZ
from portal.kit.state import PortalState
from portal.mail import OutgoingMail
from portal.models import TokenKind, User
from portal.recovery.errors import InvalidRecoveryEmail, RecoveryCodeInvalid
from portal.recovery.repository import RecoveryRepository
from portal.recovery.schemas import RecoveryConfirm
from portal.registration.service import parse_account_number
from portal.security.password_policy import check_new_password
from portal.throttling.repository import FailureCounterRepository
from portal.throttling.service import Scope

#: Only compared with the stored address, so any plausible address will do (demo ones end in .local).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

RECOVERY_REQUESTED_MESSAGE = "Если данные верны, на e-mail отправлено письмо с кодом восстановления"

#: Digits of a recovery code.
CODE_DIGITS = 6
#: Wrong codes of an account are counted per code under this scope (subject: the code's row id).
CODE_ATTEMPTS_SCOPE = "recovery_code"
#: What a resident may type between the digits: spaces and dashes, as in ``123 456`` or ``123-456``.
_CODE_SEPARATORS = re.compile(r"[\s\-‐-―]")
_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")


def new_code() -> str:
    """A random code of :data:`CODE_DIGITS` digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normal_code(text: str) -> str | None:
    """The typed code without spaces and dashes, or None when it is not six ASCII digits."""
    code = _CODE_SEPARATORS.sub("", text)
    return code if _CODE.fullmatch(code) else None


def code_digest(state: PortalState, account_id: int, code: str) -> str:
    """What is stored of a code: its HMAC together with the account (two accounts may get equal codes)."""
    return state.tokens.digest(f"recovery:{account_id}:{code}")


def letter_code(code: str) -> str:
    """``123 456``: the code as the letter shows it, in two halves that are easy to read off."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"


@dataclass(frozen=True)
class RecoveryConfirmForm:
    """A recovery confirmation after the format checks."""

    account_number: str
    code: str
    new_password: str


def check_email(text: str) -> str:
    email = text.strip()
    if not _EMAIL.fullmatch(email):
        raise InvalidRecoveryEmail()
    return email


async def request_code(
    state: PortalState, session: AsyncSession, account_number: str, email_text: str, client: str
) -> list[OutgoingMail]:
    """Mail a recovery code if the account is registered to this e-mail; the letters to send."""
    number = parse_account_number(account_number)
    email = check_email(email_text)
    now = state.clock.now()
    # Reserved and never given back: every request counts, matching or not.
    await state.throttle.reserve(session, Scope.RECOVERY, number, client, now)
    found = await RecoveryRepository(session).user_with_account(number)
    if found is None or found[0].email.casefold() != email.casefold():
        return []
    user, account = found
    # Only the newest code works: an older letter lying around opens nothing.
    auth = AuthRepository(session)
    await auth.delete_user_tokens([user.id], TokenKind.RECOVERY)
    code = new_code()
    await auth.add_token(
        token_hmac=code_digest(state, account.id, code),
        kind=TokenKind.RECOVERY,
        account_id=account.id,
        user_id=user.id,
        now=now,
        expires_at=now + dt.timedelta(minutes=state.settings.recovery_code_minutes),
    )
    return [_code_letter(user.email, account.number, code, state.settings.recovery_code_minutes)]


def check_confirm(body: RecoveryConfirm) -> RecoveryConfirmForm:
    """Format checks of the confirmation: the account number, then the new password and its repeat."""
    number = parse_account_number(body.account_number)
    check_new_password(body.new_password, body.new_password_repeat, number)
    # A code that is not six digits is simply a wrong code (the same answer, the same count).
    return RecoveryConfirmForm(number, normal_code(body.code) or "", body.new_password)


async def confirm(
    state: PortalState, session: AsyncSession, form: RecoveryConfirmForm, client: str
) -> list[OutgoingMail]:
    """Use the code once: set the new password and end every session of the account."""
    now = state.clock.now()
    number = form.account_number
    reservation = await state.throttle.reserve(session, Scope.RECOVERY_CONFIRM, number, client, now)
    repo = RecoveryRepository(session)
    account = await repo.account_by_number(number)
    account_id = account.id if account is not None else None
    user_id = None
    if account_id is not None and form.code:
        user_id = await repo.consume_code(code_digest(state, account_id, form.code), account_id, now)
    user = await session.get(User, user_id) if user_id is not None else None
    if account_id is None or user is None:
        if account_id is not None:
            await count_wrong_code(state, session, account_id, now)
        raise RecoveryCodeInvalid()  # the attempt was counted by the reservation

    auth = AuthRepository(session)
    await auth.set_password(user.id, await state.hashing.hash(form.new_password), now)
    # Whoever knew the old password is logged out everywhere; other codes die with it.
    await end_sessions(session, account_id)
    # Codes asked by any of the login's account numbers die with it.
    await auth.delete_user_tokens([user.id], TokenKind.RECOVERY)
    await state.throttle.succeeded(session, reservation)
    # The resident proved the e-mail and the password is new: earlier wrong passwords are moot.
    await state.throttle.forgive_account(session, Scope.LOGIN, number, client)
    return [_password_changed_letter(user.email, number, now)]


async def count_wrong_code(
    state: PortalState, session: AsyncSession, account_id: int, now: dt.datetime
) -> None:
    """Count a wrong code against the account's live code; the last allowed attempt voids that code.

    Committed at once (the request then fails and rolls back, the count and the voiding stay). One
    atomic upsert per attempt, so parallel guesses cannot slip past the limit.
    """
    repo = RecoveryRepository(session)
    live = await repo.live_code_id(account_id, now)
    if live is None:
        return
    lifetime = dt.timedelta(minutes=state.settings.recovery_code_minutes)
    wrong = await FailureCounterRepository(session).add(
        CODE_ATTEMPTS_SCOPE, f"code:{live}", now, now - lifetime
    )
    if wrong >= state.settings.recovery_code_attempts:
        await AuthRepository(session).delete_tokens(account_id, TokenKind.RECOVERY)
    await session.commit()


def _code_letter(email: str, number: str, code: str, minutes: int) -> OutgoingMail:
    body = (
        "Здравствуйте!\n\n"
        f"Для лицевого счета {number} запрошено восстановление пароля личного кабинета.\n\n"
        f"Код восстановления: {letter_code(code)}\n\n"
        f"Код — {CODE_DIGITS} цифр. Он действует {minutes} мин. и подходит один раз; после нескольких "
        "неверных попыток он перестаёт действовать, и нужно запросить новый. Введите его в форме "
        "восстановления пароля вместе с номером лицевого счета и новым паролем.\n\n"
        "Если вы не запрашивали восстановление, не используйте код — ваш пароль останется прежним.\n"
    )
    return OutgoingMail(to=email, subject="Код восстановления пароля личного кабинета", body=body)


def _password_changed_letter(email: str, number: str, now: dt.datetime) -> OutgoingMail:
    when = now.astimezone(BILLING_TZ).strftime("%d.%m.%Y %H:%M")
    body = (
        "Здравствуйте!\n\n"
        f"{when} (время московское) пароль для входа в личный кабинет по лицевому счету {number} "
        "изменён с помощью кода восстановления. Все открытые сеансы завершены.\n\n"
        "Если это были не вы, сразу восстановите пароль ещё раз и сообщите об этом в расчётный центр.\n"
    )
    return OutgoingMail(to=email, subject="Пароль личного кабинета изменён", body=body)
