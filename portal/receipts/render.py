"""The receipt as a one-page A4 PDF (reportlab canvas) with its two payment QR codes, sharp at any scale.

Blocks top to bottom as DOMAIN.md lists them: payee and payer; the services table; the meter readings;
the balance; «ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ» with the billing
center's QR code; the separate block «РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ» with the fund's QR code.

Drawing is pure CPU work on a :class:`~portal.receipts.document.ReceiptDocument`: the portal runs it in a
worker thread. Cyrillic comes from DejaVu Sans, bundled in ``portal/fonts`` with its licence.
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal
from pathlib import Path

import zxingcpp
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from portal.money import format_rubles
from portal.receipts.document import MeterLine, PayeeSection, ReceiptDocument
from portal.receipts.service import month_name

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

TOTAL_CAPTION = "ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ, БЕЗ УЧЕТА КОМИССИИ ЗА ПЛАТЕЖ"
CAPITAL_REPAIR_CAPTION = "РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 12 * mm
LEFT, RIGHT = MARGIN, PAGE_WIDTH - MARGIN
WIDTH = RIGHT - LEFT
#: The QR symbol's side without its quiet zone: 40 mm keeps a module near 0.45 mm even for the longer
#: payload of the fund (version 19, 93 modules), which a phone camera reads comfortably from paper.
QR_SIZE = 40 * mm
#: The quiet zone the standard asks for, in modules: nothing is drawn there.
QR_QUIET_MODULES = 4
#: Error correction M survives a fold or a smudge on paper.
QR_ERROR = "M"

ROW = 11.5  # table row height, pt
GRID = 0.4  # line width of table rules, pt
SHADE = 0.9  # grey of table headers

_fonts_lock = threading.Lock()
_fonts_ready = False
#: reportlab keeps per-document font subsets inside the shared TTFont objects: documents are drawn
#: one at a time. Drawing is CPU-bound Python, so threads would not run it in parallel anyway.
_render_lock = threading.Lock()


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab, once per process."""
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        # Streams are deflated and left binary: ASCII85 on top only makes them a quarter larger and
        # slower to write. (A process-wide reportlab setting; receipts are its only user here.)
        rl_config.useA85 = 0
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
        _fonts_ready = True


# --- formatting ---------------------------------------------------------------------------------------


def money(kopecks: int) -> str:
    """``1 023,12`` (thousands separated by a non-breaking space), as the receipt's columns print it."""
    return format_rubles(kopecks).removesuffix(" ₽")


def rubles(kopecks: int) -> str:
    """``1 023,12 ₽``."""
    return format_rubles(kopecks)


def decimal_text(value: Decimal, places: int | None = None) -> str:
    """A decimal with a comma: exactly ``places`` decimals, or without trailing zeros when None."""
    # ``normalize`` drops trailing zeros (and writes 100 as 1E+2, which the ``f`` format undoes).
    text = f"{value:.{places}f}" if places is not None else f"{value.normalize():f}"
    return text.replace(".", ",")


# --- drawing helpers ----------------------------------------------------------------------------------


class _Page:
    """A canvas with a cursor moving down the page and the few drawing moves the receipt needs."""

    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.y = PAGE_HEIGHT - MARGIN

    def text(self, x: float, y: float, text: str, size: float = 7.5, *, bold: bool = False) -> None:
        self.c.setFont(BOLD if bold else REGULAR, size)
        self.c.drawString(x, y, text)

    def right(self, x: float, y: float, text: str, size: float = 7.5, *, bold: bool = False) -> None:
        self.c.setFont(BOLD if bold else REGULAR, size)
        self.c.drawRightString(x, y, text)

    def fitted(self, x: float, y: float, text: str, width: float, size: float, *, bold: bool = False) -> None:
        """One line, made smaller if it would not fit ``width`` (never cut, never overlapping)."""
        font = BOLD if bold else REGULAR
        actual = pdfmetrics.stringWidth(text, font, size)
        if actual > width:
            size = size * width / actual
        self.text(x, y, text, size, bold=bold)

    def wrapped(
        self, x: float, y: float, text: str, width: float, size: float = 7.5, *, bold: bool = False
    ) -> float:
        """``text`` wrapped to ``width``; returns the baseline of the last line."""
        lines = simpleSplit(text, BOLD if bold else REGULAR, size, width)
        for index, line in enumerate(lines):
            self.text(x, y - index * size * 1.25, line, size, bold=bold)
        return y - (len(lines) - 1) * size * 1.25

    def rule(self, x1: float, y: float, x2: float, width: float = GRID) -> None:
        self.c.setLineWidth(width)
        self.c.line(x1, y, x2, y)

    def section_title(self, title: str) -> None:
        self.y -= 11
        self.text(LEFT, self.y, title, 8.5, bold=True)
        self.y -= 4


