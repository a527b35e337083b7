"""Outgoing mail: SMTP through aiosmtplib when configured, otherwise a local maildir outbox."""

from portal.mail.mailer import Mailer, OutgoingMail

__all__ = ["Mailer", "OutgoingMail"]
