"""Password recovery rules: a single-use code mailed to the registered e-mail, then a new password.

Asking for a code answers the same whatever the data, so it tells nobody whether an account is
registered or which e-mail it has. Every request counts against the throttle — not only those that
do not match — because a count that grows only on mismatches would itself reveal the right e-mail,
and it also caps how many letters anyone can make us send to a resident.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.repository import AuthRepository
from portal.auth.service import end_sessions, open_token
from portal.clock import BILLING_TZ
from portal.errors import ApiError
from portal.mail import OutgoingMail
from portal.models import TokenKind, User
from portal.recovery.repository import RecoveryRepository
from portal.recovery.schemas import RecoveryConfirm
from portal.registration.service import parse_account_number
from portal.security.passwords import password_problem
from portal.state import PortalState
from portal.throttling.service import Scope

#: Only compared with the stored address, so any plausible address will do (demo ones end in .local).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

RECOVERY_REQUESTED_MESSAGE = "Если данные верны, на e-mail отправлено письмо с кодом восстановления"


def recovery_code_invalid() -> ApiError:
    """The one answer to a wrong, expired or used code, or a code of another account."""
    return ApiError(
        409,
        "recovery_code_invalid",
        "Код восстановления неверен, устарел или уже использован. Проверьте номер лицевого счета и код "
        "из последнего письма или запросите новый код.",
        field="code",
    )


@dataclass(frozen=True)
class RecoveryConfirmForm:
    """A recovery confirmation after the format checks."""

    account_number: str
    code: str
    new_password: str


def check_email(text: str) -> str:
    email = text.strip()
    if not _EMAIL.fullmatch(email):
        raise ApiError(
            422,
            "invalid_email",
            "Поле «Введите e-mail»: укажите адрес электронной почты, указанный при регистрации "
            "(пример: ivanov@example.ru).",
            field="email",
        )
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
    found = await RecoveryRepository(session).registered_user(number)
    if found is None or found[0].email.casefold() != email.casefold():
        return []
    user, account = found
    # Only the newest code works: an older letter lying around opens nothing.
    await AuthRepository(session).delete_tokens(account.id, TokenKind.RECOVERY)
    code, _ = await open_token(state, session, TokenKind.RECOVERY, account.id, account.number, user.id)
    return [_code_letter(user.email, account.number, code, state.settings.recovery_code_minutes)]


def check_confirm(body: RecoveryConfirm) -> RecoveryConfirmForm:
    """Format checks of the confirmation: the account number, then the new password and its repeat."""
    number = parse_account_number(body.account_number)
    problem = password_problem(body.new_password, number)
    if problem is not None:
        raise ApiError(422, "weak_password", f"Поле «Новый пароль»: {problem}", field="new_password")
    if body.new_password_repeat != body.new_password:
        raise ApiError(
            422,
            "passwords_differ",
            "Поле «Новый пароль повторно»: пароль не совпадает с полем «Новый пароль».",
            field="new_password_repeat",
        )
    return RecoveryConfirmForm(number, body.code.strip(), body.new_password)


async def confirm(
    state: PortalState, session: AsyncSession, form: RecoveryConfirmForm, client: str
) -> list[OutgoingMail]:
    """Use the code once: set the new password and end every session of the account."""
    now = state.clock.now()
    number = form.account_number
    reservation = await state.throttle.reserve(session, Scope.RECOVERY_CONFIRM, number, client, now)
    repo = RecoveryRepository(session)
    account_id = await repo.account_id_by_number(number)
    user_id = None
    if account_id is not None:
        user_id = await repo.consume_code(state.tokens.digest(form.code), account_id, now)
    user = await session.get(User, user_id) if user_id is not None else None
    if account_id is None or user is None:
        raise recovery_code_invalid()  # the attempt was counted by the reservation

    auth = AuthRepository(session)
    await auth.set_password(user.id, await state.hashing.hash(form.new_password), now)
    # Whoever knew the old password is logged out everywhere; other codes die with it.
    await end_sessions(session, account_id)
    await auth.delete_tokens(account_id, TokenKind.RECOVERY)
    await state.throttle.succeeded(session, reservation)
    # The resident proved the e-mail and the password is new: earlier wrong passwords are moot.
    await state.throttle.forgive_account(session, Scope.LOGIN, number, client)
    return [_password_changed_letter(user.email, number, now)]


def _code_letter(email: str, number: str, code: str, minutes: int) -> OutgoingMail:
    body = (
        "Здравствуйте!\n\n"
        f"Для лицевого счета {number} запрошено восстановление пароля личного кабинета.\n\n"
        f"Код восстановления: {code}\n\n"
        f"Код действует {minutes} мин. и подходит один раз. Введите его в форме восстановления пароля "
        "вместе с номером лицевого счета и новым паролем.\n\n"
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
