"""Profile rules: change the e-mail or the password, each behind a captcha and the current password.

SECURITY.md asks for a "fresh" proof before either change: both take the current password again
(checked with argon2 and throttled like the login, since it is a guessable knowledge check), so a
session left open on someone else's screen cannot take the account over. Format problems are
reported before the password and the captcha are checked, so a typo never costs a captcha.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.errors import NotAuthenticated
from portal.auth.repository import AuthRepository
from portal.auth.service import Principal, end_sessions
from portal.captcha.schemas import CaptchaPurpose
from portal.captcha.service import verify_captcha
from portal.kit.cache import invalidate_after_commit
from portal.kit.clock import BILLING_TZ
from portal.kit.state import PortalState
from portal.mail import OutgoingMail
from portal.models import TokenKind, User
from portal.profile.errors import (
    CurrentPasswordWrong,
    EmailUnchanged,
    InvalidNewEmail,
    NewEmailsDiffer,
    PasswordUnchanged,
)
from portal.profile.repository import ProfileRepository
from portal.profile.schemas import EmailChangeRequest, PasswordChangeRequest, ProfileView
from portal.registration.service import mask_email
from portal.security.password_policy import check_new_password
from portal.throttling.service import Scope

EMAIL_CHANGED_MESSAGE = "E-mail изменён. На прежний адрес отправлено уведомление, на новый — подтверждение."


@dataclass(frozen=True)
class EmailChangeOutcome:
    email_masked: str
    letters: list[OutgoingMail] = field(default_factory=list)


async def _user(session: AsyncSession, principal: Principal) -> User:
    user = await ProfileRepository(session).user_of_account(principal.account_id)
    if user is None:  # the registration was removed while the session lived
        raise NotAuthenticated()
    return user


async def profile(session: AsyncSession, principal: Principal) -> ProfileView:
    user = await _user(session, principal)
    return ProfileView(
        account_number=principal.account_number, email=user.email, email_masked=mask_email(user.email)
    )


def check_new_email(body: EmailChangeRequest) -> str:
    """The normalised new e-mail (syntax only, no DNS), or 422 ``invalid_email`` / ``emails_differ``."""
    try:
        email = validate_email(body.new_email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidNewEmail() from None
    if body.new_email_repeat.strip().casefold() != body.new_email.strip().casefold():
        raise NewEmailsDiffer()
    return email


async def _check_current_password(
    state: PortalState, session: AsyncSession, principal: Principal, user: User, password: str, client: str
) -> None:
    """The fresh proof: the current password, counted against the login's throttle on failure."""
    now = state.clock.now()
    number = principal.account_number
    reservation = await state.throttle.reserve(session, Scope.LOGIN, number, client, now)
    if not await state.hashing.verify(user.password_hash, password):
        raise CurrentPasswordWrong()  # the attempt was counted by the reservation
    # Given back at once: a wrong captcha or an unchanged password later does not count as a guess.
    await state.throttle.succeeded(session, reservation)
    await session.commit()


async def change_email(
    state: PortalState, session: AsyncSession, principal: Principal, body: EmailChangeRequest, client: str
) -> EmailChangeOutcome:
    """Check the form, the password and the captcha, then store the new e-mail; the letters to send."""
    new_email = check_new_email(body)
    user = await _user(session, principal)
    old_email = user.email
    if new_email.casefold() == old_email.casefold():
        raise EmailUnchanged()
    await _check_current_password(state, session, principal, user, body.current_password, client)
    now = state.clock.now()
    await verify_captcha(
        session,
        state.tokens,
        account_id=principal.account_id,
        purpose=CaptchaPurpose.EMAIL_CHANGE,
        captcha_id=body.captcha_id,
        answer=body.captcha_answer,
        now=now,
    )
    await ProfileRepository(session).set_email(principal.account_id, new_email)
    # A recovery code already mailed to the old address must not outlive the change.
    await AuthRepository(session).delete_tokens(principal.account_id, TokenKind.RECOVERY)
    await invalidate_after_commit(session, f"account:{principal.account_id}")
    number = principal.account_number
    letters = [
        _email_changed_notice(old_email, new_email, number, now),
        _email_confirmation(new_email, number, now),
    ]
    return EmailChangeOutcome(mask_email(new_email), letters)


async def change_password(
    state: PortalState, session: AsyncSession, principal: Principal, body: PasswordChangeRequest, client: str
) -> list[OutgoingMail]:
    """Check the form, the password and the captcha, then set the new password; the letters to send.

    Every other session of the account ends; the one the change was made in stays.
    """
    check_new_password(body.new_password, body.new_password_repeat, principal.account_number)
    user = await _user(session, principal)
    await _check_current_password(state, session, principal, user, body.current_password, client)
    if body.new_password == body.current_password:
        raise PasswordUnchanged()
    now = state.clock.now()
    await verify_captcha(
        session,
        state.tokens,
        account_id=principal.account_id,
        purpose=CaptchaPurpose.PASSWORD_CHANGE,
        captcha_id=body.captcha_id,
        answer=body.captcha_answer,
        now=now,
    )
    auth = AuthRepository(session)
    await auth.set_password(user.id, await state.hashing.hash(body.new_password), now)
    await end_sessions(session, principal.account_id, except_token_id=principal.token_id)
    # Recovery codes asked by any of the login's account numbers die with the old password.
    await auth.delete_user_tokens([user.id], TokenKind.RECOVERY)
    return [_password_changed_notice(user.email, principal.account_number, now)]


def _moscow(now: dt.datetime) -> str:
    return now.astimezone(BILLING_TZ).strftime("%d.%m.%Y %H:%M")


def _email_changed_notice(old_email: str, new_email: str, number: str, now: dt.datetime) -> OutgoingMail:
    body = (
        "Здравствуйте!\n\n"
        f"{_moscow(now)} (время московское) в личном кабинете по лицевому счету {number} адрес "
        f"электронной почты изменён на {mask_email(new_email)}. Письма личного кабинета, в том числе "
        "для восстановления пароля, теперь приходят на новый адрес.\n\n"
        "Если это были не вы, сразу сообщите об этом в расчётный центр.\n"
    )
    return OutgoingMail(to=old_email, subject="E-mail личного кабинета изменён", body=body)


def _email_confirmation(new_email: str, number: str, now: dt.datetime) -> OutgoingMail:
    body = (
        "Здравствуйте!\n\n"
        f"{_moscow(now)} (время московское) этот адрес указан в личном кабинете по лицевому счету "
        f"{number}. На него будут приходить письма личного кабинета, в том числе для восстановления "
        "пароля.\n\n"
        "Если вы не меняли e-mail, сообщите об этом в расчётный центр.\n"
    )
    return OutgoingMail(to=new_email, subject="Новый e-mail личного кабинета", body=body)


def _password_changed_notice(email: str, number: str, now: dt.datetime) -> OutgoingMail:
    body = (
        "Здравствуйте!\n\n"
        f"{_moscow(now)} (время московское) пароль для входа в личный кабинет по лицевому счету "
        f"{number} изменён в профиле. Все другие сеансы завершены.\n\n"
        "Если это были не вы, сразу восстановите пароль по e-mail и сообщите об этом в расчётный центр.\n"
    )
    return OutgoingMail(to=email, subject="Пароль личного кабинета изменён", body=body)
