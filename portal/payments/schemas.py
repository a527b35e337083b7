"""Request and response bodies of card payments (see /tmp/payments_contract.md for the contract).

Amounts travel as integer kopecks (``*_kopecks``), like every amount of the API. Statuses are one
vocabulary for both payment services.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Header, Path
from pydantic import BaseModel, ConfigDict, Field

from portal.models import PaymentPurpose
from portal.money import KopecksInput
from portal.payments.providers.base import PaymentStatus, ProviderName

#: Order ids are ``po_`` and 32 hex digits; anything else cannot be an order. ASCII only, whole string
#: (a trailing newline is no id either).
OrderId = Annotated[
    str,
    Path(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]{1,40}$", description="The order's opaque id."),
]
#: The ``Idempotency-Key`` header, required when creating a payment.
RequiredIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[!-~]{1,200}$",
        description=(
            "A key of your choice (e.g. a UUID): a repeat with the same key and body gives the same order "
            "(`Idempotent-Replayed: true`); the same key with another body is refused (422 "
            "`idempotency_key_reused`)."
        ),
    ),
]

_AMOUNT = Field(
    description="Kopecks, more than 0, at most 500 000.00 ₽ (50 000 000): 1 023,12 ₽ is `102312`.",
    examples=[102312],
)
_CAPITAL_REPAIR_ACCOUNT = Field(
    min_length=1,
    max_length=40,
    description=(
        "The account number at the capital repair fund (the receipt's capital repair block): 6 to 20 "
        "digits, spaces around allowed."
    ),
    examples=["352100120007"],
    json_schema_extra={"pattern": r"^ *[0-9]{6,20} *$"},
)


class CreatePaymentRequest(BaseModel):
    """A payment of the logged-in resident's account (utilities or the capital repair contribution)."""

    model_config = ConfigDict(extra="forbid")

    purpose: PaymentPurpose
    amount_kopecks: KopecksInput = _AMOUNT
    provider: ProviderName


class PublicCapitalRepairPaymentRequest(BaseModel):
    """The capital repair contribution paid without login."""

    model_config = ConfigDict(extra="forbid")

    capital_repair_account: str = _CAPITAL_REPAIR_ACCOUNT
    amount_kopecks: KopecksInput = _AMOUNT
    provider: ProviderName


class PaymentOrderOut(BaseModel):
    """A card payment and where it stands."""

    id: str = Field(description="Opaque, unguessable; also the order id the payment service knows.")
    provider: ProviderName
    purpose: PaymentPurpose
    amount_kopecks: int = Field(examples=[102312])
    status: PaymentStatus = Field(
        description=(
            "`initiated`, `processing`, then one of the final `success`, `failed`, `cancelled`, `refunded`."
        )
    )
    payment_url: str | None = Field(description="The payment service's hosted card form / checkout page.")
    sandbox: bool = Field(description="The payment service is the portal's in-process sandbox twin (demo).")
    created_at: dt.datetime
    updated_at: dt.datetime
    credited: bool = Field(description="The payment has been recorded in the account's payments (once).")


class CapitalRepairLookup(BaseModel):
    """A capital repair account found by its number (no owner name; the address masked)."""

    capital_repair_account: str
    address_masked: str
    amount_due_kopecks: int = Field(description="What the last receipt leaves to pay.")


class NotificationAck(BaseModel):
    """The portal's answer to a payment service's notification."""

    status: str = Field(description="`accepted`, `duplicate` (a repeat, ignored) or `ignored` (no change).")


class ReconciliationLine(BaseModel):
    order_id: str
    provider_payment_id: str
    amount_kopecks: int
    outcome: str
    detail: str = ""


class ReconciliationReport(BaseModel):
    day: dt.date
    lines: list[ReconciliationLine]

    @property
    def credited(self) -> int:
        return sum(1 for line in self.lines if line.outcome == "credited")

    @property
    def discrepancies(self) -> list[ReconciliationLine]:
        return [line for line in self.lines if line.outcome == "discrepancy"]
