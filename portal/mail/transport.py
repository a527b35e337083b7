"""One connection for many letters (``kabinet-portal notify``): SMTP, or the maildir outbox of the demo.

Every attempt ends in an :class:`Outcome` that says what is known about the letter, so that a bulk
sender can record it truthfully:

- ``ACCEPTED``: the server answered 250 to the letter's end: it took responsibility for it;
- ``NOT_SENT``: the connection failed before the letter's content went (connect, MAIL, RCPT): certainly
  not delivered, safe to send again after a reconnect;
- ``TEMPORARY`` / ``PERMANENT``: the server refused (4xx / 5xx);
- ``UNCERTAIN``: the connection broke or timed out after the DATA command, before the server's answer
  arrived. The server may have accepted the letter (RFC 1047's duplicate window): a sender that
  promises «never twice» must not send it again on its own.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import mailbox
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from portal.kit.storage import private_dir, private_file
from portal.settings import Settings

log = logging.getLogger("kabinet.portal.mail")


#: Called just before the letter's content goes; False: it must not go.
BeforeData = Callable[[], Awaitable[bool]]


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    NOT_SENT = "not_sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    #: The server's reply or the error's name (never the letter's content), for the deliveries table.
    detail: str


def _reply(code: int, message: str) -> str:
    return f"{code} {message}"[:300]


class SmtpTransport:
    """A kept-open SMTP connection, opened on the first letter and again after the server drops it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._smtp: aiosmtplib.SMTP | None = None
        #: How many times a connection was opened (the first one included).
        self.connections = 0

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
        await smtp.connect()
        self.connections += 1
        self._smtp = smtp
        return smtp

    async def send(
        self, message: bytes | EmailMessage, sender: str, recipient: str, before_data: BeforeData
    ) -> Attempt:
        """Connect if needed, MAIL and RCPT; then ``before_data()`` (False: do not send after all)
        and DATA. Only DATA can end UNCERTAIN."""
        try:
            smtp = await self._connected()
            await smtp.mail(sender)
            await smtp.rcpt(recipient)
        except aiosmtplib.SMTPResponseException as exc:
            # A refusal of MAIL/RCPT leaves the connection usable for the next letter; RSET clears it.
            await self._reset()
            if exc.code == 421:  # the server is closing the connection: nothing went
                await self.close()
                return Attempt(Outcome.NOT_SENT, _reply(exc.code, exc.message))
            outcome = Outcome.PERMANENT if exc.code >= 500 else Outcome.TEMPORARY
            return Attempt(outcome, _reply(exc.code, exc.message))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            return Attempt(Outcome.NOT_SENT, type(exc).__name__)
        if not await before_data():
            await self._reset()
            return Attempt(Outcome.NOT_SENT, "the claim was taken over")
        try:
            response = await smtp.data(message if isinstance(message, bytes) else message.as_bytes())
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:
                await self.close()
                return Attempt(Outcome.TEMPORARY, _reply(exc.code, exc.message))
            await self._reset()
            outcome = Outcome.PERMANENT if exc.code >= 500 else Outcome.TEMPORARY
            return Attempt(outcome, _reply(exc.code, exc.message))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            return Attempt(Outcome.UNCERTAIN, type(exc).__name__)
        return Attempt(Outcome.ACCEPTED, _reply(response.code, response.message))

    async def _reset(self) -> None:
        if self._smtp is None:
            return
        try:
            await self._smtp.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()

    def abort(self) -> None:
        """Drop the connection at once, without QUIT (the sender is failing; a transaction may be open)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


class MaildirTransport:
    """Letters into the local maildir outbox (no SMTP host configured: the demo)."""

    def __init__(self, outbox: Path) -> None:
        self._outbox = outbox
        self.connections = 0

    def _store(self, message: bytes | EmailMessage) -> None:
        private_dir(self._outbox)
        for folder in ("tmp", "new", "cur"):
            private_dir(self._outbox / folder)
        box = mailbox.Maildir(self._outbox, create=False)
        key = box.add(message)
        for letter in (self._outbox / "new").glob(f"{key}*"):
            private_file(letter)

    async def send(
        self, message: bytes | EmailMessage, sender: str, recipient: str, before_data: BeforeData
    ) -> Attempt:
        if not await before_data():
            return Attempt(Outcome.NOT_SENT, "the claim was taken over")
        try:
            await asyncio.to_thread(self._store, message)
        except OSError as exc:
            return Attempt(Outcome.NOT_SENT, type(exc).__name__)
        return Attempt(Outcome.ACCEPTED, "stored in the outbox")

    async def close(self) -> None:
        return None

    def abort(self) -> None:
        return None


Transport = SmtpTransport | MaildirTransport


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    assert settings.outbox_dir is not None
    return MaildirTransport(settings.outbox_dir)
