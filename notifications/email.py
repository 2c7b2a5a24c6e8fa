"""The email channel: messages built from templates (text + HTML) and sent through Django's mail backend.

Configured by EMAIL_URL (SMTP in production; the console backend in embedded mode) and DEFAULT_FROM_EMAIL. Bulk
messages (broadcasts, statements, notifications) carry List-Unsubscribe and List-Unsubscribe-Post (RFC 8058):
one POST to the link, with no session or CSRF token, unsubscribes.

At most once (docs/notifications.md, "Delivery states"): a message is retried only when it provably was not
delivered — the server could not be reached, or it answered 4xx. A 5xx answer is a refusal for good. A
connection lost after the end of the message's DATA left us, before the server's answer, may have delivered it:
*uncertain*, never sent again. `SmtpBackend` (EMAIL_URL's backend) is what tells those two losses apart.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import smtp
from django.template.loader import render_to_string
from django.urls import reverse

from core.metrics import notification_counted

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


class EmailTransient(Exception):
    """Worth retrying later, since the message provably was not delivered: the server is unreachable, answered
    4xx, or dropped the connection before the end of the message."""


class EmailRefused(Exception):
    """Not worth retrying: the server refused the message or its recipient for good (5xx)."""


def absolute(path: str) -> str:
    """A link for an email: SITE_URL + path (emails are read outside the site)."""
    return urljoin(settings.SITE_URL.rstrip("/") + "/", path.lstrip("/")) if path else settings.SITE_URL


def unsubscribe_token(address: str, topic: str) -> str:
    """Who and what a one-click unsubscribe link stops: `topic` is email (every notification email), promotional,
    statements or newsletter."""
    return signing.dumps({"e": address.strip().lower(), "t": topic}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[str, str]:
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    return data["e"], data["t"]


def unsubscribe_url(address: str, topic: str) -> str:
    return absolute(reverse("notifications:unsubscribe", args=[unsubscribe_token(address, topic)]))


def email_build(
    to: str, subject: str, template: str, context: dict, *, unsubscribe_topic: str | None = None
) -> EmailMultiAlternatives:
    """A message from `emails/<template>.txt` and `.html` (both get `site_url`, `unsubscribe_url`)."""
    context = {**context, "site_name": settings.SITE_NAME, "site_url": settings.SITE_URL}
    headers = {}
    if unsubscribe_topic:
        link = unsubscribe_url(to, unsubscribe_topic)
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def email_deliver(message: EmailMultiAlternatives, connection=None) -> str:
    """Send one message: "sent", or "uncertain" (it may have been delivered: the caller records that and never
    sends it again). Raises EmailTransient (not delivered: worth retrying) or EmailRefused (refused for good)."""
    try:
        outcome = _deliver(message, connection)
    except EmailTransient:
        notification_counted("email", "retry")
        raise
    except EmailRefused:
        notification_counted("email", "refused")
        raise
    notification_counted("email", outcome)
    return outcome


# Failures that can only happen before a connection exists: nothing was sent, whatever the backend.
NOT_CONNECTED = (smtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror)


def _deliver(message: EmailMultiAlternatives, connection) -> str:
    message.connection = connection or get_connection()
    try:
        message.send(fail_silently=False)
    except SmtpUncertain as exc:
        logger.warning("email to %s may have been delivered (%s); not sent again", message.to, exc)
        return "uncertain"
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise EmailTransient(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise EmailRefused(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except smtplib.SMTPRecipientsRefused as exc:  # per address: 4xx "try later" (greylisting, full) or 5xx "never"
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            raise EmailTransient(f"recipient deferred: {exc.recipients}") from exc
        raise EmailRefused(f"recipient refused: {exc.recipients}") from exc
    except OSError as exc:  # smtplib's errors are OSErrors too: a lost connection, a timeout, a refused connect
        if isinstance(message.connection, SmtpBackend) or isinstance(exc, NOT_CONNECTED):
            # SmtpBackend raises SmtpUncertain once the message's end left us: this was before, so not delivered.
            raise EmailTransient(f"{type(exc).__name__}: {exc}") from exc
        logger.warning("email to %s may have been delivered (%s: %s); not sent again", message.to,
                       type(exc).__name__, exc)  # fmt: skip
        return "uncertain"  # a backend that cannot say how far it got
    return "sent"


class SmtpUncertain(smtplib.SMTPServerDisconnected):
    """The connection was lost (or the answer timed out) after the end of the message's DATA was sent: the
    server may have taken it. An SMTPServerDisconnected, so code that knows only smtplib still sees a failure."""


class _EndOfDataSeen:
    """Remembers that the end of a message (the <CRLF>.<CRLF> that closes DATA) was handed to the network: from
    then on the server may deliver it, whether or not its answer reaches us. Only the end of DATA ends so: commands
    are single lines, and smtplib doubles a dot that starts a line of the message."""

    data_ended = False

    def send(self, s):
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.data_ended = True


class _SMTP(_EndOfDataSeen, smtplib.SMTP):
    pass


class _SMTPSSL(_EndOfDataSeen, smtplib.SMTP_SSL):
    pass


class SmtpBackend(smtp.EmailBackend):
    """Django's SMTP backend, telling "not delivered" (a failure before the end of DATA: SMTPServerDisconnected,
    OSError, retried) from "may have been delivered" (after it: SmtpUncertain, never retried)."""

    @property
    def connection_class(self):
        return _SMTPSSL if self.use_ssl else _SMTP

    def _send(self, email_message):
        connection = self.connection
        connection.data_ended = False
        try:
            return super()._send(email_message)
        except smtplib.SMTPResponseException:  # the server answered: its code says what happened
            raise
        except OSError as exc:
            if connection.data_ended and not self.fail_silently:
                raise SmtpUncertain(f"{type(exc).__name__} after the end of DATA: {exc}") from exc
            raise
