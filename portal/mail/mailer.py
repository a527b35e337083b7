"""Sending letters to residents. Letters carry secrets (passwords, codes): they are never logged."""

from __future__ import annotations

import asyncio
import email.policy
import logging
import mailbox
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from portal.kit.storage import private_dir, private_file
from portal.settings import Settings

log = logging.getLogger("kabinet.portal.mail")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a letter (a receipt's PDF)."""

    filename: str
    #: ``maintype/subtype``, e.g. ``application/pdf``.
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMail:
    """A plain-text letter to one address, with optional attachments."""

    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()
    #: An HTML alternative of ``body`` (the plain text stays the first part).
    html: str | None = None
    #: A fixed Message-ID (``<…@…>``): the same on every attempt of one letter; a new one when None.
    message_id: str | None = None
    #: More headers, e.g. ``List-Unsubscribe``.
    headers: tuple[tuple[str, str], ...] = ()


def build_message(sender: str, mail: OutgoingMail) -> EmailMessage:
    """The MIME message of a letter: plain text (and HTML as its alternative), then attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = mail.message_id or make_msgid(domain="kabinet.local")
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.body)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # Headers are written unfolded: Python 3.11 folds a long non-ASCII subject between encoded words
    # and so loses the space there («показанийдо»). The body's encoding is already chosen above.
    message.policy = _UNFOLDED
    return message


#: The default policy with SMTP's line limit: a header up to 998 characters stays on one line.
_UNFOLDED = email.policy.default.clone(max_line_length=998)


class Mailer:
    """Delivers :class:`OutgoingMail` by SMTP, or into the maildir outbox when no SMTP host is set."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def outbox(self) -> Path | None:
        """The maildir folder letters go to, or ``None`` when they go to an SMTP server."""
        return None if self._settings.smtp_host else self._settings.outbox_dir

    def _message(self, mail: OutgoingMail) -> EmailMessage:
        return build_message(self._settings.mail_from, mail)

    async def send(self, mail: OutgoingMail) -> bool:
        """Deliver one letter; returns False (and logs without the content) if delivery failed."""
        message = self._message(mail)
        try:
            if self._settings.smtp_host:
                await aiosmtplib.send(
                    message,
                    hostname=self._settings.smtp_host,
                    port=self._settings.smtp_port,
                    username=self._settings.smtp_username or None,
                    password=self._settings.smtp_password or None,
                    start_tls=self._settings.smtp_starttls,
                    timeout=30,
                )
            else:
                await asyncio.to_thread(self._to_maildir, message)
        except Exception as exc:  # delivery problems must not break the request that caused them
            log.warning("mail to a resident was not delivered: %s", type(exc).__name__)
            return False
        log.info("mail delivered: %s", mail.subject)
        return True

    def _to_maildir(self, message: EmailMessage) -> None:
        outbox = self.outbox
        assert outbox is not None
        # Maildir(create=True) makes tmp/new/cur only when the folder itself is new: make them here.
        # Letters carry passwords and codes: folders 0700 and letters 0600, whatever the umask.
        private_dir(outbox)
        for folder in ("tmp", "new", "cur"):
            private_dir(outbox / folder)
        box = mailbox.Maildir(outbox, create=False)
        key = box.add(message)
        for letter in (outbox / "new").glob(f"{key}*"):
            private_file(letter)


def read_outbox(outbox: Path) -> list[EmailMessage]:
    """Every letter in a maildir outbox, oldest first (for the demo, the README and tests)."""
    import email
    import email.policy

    box = mailbox.Maildir(outbox, create=False)
    letters: list[tuple[float, EmailMessage]] = []
    for key in box.iterkeys():
        path = Path(outbox) / ("new" if (Path(outbox) / "new" / key).exists() else "cur") / key
        with path.open("rb") as handle:
            parsed = email.message_from_binary_file(handle, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        letters.append((path.stat().st_mtime_ns, parsed))
    letters.sort(key=lambda pair: pair[0])
    return [letter for _, letter in letters]
