"""The API shape of billing's figures, shared by the account summary and the statement."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class ServiceCharge(BaseModel):
    """One service's charge in one month (a line of a receipt)."""

    model_config = ConfigDict(from_attributes=True)

    service_code: str = Field(examples=["cold_water"])
    service_name: str
    unit: str = Field(examples=["м³"])
    volume: Decimal = Field(description="Volume charged (exact decimal as a string).")
    tariff_kopecks: int
    charged_kopecks: int
    recalculation_kopecks: int = Field(description="Recalculation; may be negative.")
