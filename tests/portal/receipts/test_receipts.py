"""The receipt PDF: its text read back (pypdf), its two payment QR codes decoded from the rendered page
(pypdfium2 + zxing-cpp), the routes' errors and IDOR, the letter with the PDF, and the ГОСТ payload rules.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import re
from dataclasses import replace
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pypdfium2
import pytest
import zxingcpp
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.billing import service as billing
from portal.billing.repository import BillingRepository
from portal.demo.accounts import (
    DEBTOR_APARTMENT,
    DEMO_PASSWORD,
    HAPPY_PATH_APARTMENT,
    ROLLOVER_APARTMENT,
    account_number,
    capital_repair_number,
    demo_email,
)
from portal.mail.mailer import Attachment, Mailer, OutgoingMail, read_outbox
from portal.models import Account, Meter, Payee, Reading, ReadingStatus, Service
from portal.money import format_rubles
from portal.receipts import qr
from portal.receipts.payees import BILLING_CENTER, CAPITAL_REPAIR_FUND, PayeeRequisites
from portal.receipts.render import CAPITAL_REPAIR_CAPTION, TOTAL_CAPTION
from portal.receipts.repository import MeterReadingRecord
from portal.receipts.service import meter_line
from portal.settings import Settings
from tests.conftest import Portal, PortalFactory
from tests.support.ports import free_port
from tests.support.statements import counted_statements

LAST_RECEIPT = dt.date(2026, 10, 1)
#: A module must stay readable: the symbol at least 30 mm wide on the page.
MIN_QR_MM = 30
RENDER_DPI = 200


# --- helpers ------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Spaces of every kind (non-breaking thousands separators, line ends) as single spaces."""
    return " ".join(text.replace("\u00a0", " ").split())


def _money(kopecks: int) -> str:
    return _plain(format_rubles(kopecks))


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1, "the receipt is one page"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842), "A4 portrait"
    return _plain(reader.pages[0].extract_text())


