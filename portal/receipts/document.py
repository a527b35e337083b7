"""What one receipt prints: plain frozen data, gathered by :mod:`.service` and drawn by :mod:`.render`.

Drawing needs nothing else (no session, no clock), so it can run in a worker thread or in a batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from portal.billing.repository import ServiceLine
from portal.receipts.payees import PayeeRequisites


@dataclass(frozen=True)
class MeterLine:
    """One meter in the block «Показания приборов учёта»."""

    service_name: str
    unit: str
    serial_number: str
    #: The meter's decimals: readings print with exactly these.
    decimals: int
    #: The last accepted reading before the month (None: the meter has none yet).
    previous: Decimal | None
    #: The month's accepted reading (None: no reading came, the charge used the average or the norm).
    current: Decimal | None
    #: ``current - previous`` (past 99…9 on a rollover), None without both readings.
    consumption: Decimal | None


@dataclass(frozen=True)
class PaymentLine:
    """A payment received within the receipt's month."""

    paid_on: dt.date
    amount_kopecks: int


@dataclass(frozen=True)
class PayeeSection:
    """One payee's part of the receipt: its charges, the balance, the total to pay and its QR code."""

    requisites: PayeeRequisites
    #: The number the payee knows the payer by (account number, or capital repair account number).
    payer_account: str
    lines: tuple[ServiceLine, ...]
    #: Balance at the start of the month (входящее сальдо): positive = a debt, negative = prepaid.
    opening_kopecks: int
    charged_kopecks: int
    recalculation_kopecks: int
    paid_kopecks: int
    payments: tuple[PaymentLine, ...]
    #: The amount to pay: :func:`portal.billing.service.receipt_total` or
    #: :func:`portal.billing.service.capital_repair_total`.
    total_kopecks: int
    #: The ГОСТ Р 56042-2014 text of the payee's QR code.
    qr_payload: str
    #: Penalties (пени) charged in the month, printed in their own column.
    penalties_kopecks: int = 0


@dataclass(frozen=True)
class ReceiptDocument:
    """The month's single payment document (ЕПД) of one account."""

    #: The month (first day).
    period: dt.date
    account_number: str
    owner_name: str
    address: str
    area_m2: Decimal
    residents: int
    utilities: PayeeSection
    #: The separate block «РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ»; None for an account without one.
    capital_repair: PayeeSection | None
    meters: tuple[MeterLine, ...]
    #: The day the document was made.
    issued_on: dt.date
