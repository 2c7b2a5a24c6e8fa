"""The email channel: messages built from templates (text + HTML) and sent through Django's mail backend.

Configured by EMAIL_URL (SMTP in production; the console backend in embedded mode) and DEFAULT_FROM_EMAIL. Bulk
messages (broadcasts, statements, notifications) carry List-Unsubscribe and List-Unsubscribe-Post (RFC 8058):
one POST to the link, with no session or CSRF token, unsubscribes.
"""

from __future__ import annotations

import smtplib
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from core.metrics import notification_counted

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


class EmailTransient(Exception):
    """Worth retrying later: the server is unreachable, busy (4xx) or dropped the connection."""


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


def email_deliver(message: EmailMultiAlternatives, connection=None) -> None:
    """Send one message, telling a transient failure (retry) from a permanent one (give up)."""
    try:
        _deliver(message, connection)
    except EmailTransient:
        notification_counted("email", "retry")
        raise
    except EmailRefused:
        notification_counted("email", "refused")
        raise
    notification_counted("email", "sent")


def _deliver(message: EmailMultiAlternatives, connection) -> None:
    try:
        message.connection = connection or get_connection()
        message.send(fail_silently=False)
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise EmailTransient(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise EmailRefused(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except smtplib.SMTPRecipientsRefused as exc:  # per address: 4xx "try later" (greylisting, full) or 5xx "never"
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            raise EmailTransient(f"recipient deferred: {exc.recipients}") from exc
        raise EmailRefused(f"recipient refused: {exc.recipients}") from exc
    except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, OSError) as exc:
        raise EmailTransient(f"{type(exc).__name__}: {exc}") from exc