def decoded_qr_codes(pdf: bytes) -> list[tuple[str, float]]:
    """Every QR code on the rendered page, top to bottom: (text, width in mm)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=RENDER_DPI / 72).to_pil()
    finally:
        document.close()
    found = []
    for barcode in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    ):
        position = barcode.position
        width_px = abs(position.top_right.x - position.top_left.x)
        found.append((position.top_left.y, barcode.text, width_px / RENDER_DPI * 25.4))
    found.sort()
    return [(text, width) for _, text, width in found]


async def _get(portal: Portal, apartment: int, period: str) -> httpx.Response:
    headers = await portal.login(account_number(apartment), DEMO_PASSWORD)
    return await portal.client.get(f"/api/v1/receipts/{period}", headers=headers)


async def _expected(portal: Portal, apartment: int, period: dt.date) -> dict[str, Any]:
    """What the receipt must say, straight from billing and the tables."""
    account_id = await portal.account_id(apartment)
    async with portal.state.sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        lines = await BillingRepository(session).receipt_lines(account_id, period)
        total = await billing.receipt_total(session, account_id, period)
        fund_total = await billing.capital_repair_total(session, account_id, period)
        rows = await session.execute(
            select(Meter.serial_number, Meter.decimals, Reading.value)
            .join(Reading, Reading.meter_id == Meter.id)
            .where(
                Meter.account_id == account_id,
                Reading.period == period,
                Reading.status == ReadingStatus.ACCEPTED.value,
            )
        )
        readings = [
            (serial, f"{Decimal(value):.{decimals}f}".replace(".", ",")) for serial, decimals, value in rows
        ]
        return {
            "account": account,
            "lines": lines,
            "total": total,
            "fund_total": fund_total,
            "readings": readings,
        }


# --- the PDF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("apartment", [HAPPY_PATH_APARTMENT, DEBTOR_APARTMENT])
async def test_receipt_text_matches_the_accounts_data(portal: Portal, apartment: int) -> None:
    response = await _get(portal, apartment, "2026-10")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    number = account_number(apartment)
    assert response.headers["content-disposition"] == f'attachment; filename="receipt-{number}-2026-10.pdf"'
    assert response.content.startswith(b"%PDF-")

    expected = await _expected(portal, apartment, LAST_RECEIPT)
    text = pdf_text(response.content)
    account: Account = expected["account"]
    assert f"Лицевой счёт: {number}" in text
    assert account.owner_name in text
    assert _plain(account.address) in text
    assert "за октябрь 2026" in text and "10.2026" in text
    assert f"Общая площадь: {account.area_m2:.2f}".replace(".", ",") in text
    assert f"Зарегистрировано: {account.residents} чел." in text

    services = expected["lines"][Payee.BILLING_CENTER]
    assert len(services) >= 5
    for line in services:
        assert line.service_name in text
        # The line's total in its row (money as "1 023,12").
        assert _money(line.total_kopecks).removesuffix(" ₽") in text
    for serial, value in expected["readings"]:
        assert serial in text and value in text

    # The amount registration checks, exactly, right after its caption.
    total_text = f"{TOTAL_CAPTION}: {_money(expected['total'])}"
    assert total_text in text, (total_text, text)
    # The capital repair block: its own caption, account at the fund and amount.
    fund_text = f"{CAPITAL_REPAIR_CAPTION} {_money(expected['fund_total'])} Лицевой счёт в фонде: "
    fund_text += capital_repair_number(apartment)
    assert fund_text in text, (fund_text, text)
    assert CAPITAL_REPAIR_FUND.name in text and CAPITAL_REPAIR_FUND.inn in text
    assert BILLING_CENTER.account in text and CAPITAL_REPAIR_FUND.account in text


def _check_qr(
    fields: dict[str, str], payee: PayeeRequisites, kopecks: int, payer_account: str, owner: str
) -> None:
    assert fields["Name"] == payee.name
    assert fields["PersonalAcc"] == payee.account
    assert fields["BankName"] == payee.bank_name
    assert fields["BIC"] == payee.bic
    assert fields["CorrespAcc"] == payee.correspondent_account
    assert fields["Sum"] == str(kopecks)
    assert fields["PayeeINN"] == payee.inn
    assert fields["KPP"] == payee.kpp
    assert fields["PersAcc"] == payer_account
    assert fields["PaymPeriod"] == "102026"
    assert "10.2026" in fields["Purpose"] and payer_account in fields["Purpose"]
    assert fields["LastName"] == owner.split()[0]
    assert fields["TechCode"] == "02"


@pytest.mark.parametrize("apartment", [HAPPY_PATH_APARTMENT, DEBTOR_APARTMENT])
async def test_both_qr_codes_decode_from_the_rendered_page(portal: Portal, apartment: int) -> None:
    response = await _get(portal, apartment, "2026-10")
    assert response.status_code == 200, response.text
    expected = await _expected(portal, apartment, LAST_RECEIPT)
    account: Account = expected["account"]

    codes = decoded_qr_codes(response.content)
    assert len(codes) == 2, codes
    for text, width_mm in codes:
        assert text.startswith("ST00012|Name="), text
        assert width_mm >= MIN_QR_MM, width_mm
        # The mandatory keys first, in the standard's order.
        assert list(qr.parse_gost_payload(text))[:5] == list(qr.MANDATORY)

    utilities, fund = (qr.parse_gost_payload(text) for text, _ in codes)
    _check_qr(utilities, BILLING_CENTER, expected["total"], account.number, account.owner_name)
    assert utilities["Purpose"].startswith("Оплата ЖКУ")
    _check_qr(
        fund,
        CAPITAL_REPAIR_FUND,
        expected["fund_total"],
        capital_repair_number(apartment),
        account.owner_name,
    )
    assert fund["Purpose"].startswith("Взнос на капитальный ремонт")
    assert utilities["PayerAddress"] == fund["PayerAddress"] == account.address


async def test_meter_near_rollover_prints_its_readings(portal: Portal) -> None:
    """The electricity meter at 999 9xx kWh: its six-digit readings and a positive consumption."""
    response = await _get(portal, ROLLOVER_APARTMENT, "2026-10")
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    expected = await _expected(portal, ROLLOVER_APARTMENT, LAST_RECEIPT)
    for serial, value in expected["readings"]:
        assert f"{serial} " in text and value in text
    assert re.search(r"99\d{4} \d+ кВт·ч", text), text
    assert not re.search(r"-\d[\d ,]* кВт·ч", text), text


def test_consumption_past_rollover_continues_from_zero() -> None:
    record = MeterReadingRecord(
        service_name="Электроснабжение",
        unit="кВт·ч",
        serial_number="1",
        integer_digits=6,
        decimals=0,
        previous=Decimal(999_950),
        current=Decimal(40),
        rollover=True,
    )
    assert meter_line(record).consumption == Decimal(90)
    plain = meter_line(replace(record, current=Decimal(999_990), rollover=False))
    assert plain.consumption == Decimal(40)
    missing = meter_line(replace(record, current=None, rollover=False))
    assert missing.consumption is None and missing.previous == Decimal(999_950)


async def test_receipt_sends_a_fixed_number_of_statements(make_portal: PortalFactory) -> None:
    portal: Portal = await make_portal(cache_enabled=False)
    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    with counted_statements(portal) as statements:
        response = await portal.client.get("/api/v1/receipts/2026-03", headers=headers)
    assert response.status_code == 200, response.text
    # The session check, five reads of the receipt's facts, and billing's two totals (one each).
    assert len(statements) <= 1 + 5 + 2 * 1 + 1, statements


async def test_an_older_month_has_its_own_receipt(portal: Portal) -> None:
    response = await _get(portal, HAPPY_PATH_APARTMENT, "2024-02")
    assert response.status_code == 200, response.text
    expected = await _expected(portal, HAPPY_PATH_APARTMENT, dt.date(2024, 2, 1))
    text = pdf_text(response.content)
    assert "за февраль 2024" in text
    assert f"{TOTAL_CAPTION}: {_money(expected['total'])}" in text


# --- errors and access --------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2026-11", "2023-10", "2099-12"])
async def test_a_month_without_a_receipt_is_404(portal: Portal, period: str) -> None:
    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    for response in (
        await portal.client.get(f"/api/v1/receipts/{period}", headers=headers),
        await portal.client.post(f"/api/v1/receipts/{period}/email", headers=headers),
    ):
        assert response.status_code == 404, response.text
        body = response.json()
        assert body["code"] == "receipt_not_found"
        assert body["field"] == "period"
        assert "Квитанции за" in body["message"]
    assert portal.letters() == []


@pytest.mark.parametrize(
    "period", ["2026-13", "2026-00", "2026-1", "26-10", "2026-10-01", "1999-12", "октябрь"]
)
async def test_a_malformed_month_is_422(portal: Portal, period: str) -> None:
    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    response = await portal.client.get(f"/api/v1/receipts/{period}", headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_period"
    assert body["field"] == "period"
    assert "ГГГГ-ММ" in body["message"]


async def test_receipts_need_a_login(portal: Portal) -> None:
    for response in (
        await portal.client.get("/api/v1/receipts/2026-10"),
        await portal.client.post("/api/v1/receipts/2026-10/email"),
        await portal.client.get("/api/v1/receipts/2026-10", headers={"Authorization": "Bearer forged"}),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["code"] in {"not_authenticated", "session_expired"}


async def test_each_token_gets_its_own_accounts_receipt(portal: Portal) -> None:
    """The URL names only the month: the account is the session's, so nobody reads another's receipt."""
    other = HAPPY_PATH_APARTMENT + 2
    mine = await _get(portal, HAPPY_PATH_APARTMENT, "2026-10")
    theirs = await _get(portal, other, "2026-10")
    assert mine.status_code == theirs.status_code == 200
    mine_text, theirs_text = pdf_text(mine.content), pdf_text(theirs.content)
    assert account_number(HAPPY_PATH_APARTMENT) in mine_text
    assert account_number(other) not in mine_text
    assert account_number(other) in theirs_text
    assert account_number(HAPPY_PATH_APARTMENT) not in theirs_text
    assert account_number(other) in theirs.headers["content-disposition"]
    # Query parameters naming another account change nothing.
    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    sneaky = await portal.client.get(
        "/api/v1/receipts/2026-10", params={"account_number": account_number(other)}, headers=headers
    )
    assert sneaky.status_code == 200
    assert account_number(other) not in pdf_text(sneaky.content)


# --- by e-mail ----------------------------------------------------------------------------------------


async def test_receipt_is_mailed_with_the_pdf_attached(portal: Portal) -> None:
    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    response = await portal.client.post("/api/v1/receipts/2026-10/email", headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    address = demo_email(HAPPY_PATH_APARTMENT)
    assert body["email_masked"] == f"{address[0]}***@{address.split('@')[1]}"
    assert body["email_masked"] in body["message"] and "октябрь 2026" in body["message"]
    assert address not in response.text

    (letter,) = portal.letters()
    assert letter["To"] == address
    assert "октябрь 2026" in letter["Subject"]
    (attachment,) = list(letter.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"receipt-{account_number(HAPPY_PATH_APARTMENT)}-2026-10.pdf"
    pdf = attachment.get_content()
    text = pdf_text(pdf)
    expected = await _expected(portal, HAPPY_PATH_APARTMENT, LAST_RECEIPT)
    assert f"{TOTAL_CAPTION}: {_money(expected['total'])}" in text
    body_part = letter.get_body(preferencelist=("plain",))
    assert body_part is not None and "во вложении" in body_part.get_content()


def _letter() -> OutgoingMail:
    return OutgoingMail(
        to="resident@example.ru",
        subject="Квитанция",
        body="Во вложении.",
        attachments=(Attachment("receipt.pdf", "application/pdf", b"%PDF-1.4 test \x00\xff"),),
    )


async def test_maildir_letter_carries_its_attachment(tmp_path: Path) -> None:
    mailer = Mailer(Settings(secret_key="x" * 40, outbox_dir=tmp_path / "outbox", data_dir=tmp_path))
    assert await mailer.send(_letter())
    (letter,) = read_outbox(tmp_path / "outbox")
    (attachment,) = list(letter.iter_attachments())
    assert attachment.get_filename() == "receipt.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test \x00\xff"


async def test_smtp_letter_carries_its_attachment(tmp_path: Path) -> None:
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.original_content)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = Settings(
            secret_key="x" * 40, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, data_dir=tmp_path
        )
        assert await Mailer(settings).send(_letter())
    finally:
        controller.stop()
    (raw,) = received
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.4 test \x00\xff"


# --- the ГОСТ payload ---------------------------------------------------------------------------------


def _fields(**changes: str) -> dict[str, str]:
    fields = qr.payment_fields(
        BILLING_CENTER,
        sum_kopecks=102312,
        purpose="Оплата ЖКУ за 10.2026, л/с 3500012007",
        payer_account="3500012007",
        period=LAST_RECEIPT,
        payer_name="Иванов Иван Иванович",
        payer_address="г. Вологда, ул. Ленина, д. 12, кв. 7",
    )
    fields.update(changes)
    return fields


def test_payload_has_the_mandatory_keys_first_in_order() -> None:
    fields = _fields()
    shuffled = dict(reversed(list(fields.items())))
    payload = qr.gost_payload(shuffled)
    assert payload == (
        "ST00012|Name=ООО «Расчётный центр «Кабинет»|PersonalAcc=40702810500000012345"
        "|BankName=АО «Северный демо-банк»|BIC=041909701|CorrespAcc=30101810500000000701"
        "|Sum=102312|Purpose=Оплата ЖКУ за 10.2026, л/с 3500012007|PayeeINN=3525012347|KPP=352501001"
        "|PersAcc=3500012007|PaymPeriod=102026|LastName=Иванов"
        "|PayerAddress=г. Вологда, ул. Ленина, д. 12, кв. 7|TechCode=02"
    )
    assert qr.parse_gost_payload(payload) == fields


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("Purpose", "Оплата | ЖКУ", "separator"),
        ("Name", "ООО|Ромашка", "separator"),
        ("PayerAddress", "ул. Ленина\nд. 12", "control"),
        ("Name", "Я" * 161, "at most 160"),
        ("Purpose", "П" * 161, "at most 160"),
        ("BankName", "Б" * 46, "at most 45"),
        ("LastName", "Ф" * 61, "at most 60"),
        ("PersonalAcc", "4070281050000001234", "20 цифр"),
        ("PersonalAcc", "4070281050000001234X", "20 цифр"),
        ("BIC", "04190970", "9 цифр"),
        ("CorrespAcc", "301018105", "20 цифр или 0"),
        ("Sum", "1023.12", "копейках"),
        ("Sum", "-100", "копейках"),
        ("PayeeINN", "35250123", "10 или 12"),
        ("KPP", "35250100", "9 цифр"),
        ("PaymPeriod", "132026", "ММГГГГ"),
        ("TechCode", "2", "01–15"),
        ("Purpose", "", "empty"),
        ("Unknown", "x", "unknown keys"),
    ],
)
def test_payload_refuses_bad_values(key: str, value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        qr.gost_payload(_fields(**{key: value}))


def test_payload_needs_every_mandatory_key() -> None:
    for key in qr.MANDATORY:
        fields = _fields()
        del fields[key]
        with pytest.raises(ValueError, match="mandatory"):
            qr.gost_payload(fields)
    assert qr.gost_payload({**_fields(), "CorrespAcc": "0"}).count("|CorrespAcc=0|") == 1


def test_free_text_is_cleaned_before_it_reaches_the_payload() -> None:
    """Names and addresses come from the database: a stray `|` or line break must not break the code."""
    fields = qr.payment_fields(
        CAPITAL_REPAIR_FUND,
        sum_kopecks=0,
        purpose="Взнос",
        payer_account="352100120007",
        period=LAST_RECEIPT,
        payer_name="  Петров|Водкин  Кузьма ",
        payer_address="г. Вологда,\nул. Ленина | д. 12",
    )
    payload = qr.gost_payload(fields)
    parsed = qr.parse_gost_payload(payload)
    assert parsed["LastName"] == "Петров/Водкин"
    assert parsed["PayerAddress"] == "г. Вологда, ул. Ленина / д. 12"
    assert parsed["Sum"] == "0"
    with pytest.raises(ValueError, match="negative"):
        qr.payment_fields(
            BILLING_CENTER,
            sum_kopecks=-1,
            purpose="x",
            payer_account="1",
            period=LAST_RECEIPT,
            payer_name="",
            payer_address="",
        )


def test_demo_requisites_pass_the_bank_control_keys() -> None:
    """Banking apps check the accounts against the BIC: the demo numbers must pass like real ones."""

    def control_ok(prefix: str, account: str) -> bool:
        digits = prefix + account
        assert len(digits) == 23 and digits.isdigit()
        weights = ([7, 1, 3] * 8)[:23]
        return sum(int(d) * w % 10 for d, w in zip(digits, weights, strict=True)) % 10 == 0

    def inn_ok(inn: str) -> bool:
        weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
        return sum(int(d) * w for d, w in zip(inn, weights, strict=False)) % 11 % 10 == int(inn[9])

    for payee in (BILLING_CENTER, CAPITAL_REPAIR_FUND):
        assert control_ok(payee.bic[-3:], payee.account)
        assert control_ok("0" + payee.bic[4:6], payee.correspondent_account)
        assert inn_ok(payee.inn)
        assert len(payee.kpp) == 9 and payee.kpp.isdigit()
        assert len(payee.name) <= 160 and len(payee.bank_name) <= 45
    assert CAPITAL_REPAIR_FUND.account.startswith("40604")  # the regional operator's special account


async def test_services_table_lists_every_service_of_the_month(portal: Portal) -> None:
    """The capital repair service is the fund's: not in the utilities table, only in its own block."""
    response = await _get(portal, HAPPY_PATH_APARTMENT, "2026-10")
    text = pdf_text(response.content)
    async with portal.state.sessionmaker() as session:
        names = (await session.execute(select(Service.name, Service.payee))).all()
    table = text.split(TOTAL_CAPTION)[0]
    for name, payee in names:
        if payee == Payee.BILLING_CENTER.value:
            assert name in table
        else:
            assert name not in table


