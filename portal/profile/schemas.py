"""Request and response bodies of the profile: the e-mail and the password of the logged-in resident."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from portal.registration.schemas import email_schema
from portal.security.passwords import NEW_PASSWORD_SCHEMA


def _password_field(description: str) -> Any:
    return Field(min_length=1, max_length=1024, description=description)


def _captcha_id_field() -> Any:
    return Field(
        min_length=1, max_length=64, description="`captcha_id` картинки, полученной в `POST /captcha`."
    )


def _captcha_answer_field() -> Any:
    return Field(
        min_length=1,
        max_length=40,
        description="«Введите код с картинки»: без учёта регистра, пробелы не важны.",
        examples=["K7MPX"],
    )


class ProfileView(BaseModel):
    """The resident's own profile (the full e-mail: it is the owner who asks)."""

    account_number: str = Field(examples=["3500012007"])
    email: str = Field(examples=["ivanov@example.ru"])
    email_masked: str = Field(examples=["i***@example.ru"])


class EmailChangeRequest(BaseModel):
    """A new e-mail, twice; the current password (a fresh proof) and the code from a captcha image
    of purpose ``email_change``."""

    current_password: str = _password_field("«Текущий пароль»: смена e-mail требует ввести пароль снова.")
    new_email: str = Field(
        min_length=1, max_length=320, examples=["ivanov@example.ru"], json_schema_extra=email_schema
    )
    new_email_repeat: str = Field(
        min_length=1,
        max_length=320,
        description="The same address as `new_email` (422 `emails_differ` otherwise).",
        examples=["ivanov@example.ru"],
        json_schema_extra=email_schema,
    )
    captcha_id: str = _captcha_id_field()
    captcha_answer: str = _captcha_answer_field()


class EmailChanged(BaseModel):
    """The e-mail is changed; letters go to the old address (a notice) and the new one."""

    message: str
    email_masked: str = Field(examples=["i***@example.ru"])


class PasswordChangeRequest(BaseModel):
    """The current password, the new one twice and the code from a captcha image of purpose
    ``password_change``."""

    current_password: str = _password_field("«Текущий пароль».")
    new_password: str = Field(
        min_length=1,
        max_length=1024,
        description="«Новый пароль»: от 8 до 128 символов, не из самых частых (422 `weak_password`).",
        json_schema_extra=NEW_PASSWORD_SCHEMA,
    )
    new_password_repeat: str = _password_field("«Новый пароль повторно».")
    captcha_id: str = _captcha_id_field()
    captcha_answer: str = _captcha_answer_field()