class _Column:
    def __init__(self, title: str, width: float, *, right: bool = False) -> None:
        self.title = title
        self.width = width
        self.right = right


def _table(page: _Page, columns: list[_Column], rows: list[list[str]], *, bold_last: bool = False) -> None:
    """A ruled table under the cursor: a shaded header (titles may hold one line break), then rows."""
    c = page.c
    header_lines = max(column.title.count("\n") + 1 for column in columns)
    header_height = 3 + 8.5 * header_lines
    top = page.y
    xs = [LEFT]
    for column in columns:
        xs.append(xs[-1] + column.width)

    c.setFillGray(SHADE)
    c.rect(LEFT, top - header_height, WIDTH, header_height, fill=1, stroke=0)
    c.setFillGray(0)
    for column, x in zip(columns, xs[:-1], strict=True):
        for index, line in enumerate(column.title.split("\n")):
            baseline = top - 8 - index * 8.5
            if column.right:
                page.right(x + column.width - 3, baseline, line, 6.8, bold=True)
            else:
                page.text(x + 3, baseline, line, 6.8, bold=True)
    y = top - header_height
    for row_index, row in enumerate(rows):
        bold = bold_last and row_index == len(rows) - 1
        baseline = y - ROW + 3.2
        for column, x, cell in zip(columns, xs[:-1], row, strict=True):
            if column.right:
                page.right(x + column.width - 3, baseline, cell, 7.5, bold=bold)
            else:
                page.fitted(x + 3, baseline, cell, column.width - 6, 7.5, bold=bold)
        y -= ROW
    c.setLineWidth(GRID)
    c.rect(LEFT, y, WIDTH, top - y, fill=0, stroke=1)
    for x in xs[1:-1]:
        c.line(x, top, x, y)
    c.line(LEFT, top - header_height, RIGHT, top - header_height)
    for index in range(1, len(rows)):
        row_y = top - header_height - index * ROW
        c.line(LEFT, row_y, RIGHT, row_y)
    page.y = y


#: Module values → ASCII ``1`` for dark (odd) and ``0`` for light: a row becomes a binary number.
_BITS = bytes(ord("1") if value & 1 else ord("0") for value in range(256))
#: zxing-cpp's pixels (0 black, 255 white) → module values (1 dark, 0 light).
_DARK_MODULES = bytes(1 if value < 128 else 0 for value in range(256))


def qr_matrix(payload: str) -> tuple[bytes, ...]:
    """The modules of ``payload``'s QR symbol, row by row (odd = dark), without the quiet zone.

    zxing-cpp's encoder (C++) picks the version and scores all eight masks in about 2 ms a code, where
    segno took 11 ms with one fixed mask. It is given the UTF-8 **bytes** with ``eci=0``: a ``str``
    would be re-encoded as windows-1251 (contradicting ``ST00012``, UTF-8), and bytes alone get an ECI
    header "binary" (899) that makes readers show the Cyrillic as Latin-1. This way the symbol holds
    exactly the payload's UTF-8 bytes in byte mode, with no ECI, as banking apps expect.
    """
    code = zxingcpp.create_barcode(
        payload.encode("utf-8"), zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR, eci=0
    )
    image = code.to_image(scale=1, add_quiet_zones=False)
    modules = image.shape[1]
    # The image is a buffer of 8-bit pixels (its stub does not say so).
    pixels = bytes(memoryview(image)).translate(_DARK_MODULES)  # type: ignore[arg-type]
    return tuple(pixels[start : start + modules] for start in range(0, len(pixels), modules))


