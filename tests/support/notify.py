"""Real SMTP servers for the notify tests: a recorder, one that drops the connection, one that stalls."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.models import Account, Charge, MailSubscription, Meter, Service, User
from tests.support.ports import free_port


class Server:
    """An aiosmtpd handler that keeps every accepted letter and can misbehave on purpose.

    ``drop_at_mail``: the n-th MAIL FROM (1-based, counted over all connections) closes the connection
    instead of answering (a server restarting between letters). ``drop_in_data``: the n-th DATA closes
    it before answering 250 (the letter is lost). ``stall_at``: ``"rcpt"`` or ``"data"``: every such
    command waits for ever (``stalls`` counts them; the first sets ``stalled``), as a hung server does
    while a sender is killed.
    """

    def __init__(
        self,
        *,
        drop_at_mail: set[int] | None = None,
        drop_in_data: set[int] | None = None,
        stall_at: str = "",
        refuse_once: dict[str, str] | None = None,
    ) -> None:
        #: Recipient → the reply to its first RCPT TO (``450 …`` greylisting, ``550 …`` no such user).
        self.refuse_once = dict(refuse_once or {})
        self.envelopes: list[Any] = []
        self.mails = 0
        self.datas = 0
        self.connections = 0
        self.drop_at_mail = drop_at_mail or set()
        self.drop_in_data = drop_in_data or set()
        self.stall_at = stall_at
        self.stalled = threading.Event()
        #: Commands waiting for ever (one per connection that reached ``stall_at``).
        self.stalls = 0
        self._stall = threading.Condition()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: Any
    ) -> Any:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.mails += 1
        if self.mails in self.drop_at_mail:
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.stall_at == "rcpt":
            self._stalled()
            await asyncio.sleep(3600)
        if address in self.refuse_once:
            return self.refuse_once.pop(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        if self.stall_at == "data":
            self._stalled()
            await asyncio.sleep(3600)
        if self.datas in self.drop_in_data:
            server.transport.close()
            return "451 lost"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def _stalled(self) -> None:
        with self._stall:
            self.stalls += 1
            self._stall.notify_all()
        self.stalled.set()

    def wait_for_stalls(self, count: int, timeout: float) -> bool:
        """Whether ``count`` commands are stalled within ``timeout`` seconds."""
        with self._stall:
            return self._stall.wait_for(lambda: self.stalls >= count, timeout)

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    def per_recipient(self) -> Counter[str]:
        return Counter(rcpt for envelope in self.envelopes for rcpt in envelope.rcpt_tos)


@contextmanager
def smtp(server: Server) -> Iterator[int]:
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


async def subscribe(session: Any, account_ids: list[int], *, receipt: bool, reminders: bool) -> None:
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for account_id in account_ids:
        await session.merge(
            MailSubscription(account_id=account_id, receipt=receipt, reminders=reminders, updated_at=now)
        )
    await session.commit()


async def registered_accounts(session: Any) -> list[int]:
    return list(await session.scalars(select(User.account_id).order_by(User.account_id)))


async def add_residents(
    session: Any, count: int, *, period: dt.date | None = None, start: int = 0
) -> list[int]:
    """``count`` registered accounts with one cold-water meter each (and a charge for ``period``),
    subscribed to both letters."""
    service = await session.scalar(select(Service).where(Service.basis == "meter").order_by(Service.id))
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    accounts = [
        Account(
            number=f"99{index:08d}",
            address=f"г. Тест, ул. Почтовая, д. 1, кв. {index}",
            owner_name="Тестов Т. Т.",
            area_m2=50,
            residents=1,
        )
        for index in range(start, start + count)
    ]
    session.add_all(accounts)
    await session.flush()
    for account in accounts:
        session.add(
            User(
                account_id=account.id,
                email=f"r{account.number}@example.ru",
                password_hash="x",
                created_at=now,
                password_changed_at=now,
            )
        )
        session.add(
            Meter(
                account_id=account.id,
                service_id=service.id,
                serial_number=f"M{account.number}",
                integer_digits=5,
                decimals=3,
                installed_on=dt.date(2024, 1, 1),
                next_verification_on=dt.date(2030, 1, 1),
            )
        )
        session.add(MailSubscription(account_id=account.id, receipt=True, reminders=True, updated_at=now))
        if period is not None:
            session.add(
                Charge(
                    account_id=account.id,
                    service_id=service.id,
                    period=period,
                    volume=1,
                    tariff_kopecks=5000,
                    charged_kopecks=5000,
                    recalculation_kopecks=0,
                )
            )
    await session.commit()
    return [account.id for account in accounts]
