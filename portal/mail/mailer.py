"""Sending letters to residents. Letters carry secrets (passwords, codes): they are never logged."""

from __future__ import annotations

import asyncio
import base64
import email.policy
import functools
import logging
import mailbox
import re
import secrets
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


# --- the same letters, written directly (bulk sending) ------------------------------------------------

#: A header value written as it is: printable ASCII, no line breaks.
_PLAIN_VALUE = re.compile(r"[\x20-\x7e]*")
#: An address written as it is (anything else — an international address — goes through the email package).
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
#: UTF-8 bytes per encoded word: 52 base64 characters, the word 64 long (RFC 2047 allows 75).
_WORD_BYTES = 39


@functools.lru_cache(maxsize=8)
def _from_header(sender: str) -> bytes:
    """``From:`` as the email package writes it (its display name may need encoding): once per sender."""
    message = EmailMessage(policy=_UNFOLDED)
    message["From"] = sender
    return bytes(message).partition(b"\n\n")[0] + b"\n"


def _encoded_words(text: str) -> str:
    """``text`` as RFC 2047 base64 encoded words, each whole UTF-8 characters, folded one per line:
    the white space between two encoded words is not part of the text, so none is lost."""
    words: list[str] = []
    chunk = bytearray()
    for char in text:
        raw = char.encode()
        if len(chunk) + len(raw) > _WORD_BYTES:
            words.append(base64.b64encode(chunk).decode("ascii"))
            chunk.clear()
        chunk += raw
    if chunk or not words:
        words.append(base64.b64encode(chunk).decode("ascii"))
    return "\n ".join(f"=?utf-8?b?{word}?=" for word in words)


def _text_part(content: str, subtype: str) -> bytes:
    # As ``set_content`` does: lines end in \n, the last one too; base64, 76 characters a line.
    data = b"\n".join(content.encode().splitlines()) + b"\n"
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n'.encode()
        + base64.encodebytes(data)
    )


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"=_kabinet_{secrets.token_hex(12)}"
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n--{boundary}\n'.encode()
    return head + f"\n--{boundary}\n".encode().join(parts) + f"\n--{boundary}--\n".encode()


def message_bytes(sender: str, mail: OutgoingMail) -> bytes:
    """The letter :func:`build_message` makes, as bytes, written directly: the same headers and MIME
    structure (text in base64; the HTML alternative; attachments), a fraction of the email package's
    time (``kabinet-portal notify`` writes thousands a minute). A letter with something unusual — an
    international address, a header outside printable ASCII, a non-ASCII file name — goes through
    :func:`build_message` instead."""
    values = [mail.to, mail.message_id or "", *(value for _, value in mail.headers)]
    names = [attachment.filename for attachment in mail.attachments]
    if (
        not _PLAIN_ADDRESS.fullmatch(mail.to)
        or not all(_PLAIN_VALUE.fullmatch(value) for value in values)
        or not all(_PLAIN_VALUE.fullmatch(name) and '"' not in name for name in names)
        or not all(_PLAIN_VALUE.fullmatch(a.content_type) for a in mail.attachments)
    ):
        return build_message(sender, mail).as_bytes()
    subject = mail.subject
    if not (_PLAIN_VALUE.fullmatch(subject) and len(subject) < 900):
        subject = _encoded_words(subject)
    lines = [
        f"To: {mail.to}",
        f"Subject: {subject}",
        f"Date: {formatdate(localtime=False)}",
        f"Message-ID: {mail.message_id or make_msgid(domain='kabinet.local')}",
        *(f"{name}: {value}" for name, value in mail.headers),
        "MIME-Version: 1.0",
    ]
    body = _text_part(mail.body, "plain")
    if mail.html is not None:
        body = _multipart("alternative", [body, _text_part(mail.html, "html")])
    if mail.attachments:
        parts = [body]
        for attachment in mail.attachments:
            parts.append(
                (
                    f"Content-Type: {attachment.content_type}\nContent-Transfer-Encoding: base64\n"
                    f'Content-Disposition: attachment; filename="{attachment.filename}"\n\n'
                ).encode()
                + base64.encodebytes(attachment.content)
            )
        body = _multipart("mixed", parts)
    return _from_header(sender) + "\n".join(lines).encode() + b"\n" + body


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