def _qr(page: _Page, matrix: tuple[bytes, ...], x: float, y: float) -> None:
    """The QR symbol, ``QR_SIZE`` square, with its lower left corner (quiet zone excluded) at ``(x, y)``.

    Drawn as an inline 1-bit image mask, one bit per module, scaled up by the page's transform and
    painted black where a module is dark. Sharp edges: PDF does not interpolate an image unless it asks
    for it (no ``/I true`` here). A kilobyte per code, where one vector rectangle per run of dark
    modules took 35 KB of page content and longer to write than the rest of the page.
    """
    modules = len(matrix)
    pad = b"0" * (-modules % 8)  # every row of an image starts on a byte boundary
    rows = b"".join(int(row.translate(_BITS) + pad, 2).to_bytes((modules + 7) // 8, "big") for row in matrix)
    page.c.addLiteral(
        f"q {QR_SIZE:.4f} 0 0 {QR_SIZE:.4f} {x:.4f} {y:.4f} cm\n"
        # /IM true: a stencil mask painted in the fill colour (black) where the bit is 1 (/D [1 0]).
        f"BI /W {modules} /H {modules} /BPC 1 /IM true /D [1 0] /F /AHx ID\n{rows.hex()}>\nEI Q"
    )


# --- the blocks ---------------------------------------------------------------------------------------


def _header(page: _Page, document: ReceiptDocument) -> None:
    page.y -= 10
    page.text(LEFT, page.y, "ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ (КВИТАНЦИЯ)", 11, bold=True)
    page.right(RIGHT, page.y, f"за {month_name(document.period)}", 11, bold=True)
    page.y -= 5
    page.rule(LEFT, page.y, RIGHT, 1)


def _parties(page: _Page, document: ReceiptDocument) -> None:
    payee = document.utilities.requisites
    half = WIDTH / 2 - 6
    left_x, right_x = LEFT, LEFT + WIDTH / 2 + 6
    top = page.y - 11

    y = top
    page.text(left_x, y, "Получатель платежа (исполнитель услуг)", 7, bold=True)
    y = page.wrapped(left_x, y - 10, payee.name, half, 8, bold=True)
    for line in (
        f"ИНН {payee.inn}, КПП {payee.kpp}",
        f"Р/с {payee.account} в {payee.bank_name}",
        f"БИК {payee.bic}, к/с {payee.correspondent_account}",
        f"{payee.address}, тел. {payee.phone}",
    ):
        y -= 9.5
        page.fitted(left_x, y, line, half, 7.5)
    left_bottom = y

    y = top
    page.text(right_x, y, "Плательщик", 7, bold=True)
    y = page.wrapped(right_x, y - 10, document.owner_name, half, 8, bold=True)
    y = page.wrapped(right_x, y - 9.5, f"Адрес: {document.address}", half, 7.5)
    y -= 11
    page.text(right_x, y, f"Лицевой счёт: {document.account_number}", 9, bold=True)
    y -= 10
    page.text(right_x, y, f"Расчётный период: {month_name(document.period)} ({document.period:%m.%Y})", 7.5)
    y -= 9.5
    page.text(
        right_x,
        y,
        f"Общая площадь: {decimal_text(document.area_m2, 2)} м²    "
        f"Зарегистрировано: {document.residents} чел.",
        7.5,
    )
    page.y = min(left_bottom, y) - 6
    page.rule(LEFT, page.y, RIGHT)


def _services(page: _Page, document: ReceiptDocument) -> None:
    section = document.utilities
    page.section_title("Расчёт размера платы за жилищно-коммунальные услуги")
    columns = [
        _Column("Вид услуги", 0),
        _Column("Ед.\nизм.", 34),
        _Column("Объём", 50, right=True),
        _Column("Тариф,\nруб.", 50, right=True),
        _Column("Начислено,\nруб.", 66, right=True),
        _Column("Перерасчёт,\nруб.", 66, right=True),
        _Column("Итого,\nруб.", 66, right=True),
    ]
    columns[0].width = WIDTH - sum(column.width for column in columns)
    rows: list[list[str]] = []
    for line in section.lines:
        rows.append(
            [
                line.service_name,
                line.unit,
                decimal_text(line.volume),
                money(line.tariff_kopecks),
                money(line.charged_kopecks),
                money(line.recalculation_kopecks),
                money(line.total_kopecks),
            ]
        )
    rows.append(
        [
            f"Итого по исполнителю: {section.requisites.short_name}",
            "",
            "",
            "",
            money(section.charged_kopecks),
            money(section.recalculation_kopecks),
            money(section.charged_kopecks + section.recalculation_kopecks + section.penalties_kopecks),
        ]
    )
    _table(page, columns, rows, bold_last=True)


def _reading(value: Decimal | None, meter: MeterLine) -> str:
    return "—" if value is None else decimal_text(value, meter.decimals)


def _meters(page: _Page, document: ReceiptDocument) -> None:
    page.section_title("Показания индивидуальных приборов учёта")
    columns = [
        _Column("Услуга", 0),
        _Column("Заводской номер", 100),
        _Column("Предыдущее", 78, right=True),
        _Column("Текущее", 78, right=True),
        _Column("Расход за период", 86, right=True),
    ]
    columns[0].width = WIDTH - sum(column.width for column in columns)
    rows: list[list[str]] = []
    for meter in document.meters:
        current = "не передано" if meter.current is None else _reading(meter.current, meter)
        consumption = "—"
        if meter.consumption is not None:
            consumption = f"{_reading(meter.consumption, meter)} {meter.unit}"
        rows.append(
            [
                f"{meter.service_name}, {meter.unit}",
                meter.serial_number,
                _reading(meter.previous, meter),
                current,
                consumption,
            ]
        )
    if not rows:
        rows.append(["Приборов учёта нет", "", "", "", ""])
    _table(page, columns, rows)


#: Payments listed one by one; more are summed up, so the block keeps its place on the page.
MAX_LISTED_PAYMENTS = 4


def _payments_text(section: PayeeSection) -> str:
    if not section.payments:
        return "Платежей в этом месяце не поступало."
    shown, rest = section.payments[:MAX_LISTED_PAYMENTS], section.payments[MAX_LISTED_PAYMENTS:]
    listed = "; ".join(f"{p.paid_on:%d.%m.%Y} — {rubles(p.amount_kopecks)}" for p in shown)
    if rest:
        listed += f"; ещё {len(rest)} на {rubles(sum(p.amount_kopecks for p in rest))}"
    return f"Поступившие платежи: {listed}."


def _balance(page: _Page, document: ReceiptDocument) -> None:
    section = document.utilities
    page.section_title("Состояние расчётов за жилищно-коммунальные услуги, руб.")
    columns = [
        _Column("Задолженность (+) / аванс (−)\nна начало месяца", 0, right=True),
        _Column("Начислено\nза месяц", 82, right=True),
        _Column("Перерасчёт", 82, right=True),
        _Column("Оплачено\nв месяце", 82, right=True),
        _Column("Пени", 60, right=True),
        _Column("Итого\nк оплате", 90, right=True),
    ]
    columns[0].width = WIDTH - sum(column.width for column in columns)
    _table(
        page,
        columns,
        [
            [
                money(section.opening_kopecks),
                money(section.charged_kopecks),
                money(section.recalculation_kopecks),
                money(section.paid_kopecks),
                money(section.penalties_kopecks),
                money(section.total_kopecks),
            ]
        ],
    )
    page.y = page.wrapped(LEFT, page.y - 10, _payments_text(section), WIDTH, 7)


def _payment_box(page: _Page, section: PayeeSection, caption: str, lines: list[str], qr_label: str) -> None:
    """A framed block: the caption and amount at the left, the payee's QR code (with its label) right."""
    matrix = qr_matrix(section.qr_payload)
    # The quiet zone the layout keeps empty around the symbol, in points.
    quiet = QR_QUIET_MODULES * QR_SIZE / len(matrix)
    qr_box = QR_SIZE + 2 * quiet
    label_size = 6.5
    label_lines = simpleSplit(qr_label, REGULAR, label_size, qr_box - 8)
    height = qr_box + len(label_lines) * 8 + 4
    page.y -= 8
    top, bottom = page.y, page.y - height
    page.c.setLineWidth(0.8)
    page.c.rect(LEFT, bottom, WIDTH, height, fill=0, stroke=1)
    qr_left = RIGHT - qr_box
    page.c.setLineWidth(GRID)
    page.c.line(qr_left, bottom, qr_left, top)

    # The QR symbol sits inside its quiet zone; the label goes under the zone, not into it.
    _qr(page, matrix, qr_left + quiet, top - quiet - QR_SIZE)
    label_y = top - qr_box - 6
    for index, line in enumerate(label_lines):
        width = pdfmetrics.stringWidth(line, REGULAR, label_size)
        page.text(qr_left + (qr_box - width) / 2, label_y - index * 8, line, label_size)

    text_x, text_width = LEFT + 6, qr_left - LEFT - 12
    y = top - 14
    page.fitted(text_x, y, caption, text_width, 9.5, bold=True)
    y -= 20
    page.text(text_x, y, rubles(section.total_kopecks), 16, bold=True)
    y -= 6
    for line in lines:
        # Each line is one fact (a name, a bank account): shrunk to fit rather than broken in two.
        y -= 9.5
        page.fitted(text_x, y, line, text_width, 7.2)
    page.y = bottom


def _total(page: _Page, document: ReceiptDocument) -> None:
    section = document.utilities
    payee = section.requisites
    _payment_box(
        page,
        section,
        f"{TOTAL_CAPTION}:",
        [
            f"за {month_name(document.period)}, лицевой счёт {document.account_number}",
            f"Получатель: {payee.name}, ИНН {payee.inn}, КПП {payee.kpp}",
            f"Р/с {payee.account} в {payee.bank_name}",
            f"БИК {payee.bic}, к/с {payee.correspondent_account}",
            "Сумма не включает взнос на капитальный ремонт: он оплачивается отдельно (блок ниже).",
            "Оплатить без ввода реквизитов: отсканируйте QR-код справа в приложении банка.",
        ],
        f"QR-код для оплаты ЖКУ. Получатель: {payee.short_name}",
    )


def _capital_repair(page: _Page, document: ReceiptDocument, section: PayeeSection) -> None:
    fund = section.requisites
    area = decimal_text(document.area_m2, 2)
    charged = " ".join(
        f"{area} м² × {money(line.tariff_kopecks)} руб. = {money(line.charged_kopecks)} руб."
        for line in section.lines
    )
    _payment_box(
        page,
        section,
        CAPITAL_REPAIR_CAPTION,
        [
            f"Лицевой счёт в фонде: {section.payer_account}",
            f"Взнос за {month_name(document.period)}: {charged or money(section.charged_kopecks)}; "
            f"перерасчёт {money(section.recalculation_kopecks)} руб.; "
            f"пени {money(section.penalties_kopecks)} руб.",
            f"Задолженность (+) / аванс (−) на начало месяца: {money(section.opening_kopecks)} руб.; "
            f"оплачено в месяце: {money(section.paid_kopecks)} руб.",
            f"Получатель: {fund.name}",
            f"ИНН {fund.inn}, КПП {fund.kpp}",
            f"Р/с {fund.account} в {fund.bank_name}",
            f"БИК {fund.bic}, к/с {fund.correspondent_account}",
        ],
        f"QR-код для оплаты взноса. Получатель: {fund.short_name}",
    )


def _footer(page: _Page, document: ReceiptDocument) -> None:
    page.text(
        LEFT,
        MARGIN - 4,
        f"Сформировано в личном кабинете {document.issued_on:%d.%m.%Y}. "
        "Комиссию за платёж устанавливает банк или платёжный сервис.",
        6.5,
    )


def render_receipt(document: ReceiptDocument) -> bytes:
    """The receipt as the bytes of a one-page A4 PDF."""
    register_fonts()
    buffer = io.BytesIO()
    with _render_lock:
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=True)
        canvas.setTitle(f"Квитанция за {month_name(document.period)}, лицевой счёт {document.account_number}")
        canvas.setAuthor(document.utilities.requisites.name)
        page = _Page(canvas)
        _header(page, document)
        _parties(page, document)
        _services(page, document)
        _meters(page, document)
        _balance(page, document)
        _total(page, document)
        if document.capital_repair is not None:
            _capital_repair(page, document, document.capital_repair)
        _footer(page, document)
        canvas.showPage()
        canvas.save()
    return buffer.getvalue()
