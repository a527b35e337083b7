"""Rules of the receipt: which month, what it prints, and the letter that carries it.

The money comes from :mod:`portal.billing`: the lines and balances from its repository, and the two
amounts to pay from :func:`portal.billing.service.receipt_total` (the very function registration checks) and
:func:`portal.billing.service.capital_repair_total`, never recomputed here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.errors import NotAuthenticated
from portal.billing import service as billing
from portal.billing.repository import BillingRepository
from portal.kit.clock import add_months
from portal.mail.mailer import Attachment, OutgoingMail
from portal.models import PaymentPurpose
from portal.periods import MAX_DATE, MIN_DATE, MONTH_PATTERN
from portal.receipts import qr, repository
from portal.receipts.document import MeterLine, PayeeSection, PaymentLine, ReceiptDocument
from portal.receipts.errors import (
    InvalidReceiptMonth,
    PayeeRequisitesMissing,
    ReceiptNotFound,
    TooManyReceiptLetters,
)
from portal.receipts.repository import ReceiptsRepository
from portal.receipts.schemas import PaymentCode, PaymentCodes
from portal.registration.service import mask_email
from portal.throttling.repository import FailureCounterRepository

MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip

#: ``YYYY-MM`` with a real month: the format of the receipt's month in the URL.
PERIOD_PATTERN = MONTH_PATTERN
_PERIOD = re.compile(PERIOD_PATTERN)

PDF_CONTENT_TYPE = "application/pdf"


def month_name(period: dt.date) -> str:
    """``октябрь 2026``: the month the way the receipt names it."""
    return f"{MONTHS[period.month - 1]} {period.year}"


def parse_period(text: str) -> dt.date:
    """The first day of the month ``YYYY-MM``; 422 ``invalid_period`` naming the format otherwise."""
    if _PERIOD.fullmatch(text):
        period = dt.date(int(text[:4]), int(text[5:7]), 1)
        if MIN_DATE <= period <= MAX_DATE:
            return period
    raise InvalidReceiptMonth()


def receipt_filename(account_number: str, period: dt.date) -> str:
    """``receipt-3500012007-2026-10.pdf``."""
    return f"receipt-{account_number}-{period:%Y-%m}.pdf"


def meter_line(record: repository.MeterReadingRecord) -> MeterLine:
    """The meter's row of the receipt: its two readings and the consumption between them."""
    consumption: Decimal | None = None
    if record.previous is not None and record.current is not None:
        consumption = record.current - record.previous
        if record.rollover:
            # The dial wrapped past 99…9: the consumption continues from zero.
            consumption += Decimal(10) ** record.integer_digits
    return MeterLine(
        service_name=record.service_name,
        unit=record.unit,
        serial_number=record.serial_number,
        decimals=record.decimals,
        previous=record.previous,
        current=record.current,
        consumption=consumption,
    )


async def build_receipt(
    session: AsyncSession, account_id: int, period: dt.date, today: dt.date
) -> ReceiptDocument:
    """Everything the receipt of ``period`` prints for the account; 404 when the month has no charges.

    Eight queries at most whatever the history: the payer, the month's charges, the balances before
    the month with its payment sums, the month's payments, the meters with their readings, the payees'
    requisites, and the two totals of billing (one query each).
    """
    receipts, charges = ReceiptsRepository(session), BillingRepository(session)
    payer = await receipts.payer(account_id)
    if payer is None:
        # The account was deleted under a live session: the session means nothing any more.
        raise NotAuthenticated()
    lines = await charges.receipt_lines(account_id, period)
    if not any(lines.values()):
        raise ReceiptNotFound(month=month_name(period))
    next_period = add_months(period, 1)
    sums = await charges.due_sums(account_id, period, next_period, today)
    payments = await receipts.payments(account_id, period, next_period)
    meters = await receipts.meter_readings(account_id, period, next_period)
    requisites_by_code = await receipts.payee_requisites()
    utilities_total = await billing.receipt_total(session, account_id, period)
    fund_total = (
        await billing.capital_repair_total(session, account_id, period)
        if payer.fund_account_number is not None
        else None
    )

    def section(purpose: PaymentPurpose, payer_account: str, total: int, purpose_text: str) -> PayeeSection:
        payee = billing.payee_for(purpose)
        payee_lines = tuple(lines[payee])
        due = sums[purpose]
        requisites = requisites_by_code.get(payee.value)
        if requisites is None:
            raise PayeeRequisitesMissing(payee=payee.value)
        fields = qr.payment_fields(
            requisites,
            sum_kopecks=total,
            purpose=purpose_text,
            payer_account=payer_account,
            period=period,
            payer_name=payer.owner_name,
            payer_address=payer.address,
        )
        return PayeeSection(
            requisites=requisites,
            payer_account=payer_account,
            lines=payee_lines,
            opening_kopecks=due.charged_before_kopecks - due.paid_before_kopecks,
            charged_kopecks=sum(line.charged_kopecks for line in payee_lines),
            recalculation_kopecks=sum(line.recalculation_kopecks for line in payee_lines),
            paid_kopecks=due.paid_in_period_kopecks,
            payments=tuple(
                PaymentLine(p.paid_on, p.amount_kopecks) for p in payments if p.purpose == purpose.value
            ),
            total_kopecks=total,
            qr_payload=qr.gost_payload(fields),
            penalties_kopecks=sum(line.penalties_kopecks for line in payee_lines),
        )

    utilities = section(
        PaymentPurpose.UTILITIES,
        payer.number,
        utilities_total,
        f"Оплата ЖКУ за {period:%m.%Y}, л/с {payer.number}",
    )
    capital_repair = None
    if payer.fund_account_number is not None and fund_total is not None:
        capital_repair = section(
            PaymentPurpose.CAPITAL_REPAIR,
            payer.fund_account_number,
            fund_total,
            f"Взнос на капитальный ремонт за {period:%m.%Y}, л/с {payer.fund_account_number}",
        )
    return ReceiptDocument(
        period=period,
        account_number=payer.number,
        owner_name=payer.owner_name,
        address=payer.address,
        area_m2=payer.area_m2,
        residents=payer.residents,
        utilities=utilities,
        capital_repair=capital_repair,
        meters=tuple(meter_line(record) for record in meters),
        issued_on=today,
    )


