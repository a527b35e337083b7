"""``message_bytes`` (bulk letters written directly) reads, in a mail program, as ``build_message`` does."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from portal.mail.mailer import Attachment, OutgoingMail, build_message, message_bytes

SENDER = "Личный кабинет <noreply@kabinet.example.ru>"
LINK = "https://kabinet.example.ru/api/v1/unsubscribe?token=7.receipt.abc"
HEADERS = (("List-Unsubscribe", f"<{LINK}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
#: Long enough to be folded over several encoded words, with spaces where words are split.
LONG_SUBJECT = "Передайте показания до 25 ноября, лицевой счёт 3500012007 — осталось два дня, не забудьте"

LETTERS = {
    "plain": OutgoingMail(to="r1@example.ru", subject="Plain ASCII subject", body="Hello,\nworld.\n"),
    "reminder": OutgoingMail(
        to="r2@example.ru",
        subject=LONG_SUBJECT,
        body="Здравствуйте!\r\n\r\nСчётчик № 0001 — передано.\nСтрока без конца",
        html="<p>Здравствуйте!</p><ul><li>Счётчик № 0001</li></ul>",
        message_id="<reminder_open.202611.abc@kabinet.example.ru>",
        headers=HEADERS,
    ),
    "receipt": OutgoingMail(
        to="r3@example.ru",
        subject="Квитанция за октябрь 2026, лицевой счёт 3500012007",
        body="Квитанция во вложении.\n",
        html="<p>Квитанция во вложении.</p>",
        attachments=(
            Attachment("receipt-3500012007-2026-10.pdf", "application/pdf", bytes(range(256)) * 300),
        ),
        message_id="<receipt.202610.def@kabinet.example.ru>",
        headers=HEADERS,
    ),
    # Unusual: an international address and a Cyrillic file name (the email package writes these).
    "international": OutgoingMail(
        to="жилец@почта.рф",
        subject="Квитанция",
        body="Текст",
        attachments=(Attachment("квитанция.pdf", "application/pdf", b"%PDF-1.4"),),
    ),
}


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _seen(message: EmailMessage) -> dict[str, object]:
    """What a mail program shows of a letter (a Message-ID made up for the letter: only that it has one)."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "headers": {
            name: str(message[name])
            for name in ("From", "To", "Subject", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post")
            if name != "Message-ID" or not str(message[name]).endswith("@kabinet.local>")
        },
        "message_id": bool(message["Message-ID"]),
        "type": message.get_content_type(),
        "plain": plain.get_content() if plain is not None else None,
        "html": html.get_content() if html is not None else None,
        "attachments": [
            (part.get_filename(), part.get_content_type(), part.get_content())
            for part in message.iter_attachments()
        ],
        "defects": [type(defect).__name__ for part in message.walk() for defect in part.defects],
    }


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_the_letter_reads_as_the_email_package_writes_it(name: str) -> None:
    mail = LETTERS[name]
    direct = _parse(message_bytes(SENDER, mail))
    reference = _parse(build_message(SENDER, mail).as_bytes())
    seen = _seen(direct)
    assert seen == _seen(reference)
    assert seen["defects"] == []
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["Subject"] == mail.subject and headers["To"] == mail.to
    assert direct["Date"] and direct["MIME-Version"] == "1.0"


def test_lines_stay_within_the_limits_of_smtp_and_rfc_2047() -> None:
    raw = message_bytes(SENDER, LETTERS["reminder"])
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    subject = raw.split(b"\nSubject: ", 1)[1].split(b"\nDate: ", 1)[0]
    words = subject.split(b"\n ")
    assert len(words) > 1 and all(len(word) <= 75 for word in words)
    assert not raw.startswith(b"\n") and b"\r" not in raw
