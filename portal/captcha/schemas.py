"""Request and response bodies of captcha images."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from pydantic import BaseModel, Field


class CaptchaPurpose(enum.StrEnum):
    """What a captcha may be used for: it is refused for anything else."""

    EMAIL_CHANGE = "email_change"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - a purpose, not a password


def _purposes_only(schema: dict[str, Any]) -> None:
    """The documented schema is the list of purposes: its lengths would only repeat it less exactly."""
    schema.pop("minLength", None)
    schema.pop("maxLength", None)
    schema["enum"] = [p.value for p in CaptchaPurpose]


class CaptchaRequest(BaseModel):
    """Ask for a new captcha image for one profile change."""

    # A plain string checked by the service: the shared validation messages would call a field named
    # ``purpose`` «Назначение платежа».
    purpose: str = Field(
        min_length=1,
        max_length=40,
        description="Для чего картинка: `email_change` (смена e-mail) или `password_change` (смена пароля).",
        json_schema_extra=_purposes_only,
        examples=["password_change"],
    )


class CaptchaIssued(BaseModel):
    """A new captcha image; its answer stays on the server (only as an HMAC)."""

    captcha_id: str = Field(description="Передайте вместе с ответом в `captcha_id` формы изменения.")
    image_png_base64: str = Field(
        description=(
            "Картинка PNG в base64: 5 символов из заглавных латинских букв и цифр без похожих "
            "(нет 0/O/Q, 1/I/L, 5/S, 8/B, Z, G, M, W). Ответ принимается без учёта регистра и пробелов."
        )
    )
    width: int = Field(description="Ширина картинки в пикселях.", examples=[200])
    height: int = Field(description="Высота картинки в пикселях.", examples=[70])
    expires_at: dt.datetime = Field(description="После этого момента картинка недействительна.")
    attempts_left: int = Field(description="Сколько раз можно ввести код этой картинки.", examples=[3])
