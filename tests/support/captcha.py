"""Captcha test helpers: learn the answers the portal draws (they never leave it otherwise)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from portal.captcha import service as captcha_service
from portal.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_email

if TYPE_CHECKING:
    from tests.conftest import Portal

CAPTCHA = "/api/v1/captcha"
PROFILE = "/api/v1/profile"
EMAIL = "/api/v1/profile/email"
PASSWORD = "/api/v1/profile/password"
SESSION = "/api/v1/auth/session"
LOGIN = "/api/v1/auth/login"
ACCOUNT = "/api/v1/account"

REGISTERED = [demo for demo in DEMO_ACCOUNTS if demo.password == DEMO_PASSWORD]
RESIDENT = REGISTERED[0]
NEIGHBOUR = REGISTERED[1]
RESIDENT_EMAIL = demo_email(RESIDENT.apartment)
NEW_PASSWORD = "Quiet-Harbour-Lamp-58"
NEW_EMAIL = "new.address@example.ru"


@dataclass
class Answers:
    """Every captcha answer drawn during a test, and every response body the client received."""

    issued: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)

    @property
    def last(self) -> str:
        return self.issued[-1]

    def assert_never_sent(self) -> None:
        """No answer appears in any response (images left out: base64 could spell anything)."""
        assert self.issued
        for text in self.bodies:
            for answer in self.issued:
                assert answer not in text.upper(), text


def watch_answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Remember each answer the portal draws (for the test to type it, and to prove it is never sent)."""
    drawn = Answers()
    real = captcha_service.new_answer

    def remembered() -> str:
        answer = real()
        drawn.issued.append(answer)
        return answer

    monkeypatch.setattr(captcha_service, "new_answer", remembered)
    return drawn


def record_bodies(portal: Portal, answers: Answers) -> None:
    """Keep every response body of the portal's client in ``answers.bodies``."""

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        text = response.text
        if response.headers.get("content-type", "").startswith("application/json") and text:
            data = json.loads(text)
            if isinstance(data, dict):
                data.pop("image_png_base64", None)
            text = json.dumps(data, ensure_ascii=False)
        answers.bodies.append(text)
        answers.bodies.extend(f"{name}: {value}" for name, value in response.headers.items())

    portal.client.event_hooks["response"].append(hook)


async def new_captcha(portal: Portal, headers: dict[str, str], purpose: str) -> dict[str, Any]:
    response = await portal.client.post(CAPTCHA, json={"purpose": purpose}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def email_body(captcha_id: str, answer: str, **changes: str) -> dict[str, str]:
    body = {
        "current_password": DEMO_PASSWORD,
        "new_email": NEW_EMAIL,
        "new_email_repeat": NEW_EMAIL,
        "captcha_id": captcha_id,
        "captcha_answer": answer,
    }
    body.update(changes)
    return body


def password_body(captcha_id: str, answer: str, **changes: str) -> dict[str, str]:
    body = {
        "current_password": DEMO_PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_repeat": NEW_PASSWORD,
        "captcha_id": captcha_id,
        "captcha_answer": answer,
    }
    body.update(changes)
    return body
