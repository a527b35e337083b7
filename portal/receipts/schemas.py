"""Request and response bodies of the receipt routes (the PDF itself is the body of the GET)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from portal.periods import Month


class ReceiptMailed(BaseModel):
    """The receipt is on its way to the registered e-mail."""

    message: str = Field(examples=["Квитанция за октябрь 2026 отправлена на e-mail i***@example.ru."])
    email_masked: str = Field(
        description="The registered address with most of it hidden.", examples=["i***@example.ru"]
    )


class PaymentCode(BaseModel):
    """One payee's payment QR code of the receipt: the ГОСТ Р 56042-2014 text and its amount."""

    payload: str = Field(
        description="The text the receipt's QR code holds (`ST00012|Name=…|…`), for any banking app.",
        examples=["ST00012|Name=ООО «Расчётный центр «Кабинет»|PersonalAcc=40702810900000012345|…"],
    )
    amount_kopecks: int = Field(description="The amount to pay, kopecks.", examples=[102312])


class PaymentCodes(BaseModel):
    """The month's payment QR codes: the same payloads the PDF receipt prints."""

    period: Month
    utilities: PaymentCode = Field(
        description="«ВСЕГО К ОПЛАТЕ ПО ВСЕМ ИСПОЛНИТЕЛЯМ …» to the billing center."
    )
    capital_repair: PaymentCode | None = Field(
        description="«РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ» to the fund; null for an account without one."
    )