# --- payment codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("apartment", [HAPPY_PATH_APARTMENT, DEBTOR_APARTMENT])
async def test_payment_codes_are_the_pdfs_qr_codes(portal: Portal, apartment: int) -> None:
    headers = await portal.login(account_number(apartment), DEMO_PASSWORD)
    response = await portal.client.get("/api/v1/receipts/2026-10/payment-codes", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    pdf = await portal.client.get("/api/v1/receipts/2026-10", headers=headers)
    printed = [text for text, _ in decoded_qr_codes(pdf.content)]
    assert body["period"] == "2026-10"
    assert [body["utilities"]["payload"], body["capital_repair"]["payload"]] == printed
    expected = await _expected(portal, apartment, LAST_RECEIPT)
    assert body["utilities"]["amount_kopecks"] == expected["total"]
    assert body["capital_repair"]["amount_kopecks"] == expected["fund_total"]
    for code in (body["utilities"], body["capital_repair"]):
        fields = qr.parse_gost_payload(code["payload"])
        assert fields["Sum"] == str(code["amount_kopecks"])


async def test_payment_codes_errors(portal: Portal) -> None:
    assert (await portal.client.get("/api/v1/receipts/2026-10/payment-codes")).status_code == 401
    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    missing = await portal.client.get("/api/v1/receipts/2031-01/payment-codes", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "receipt_not_found"
    bad = await portal.client.get("/api/v1/receipts/2026-13/payment-codes", headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "period"


def test_qr_symbol_holds_the_utf8_bytes_without_eci() -> None:
    """Banking apps read the bytes as the ``ST00012`` header says (UTF-8): no ECI header may precede them."""
    from PIL import Image

    from portal.receipts.render import qr_matrix

    payload = "ST00012|Name=ООО «Расчётный центр»|PersonalAcc=40702810900000012345|Sum=102312"
    matrix = qr_matrix(payload)
    size = len(matrix) + 8
    image = Image.new("L", (size, size), 255)
    for y, row in enumerate(matrix):
        for x, module in enumerate(row):
            if module & 1:
                image.putpixel((x + 4, y + 4), 0)
    image = image.resize((size * 6, size * 6), Image.Resampling.NEAREST)
    barcode = zxingcpp.read_barcode(image, text_mode=zxingcpp.TextMode.HexECI)
    assert barcode is not None
    assert barcode.text.startswith("5D 51 31 ")  # ]Q1: a QR code without ECI
    plain = zxingcpp.read_barcode(image)
    assert plain is not None and plain.bytes == payload.encode("utf-8") and plain.text == payload


# --- «Отправить на e-mail» is rate-limited ------------------------------------------------------------


async def test_receipt_letters_pause_after_a_few(portal: Portal) -> None:
    from portal.receipts.service import RECEIPT_EMAIL_PAUSE, RECEIPT_EMAILS_IN_A_ROW

    headers = await portal.login(account_number(HAPPY_PATH_APARTMENT), DEMO_PASSWORD)
    mail = "/api/v1/receipts/2026-10/email"
    for _ in range(RECEIPT_EMAILS_IN_A_ROW):
        assert (await portal.client.post(mail, headers=headers)).status_code == 202
    refused = await portal.client.post(mail, headers=headers)
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "too_many_receipt_emails"
    assert 0 < int(refused.headers["Retry-After"]) <= RECEIPT_EMAIL_PAUSE.total_seconds() + 1
    assert len(portal.letters()) == RECEIPT_EMAILS_IN_A_ROW

    # Another account is not held up by this one.
    other = await portal.login(account_number(DEBTOR_APARTMENT), DEMO_PASSWORD)
    assert (await portal.client.post(mail, headers=other)).status_code == 202

    # After the pause the account may send again.
    portal.clock.advance(RECEIPT_EMAIL_PAUSE + dt.timedelta(seconds=1))
    assert (await portal.client.post(mail, headers=headers)).status_code == 202
