"""Request and response bodies of registration (step 1: find the account; step 2: prove the receipt).

Formats are checked by the service, not by pydantic, so that each problem gets its own code and a
message naming the field and what is allowed; the patterns below only document them in OpenAPI.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from portal.money import KopecksInput

#: An account number as printed on the receipt: 6–20 ASCII digits (the demo's have 10), spaces around
#: allowed. The same text in ECMAScript and Python; the service checks it whole.
ACCOUNT_NUMBER_PATTERN = r"^ *[0-9]{6,20} *$"


def email_schema(schema: dict[str, Any]) -> None:
    """E-mail fields: the format is documented and the service checks it (``invalid_email``).

    An address has at most 254 characters, so the format says the length too; the field's own limit
    (320, kept by the server) is left out of the document, where it would only repeat it less exactly.
    """
    schema.pop("minLength", None)
    schema.pop("maxLength", None)
    schema["format"] = "email"


def account_number_field() -> Any:
    """The ``account_number`` field of registration and recovery requests."""
    return Field(
        min_length=1,
        max_length=40,
        description="Номер лицевого счета из квитанции: от 6 до 20 цифр.",
        examples=["3500012012"],
        json_schema_extra={"pattern": ACCOUNT_NUMBER_PATTERN},
    )


class LookupRequest(BaseModel):
    """Step 1: the account number from the receipt."""

    account_number: str = account_number_field()


class LookupResult(BaseModel):
    """The account exists; its address is shown without the apartment number and the owner."""

    #: Every answer has every field (null when empty): the document says so to the client.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    found: bool = True
    account_number: str
    masked_address: str = Field(examples=["г. Вологда, ул. Ленина, д. 12, кв. **"])


class RegistrationRequest(BaseModel):
    """Step 2: the total of the last receipt, the e-mail twice and the accepted terms of use."""

    account_number: str = account_number_field()
    receipt_total_kopecks: KopecksInput = Field(
        description=(
            "«Итого к оплате за указанный месяц»: сумма раздела «ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, "
            "БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» последней квитанции, без взноса на капитальный ремонт, "
            "в копейках: 1 023,12 ₽ — `102312`."
        ),
        examples=[102312],
        json_schema_extra={"minimum": 0},
    )
    email: str = Field(
        min_length=1, max_length=320, examples=["ivanov@example.ru"], json_schema_extra=email_schema
    )
    email_repeat: str = Field(
        min_length=1,
        max_length=320,
        description="The same address as `email` (422 `emails_differ` otherwise).",
        examples=["ivanov@example.ru"],
        json_schema_extra=email_schema,
    )
    #: Strict: ``1`` or ``"yes"`` is no consent. Only ``true`` registers (the service says why not).
    accept_terms: StrictBool = Field(
        description="«Принять условия соглашения»: должно быть true.", json_schema_extra={"enum": [True]}
    )


class RegistrationAccepted(BaseModel):
    """The account is registered; the password is on its way to the e-mail."""

    message: str
    email_masked: str = Field(examples=["i***@example.ru"])
