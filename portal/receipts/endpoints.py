"""Routes of the receipt: the month's PDF, and the same PDF mailed to the registered address.

The account always comes from the session. Drawing the PDF is CPU work: it runs in a worker thread,
after the request's transaction has ended so that the database connection is free meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Response
from starlette.convertors import Convertor, register_url_convertor

from portal.auth.dependencies import CurrentResident
from portal.kit.deps import DbSession, State
from portal.kit.errors import error_responses, unprocessable
from portal.receipts import render, service
from portal.receipts.document import ReceiptDocument
from portal.receipts.schemas import PaymentCodes, ReceiptMailed

router = APIRouter(prefix="/receipts", tags=["receipts"])


class _MonthSegment(Convertor[str]):
    """``{period:month}``: any one segment but a word of Latin letters, which names a sub-path, never a
    month. ``/receipts/email`` (a POST whose month was the dot segment ``.``) is then no path (404)
    rather than the GET route's 405; every other wrong month reaches :func:`service.parse_period`,
    whose 422 names the format."""

    regex = r"(?![A-Za-z]+(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("month", _MonthSegment())

#: The month in the URL. The pattern is documented, and checked by :func:`service.parse_period` with a
#: message naming the format (FastAPI's own check would only say "invalid").
Period = Annotated[
    str,
    Path(
        description="Месяц квитанции, ГГГГ-ММ.",
        examples=["2026-10"],
        json_schema_extra={"pattern": service.PERIOD_PATTERN},
    ),
]

_UNPROCESSABLE = unprocessable(formats=("invalid_period",))

_PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The receipt, a one-page A4 PDF.",
        "content": {service.PDF_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def _receipt(state: State, session: DbSession, account_id: int, period_text: str) -> ReceiptDocument:
    period = service.parse_period(period_text)
    document = await service.build_receipt(session, account_id, period, state.clock.today())
    return document


@router.get(
    "/{period:month}",
    response_class=Response,
    summary="Квитанция за месяц (PDF, A4): начисления, показания, итог к оплате и QR-коды для оплаты",
    responses={**_PDF_RESPONSE, **error_responses(401, 404), **_UNPROCESSABLE},
)
async def receipt_pdf(
    period: Period, state: State, session: DbSession, principal: CurrentResident
) -> Response:
    document = await _receipt(state, session, principal.account_id, period)
    # Reads only: end the transaction now, so the connection serves others while the page is drawn.
    await session.commit()
    pdf = await asyncio.to_thread(render.render_receipt, document)
    filename = service.receipt_filename(document.account_number, document.period)
    return Response(
        pdf,
        media_type=service.PDF_CONTENT_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # A resident's document: no shared cache keeps it.
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/{period:month}/payment-codes",
    response_model=PaymentCodes,
    summary="Платёжные QR-коды квитанции (ГОСТ Р 56042-2014): ЖКУ и взнос на капитальный ремонт",
    description="Тот же текст, что в QR-кодах PDF-квитанции за месяц, и суммы к оплате.",
    responses={**error_responses(401, 404), **_UNPROCESSABLE},
)
async def receipt_payment_codes(
    period: Period, state: State, session: DbSession, principal: CurrentResident
) -> PaymentCodes:
    document = await _receipt(state, session, principal.account_id, period)
    return service.payment_codes(document)


@router.post(
    "/{period:month}/email",
    status_code=202,
    response_model=ReceiptMailed,
    summary="Отправить квитанцию за месяц (PDF) на e-mail, указанный при регистрации",
    description=(
        f"Не более {service.RECEIPT_EMAILS_IN_A_ROW} писем подряд, затем пауза "
        f"{int(service.RECEIPT_EMAIL_PAUSE.total_seconds()) // 60} минут (429 `too_many_receipt_emails`, "
        "заголовок Retry-After)."
    ),
    responses={**error_responses(401, 404, 429), **_UNPROCESSABLE},
)
async def mail_receipt(
    period: Period,
    state: State,
    session: DbSession,
    principal: CurrentResident,
    background: BackgroundTasks,
) -> ReceiptMailed:
    document = await _receipt(state, session, principal.account_id, period)
    email = await service.recipient(session, principal.account_id)
    # Counted only for a month that has a receipt, and committed with the request before drawing.
    await service.count_receipt_letter(session, principal.account_id, state.clock.now())
    await session.commit()
    pdf = await asyncio.to_thread(render.render_receipt, document)
    # Sent after the answer: the resident does not wait for the mail server.
    background.add_task(state.mailer.send, service.receipt_letter(email, document, pdf))
    message, masked = service.mailed_message(email, document.period)
    return ReceiptMailed(message=message, email_masked=masked)