async def recipient(session: AsyncSession, account_id: int) -> str:
    """The registered e-mail receipts are mailed to (a session always belongs to a registered user)."""
    email = await ReceiptsRepository(session).registered_email(account_id)
    if email is None:
        raise NotAuthenticated()
    return email


def receipt_letter(email: str, document: ReceiptDocument, pdf: bytes) -> OutgoingMail:
    """The letter with the receipt's PDF attached."""
    month = month_name(document.period)
    body = (
        "Здравствуйте!\n\n"
        f"Квитанция за {month} по лицевому счёту {document.account_number} во вложении (PDF).\n"
        "Оплатить её можно в любом банковском приложении по QR-коду на квитанции.\n\n"
        "Письмо отправлено по Вашему запросу из личного кабинета; отвечать на него не нужно.\n"
    )
    return OutgoingMail(
        to=email,
        subject=f"Квитанция за {month}, лицевой счёт {document.account_number}",
        body=body,
        attachments=(
            Attachment(receipt_filename(document.account_number, document.period), PDF_CONTENT_TYPE, pdf),
        ),
    )


def mailed_message(email: str, period: dt.date) -> tuple[str, str]:
    """The answer to «Отправить на e-mail»: the message and the masked address."""
    masked = mask_email(email)
    return f"Квитанция за {month_name(period)} отправлена на e-mail {masked}.", masked


def payment_codes(document: ReceiptDocument) -> PaymentCodes:
    """The receipt's two payment QR codes as text: exactly what the PDF prints."""

    def code(section: PayeeSection) -> PaymentCode:
        return PaymentCode(payload=section.qr_payload, amount_kopecks=section.total_kopecks)

    return PaymentCodes(
        period=document.period,
        utilities=code(document.utilities),
        capital_repair=code(document.capital_repair) if document.capital_repair is not None else None,
    )


# --- «Отправить на e-mail» is rate-limited per account --------------------------------------------------

#: Letters with receipts an account may ask for in a row; then a pause of :data:`RECEIPT_EMAIL_PAUSE`.
RECEIPT_EMAILS_IN_A_ROW = 3
#: The pause after the last of them: the portal's mail server is nobody's spam cannon.
RECEIPT_EMAIL_PAUSE = dt.timedelta(minutes=10)
#: The throttle table's scope (``failure_counters`` counts events of any kind, here letters sent).
RECEIPT_EMAIL_SCOPE = "receipt_email"


async def count_receipt_letter(session: AsyncSession, account_id: int, now: dt.datetime) -> None:
    """Count one letter of the account, or raise 429 while it pauses.

    :data:`RECEIPT_EMAILS_IN_A_ROW` letters, then :data:`RECEIPT_EMAIL_PAUSE` from the last one; a
    pause as long as that also starts the count over. The count is one conditional upsert that either
    takes a letter or refuses, so parallel requests cannot slip past it.
    """
    repo = FailureCounterRepository(session)
    subject = f"account:{account_id}"
    sent = await repo.reserve(
        RECEIPT_EMAIL_SCOPE,
        subject,
        now,
        free=RECEIPT_EMAILS_IN_A_ROW,
        ladder=[now + RECEIPT_EMAIL_PAUSE],
        reset_before=now - RECEIPT_EMAIL_PAUSE,
    )
    if sent is None:
        until = await repo.blocked_until(RECEIPT_EMAIL_SCOPE, [subject])
        wait = (until - now).total_seconds() if until is not None else RECEIPT_EMAIL_PAUSE.total_seconds()
        raise TooManyReceiptLetters(max(1, int(wait) + 1), letters=RECEIPT_EMAILS_IN_A_ROW)
