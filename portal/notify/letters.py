"""The letters of ``kabinet-portal notify``, in Russian: plain text with an HTML alternative.

Every letter says why it came, how to stop it (the profile's switch in the app, or the link, which
needs no login) and carries ``List-Unsubscribe`` with RFC 8058's one-click POST for mail programs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from html import escape

from portal.mail.mailer import Attachment, OutgoingMail
from portal.notify.repository import Addressee, MeterDue
from portal.notify.unsubscribe import Topic
from portal.reading_window import day_month
from portal.receipts.service import month_name, receipt_filename

#: Where a resident switches letters off in the app.
PROFILE_SWITCH = "Профиль → «Письма» (клавиша F6)"

_TOPIC_NAMES = {Topic.RECEIPT: "квитанции по e-mail", Topic.REMINDERS: "напоминания о показаниях"}


def message_id(kind: str, period: dt.date, account_id: int, domain: str) -> str:
    """The same Message-ID on every attempt of one letter, so a resend can be recognised as one.

    A digest instead of the account id itself: the header travels through other servers.
    """
    tag = hashlib.sha256(f"{kind}:{period.isoformat()}:{account_id}".encode()).hexdigest()[:20]
    return f"<{kind}.{period:%Y%m}.{tag}@{domain}>"


def _footer(topic: Topic, link: str) -> tuple[str, str]:
    name = _TOPIC_NAMES[topic]
    text = (
        f"\n--\nВы получили это письмо, потому что включили {name} в личном кабинете.\n"
        f"Отключить: в приложении — {PROFILE_SWITCH}, или по ссылке (вход не нужен):\n{link}\n"
    )
    html = (
        f'<hr><p style="color:#666;font-size:small">Вы получили это письмо, потому что включили {name} '
        f"в личном кабинете. Отключить: в приложении — {escape(PROFILE_SWITCH)}, или "
        f'<a href="{escape(link)}">по ссылке</a> (вход не нужен).</p>'
    )
    return text, html


def _headers(link: str) -> tuple[tuple[str, str], ...]:
    return (
        ("List-Unsubscribe", f"<{link}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Auto-Submitted", "auto-generated"),
    )


def _html(paragraphs: Sequence[str], footer: str) -> str:
    body = "".join(paragraphs)
    return (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif">{body}{footer}</body></html>'
    )


def receipt_letter(
    who: Addressee, period: dt.date, pdf: bytes, total_text: str, link: str, msgid: str
) -> OutgoingMail:
    month = month_name(period)
    number = who.account_number
    text_footer, html_footer = _footer(Topic.RECEIPT, link)
    body = (
        "Здравствуйте!\n\n"
        f"Квитанция за {month} по лицевому счёту {number} во вложении (PDF).\n"
        f"Итого к оплате: {total_text}.\n"
        "Оплатить её можно в любом банковском приложении по QR-коду на квитанции или в личном "
        "кабинете.\n" + text_footer
    )
    html = _html(
        [
            "<p>Здравствуйте!</p>",
            f"<p>Квитанция за {escape(month)} по лицевому счёту <b>{escape(number)}</b> "
            "во вложении (PDF).<br>",
            f"Итого к оплате: <b>{escape(total_text)}</b>.</p>",
            "<p>Оплатить её можно в любом банковском приложении по QR-коду на квитанции или в личном "
            "кабинете.</p>",
        ],
        html_footer,
    )
    return OutgoingMail(
        to=who.email,
        subject=f"Квитанция за {month}, лицевой счёт {number}",
        body=body,
        html=html,
        attachments=(Attachment(receipt_filename(number, period), "application/pdf", pdf),),
        message_id=msgid,
        headers=_headers(link),
    )


def _meter_name(meter: MeterDue) -> str:
    return f"{meter.service_name}, счётчик № {meter.serial_number}"


def reminder_letter(
    who: Addressee,
    *,
    closing: bool,
    opens_on: dt.date | None,
    closes_on: dt.date,
    today: dt.date,
    meters: Sequence[MeterDue],
    link: str,
    msgid: str,
) -> OutgoingMail:
    """«Приём показаний открыт» or «Осталось два дня»: the window and the meters still to read."""
    number = who.account_number
    until = day_month(closes_on, today)
    if closing:
        subject = f"Передайте показания до {until}, лицевой счёт {number}"
        lead = f"Приём показаний счётчиков по лицевому счёту {number} закрывается {until}."
        due = [m for m in meters if not m.submitted]
        listing = "Показания ещё не переданы:"
    else:
        since = day_month(opens_on, today) if opens_on is not None else None
        subject = f"Открыт приём показаний до {until}, лицевой счёт {number}"
        window = f"с {since} по {until}" if since else f"до {until}"
        lead = f"Открыт приём показаний счётчиков по лицевому счёту {number}: {window} включительно."
        due = list(meters)
        listing = "Ваши счётчики:"
    how = "Передать показания можно в личном кабинете, в том числе без входа — по номеру лицевого счёта."
    text_footer, html_footer = _footer(Topic.REMINDERS, link)
    lines = "\n".join(f"  • {_meter_name(m)}" + (" — передано" if m.submitted else "") for m in due)
    body = f"Здравствуйте!\n\n{lead}\n\n{listing}\n{lines}\n\n{how}\n" + text_footer
    items = "".join(f"<li>{escape(_meter_name(m))}{' — передано' if m.submitted else ''}</li>" for m in due)
    html = _html(
        [
            "<p>Здравствуйте!</p>",
            f"<p>{escape(lead)}</p>",
            f"<p>{escape(listing)}</p><ul>{items}</ul>",
            f"<p>{escape(how)}</p>",
        ],
        html_footer,
    )
    return OutgoingMail(
        to=who.email, subject=subject, body=body, html=html, message_id=msgid, headers=_headers(link)
    )
