"""Request and response bodies of the receipt routes (the PDF itself is the body of the GET)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReceiptMailed(BaseModel):
    """The receipt is on its way to the registered e-mail."""

    message: str = Field(examples=["Квитанция за октябрь 2026 отправлена на e-mail i***@example.ru."])
    email_masked: str = Field(
        description="The registered address with most of it hidden.", examples=["i***@example.ru"]
    )
