"""Email alerts through the SMTP server in the settings, with the standard library's smtplib run
in a thread (one short message per alert needs no other dependency, and the loop never blocks)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from app.config import Settings


class MailRefused(Exception):
    """The server refused the message for good (a 5xx answer)."""


class MailNotSent(Exception):
    """The message surely did not leave: the server was unreachable or answered 4xx (try later)."""


def message(settings: Settings, *, to: str, subject: str, text: str, delivery_id: str) -> EmailMessage:
    """The email; its Message-ID is the delivery id, so a mail client shows a re-sent one once."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.smtp_from, to, subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{delivery_id}@reposter>"
    mail["X-Reposter-Delivery"] = delivery_id
    mail.set_content(text)
    return mail


async def send(settings: Settings, mail: EmailMessage) -> None:
    """Send one message; MailRefused, MailNotSent, or another error when it may have gone."""
    await asyncio.to_thread(_send, settings, mail)


def _send(settings: Settings, mail: EmailMessage) -> None:
    timeout = settings.alert_timeout_seconds
    try:
        if settings.smtp_ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    except (OSError, smtplib.SMTPConnectError) as exc:
        raise MailNotSent(f"SMTP server unreachable: {exc}") from exc
    with client:
        try:
            if settings.smtp_starttls and not settings.smtp_ssl:
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password)
        except smtplib.SMTPException as exc:  # before any message was given: it did not leave
            raise MailNotSent(f"SMTP session failed: {exc}") from exc
        try:
            client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailRefused(f"recipient refused: {exc.recipients}") from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if 400 <= exc.smtp_code < 500:
                raise MailNotSent(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise MailRefused(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
