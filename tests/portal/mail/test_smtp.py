"""Letters really leave through SMTP when a host is configured: a local aiosmtpd server receives them."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.billing.service import last_receipt_period, receipt_total
from portal.demo.accounts import DEMO_ACCOUNTS
from portal.models import Account
from tests.conftest import PortalFactory


class Recorder:
    """An aiosmtpd handler (it calls `handle_DATA` by that name) that keeps every delivered message."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


async def test_registration_password_arrives_by_smtp(
    smtp_server: tuple[Recorder, int], make_portal: PortalFactory
) -> None:
    recorder, port = smtp_server
    portal = await make_portal(smtp_host="127.0.0.1", smtp_port=port)
    number = next(demo for demo in DEMO_ACCOUNTS if demo.password is None).account_number
    async with portal.state.sessionmaker() as session:
        account_id = await session.scalar(select(Account.id).where(Account.number == number))
        assert account_id is not None
        period = await last_receipt_period(session, account_id)
        assert period is not None
        total = await receipt_total(session, account_id, period)

    response = await portal.client.post(
        "/api/v1/registration",
        json={
            "account_number": number,
            "receipt_total_kopecks": total,
            "email": "smtp.resident@example.ru",
            "email_repeat": "smtp.resident@example.ru",
            "accept_terms": True,
        },
    )
    assert response.status_code == 202, response.text

    assert len(recorder.envelopes) == 1
    envelope = recorder.envelopes[0]
    assert envelope.rcpt_tos == ["smtp.resident@example.ru"]
    (message,) = recorder.messages()
    assert message["Subject"] == "Пароль для входа в личный кабинет"
    text = message.get_content()
    assert number in text
    match = re.search(r"^Пароль: (\S+)$", text, re.MULTILINE)
    assert match
    # Nothing went to the local outbox, and the mailed password is the real one.
    assert portal.letters() == []
    await portal.login(number, match.group(1))
