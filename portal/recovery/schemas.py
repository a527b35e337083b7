"""Request and response bodies of password recovery (a code by e-mail, then a new password)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from portal.registration.schemas import account_number_field, email_schema
from portal.security.passwords import NEW_PASSWORD_SCHEMA


class RecoveryRequest(BaseModel):
    """Ask for a recovery code: the account number and the e-mail given at registration."""

    account_number: str = account_number_field()
    email: str = Field(
        min_length=1, max_length=320, examples=["ivanov@example.ru"], json_schema_extra=email_schema
    )


class RecoveryRequested(BaseModel):
    """The same answer whether or not the data matched a registered account."""

    message: str


class RecoveryConfirm(BaseModel):
    """The code from the letter and the new password, twice."""

    account_number: str = account_number_field()
    code: str = Field(min_length=1, max_length=200, description="«Код из письма» восстановления пароля.")
    new_password: str = Field(
        min_length=1,
        max_length=1024,
        description="От 8 до 128 символов, не из самых частых (422 `weak_password`).",
        json_schema_extra=NEW_PASSWORD_SCHEMA,
    )
    new_password_repeat: str = Field(min_length=1, max_length=1024)
