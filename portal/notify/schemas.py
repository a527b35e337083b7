"""Request and response bodies of the resident's mail subscriptions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class Subscriptions(BaseModel):
    """What the resident gets by e-mail, and where it goes."""

    receipt: bool = Field(description="Квитанция каждый месяц (PDF во вложении), когда начисления готовы.")
    reminders: bool = Field(
        description="Напоминания о показаниях: когда открывается приём и за два дня до его конца, "
        "если переданы не все показания."
    )
    email_masked: str = Field(examples=["i***@example.ru"])


class SubscriptionsChange(BaseModel):
    """Both choices, each ``true`` or ``false``."""

    model_config = ConfigDict(extra="forbid")

    receipt: StrictBool = Field(description="Квитанция по e-mail.")
    reminders: StrictBool = Field(description="Напоминания о показаниях.")
