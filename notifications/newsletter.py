"""The newsletter's consent, double opt-in: asking to subscribe sends the address a signed, expiring link, and
only opening it (and pressing Confirm) subscribes. A stranger typing someone's address into the form changes
nothing for it: an unsubscribed address stays unsubscribed until its owner confirms again. Only confirmed
subscribers are the newsletter's audience (`newsletter_confirmed`)."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from core.errors import ServiceError
from notifications.email import absolute, email_build, email_deliver
from notifications.models import NewsletterSubscription
from notifications.tasks import newsletter_confirmation_task

CONFIRM_SALT = "notifications.newsletter-confirm"
CONFIRM_MAX_AGE = 3 * 24 * 3600
# One confirmation email per address per RESEND window, however often the form is posted for it.
RESEND = timedelta(minutes=10)


class ConfirmationInvalid(ServiceError):
    code = "invalid_link"


def newsletter_confirmed() -> QuerySet[NewsletterSubscription]:
    """The newsletter's audience: addresses whose owner confirmed and has not unsubscribed since."""
    return NewsletterSubscription.objects.filter(is_subscribed=True, confirmed_at__isnull=False)


def _stamp(moment) -> int:
    return int(moment.timestamp() * 1000)


def newsletter_confirmation_token(email: str, stamp: int) -> str:
    """Signed: the address and when its link was sent (milliseconds), so a later unsubscribe voids the link."""
    return signing.dumps({"e": email, "s": stamp}, salt=CONFIRM_SALT, compress=True)


def newsletter_subscribe(email: str, *, source: str = "site") -> NewsletterSubscription:
    """Ask to subscribe `email`: nothing changes for the address yet; its owner is sent a link to confirm (not
    when it is subscribed already, nor twice within RESEND). The caller says the same thing whatever happened,
    so the form tells a stranger nothing about an address."""
    email = email.strip().lower()
    now = timezone.now()
    with transaction.atomic():
        sub, _ = NewsletterSubscription.objects.get_or_create(
            email=email, defaults={"source": source, "is_subscribed": False}
        )
        if sub.is_subscribed and sub.confirmed_at:
            return sub
        due = Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lte=now - RESEND)
        if NewsletterSubscription.objects.filter(due, pk=sub.pk).update(confirmation_sent_at=now):
            newsletter_confirmation_task.delay_on_commit(sub.pk, _stamp(now))
    return sub


def newsletter_confirmation_send(subscription_id: int, stamp: int) -> str:
    """The email with the confirmation link (sent by `newsletter_confirmation_task`)."""
    sub = NewsletterSubscription.objects.filter(pk=subscription_id).first()
    if sub is None:
        return "gone"
    link = absolute(reverse("notifications:newsletter-confirm", args=[newsletter_confirmation_token(sub.email, stamp)]))
    context = {"link": link, "days": CONFIRM_MAX_AGE // 86400}
    email_deliver(email_build(sub.email, "Confirm your subscription", "newsletter_confirm", context))
    return "sent"


def newsletter_confirm(token: str) -> NewsletterSubscription:
    """The owner opened the link and confirmed: the address is subscribed. A link sent before the address's last
    unsubscribe no longer works (nor a forged, altered or expired one)."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
        email, stamp = str(data["e"]), int(data["s"])
    except signing.SignatureExpired:
        raise ConfirmationInvalid("This link has expired. Subscribe again to get a new one.") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ConfirmationInvalid("This link is not valid. Copy the whole link from the email.") from None
    now = timezone.now()
    with transaction.atomic():
        sub = NewsletterSubscription.objects.select_for_update().filter(email=email).first()
        if sub is None or (sub.unsubscribed_at is not None and stamp <= _stamp(sub.unsubscribed_at)):
            raise ConfirmationInvalid("This address unsubscribed after this link was sent. Subscribe again.")
        if not (sub.is_subscribed and sub.confirmed_at):
            sub.is_subscribed, sub.confirmed_at, sub.subscribed_at, sub.unsubscribed_at = True, now, now, None
            sub.save(update_fields=["is_subscribed", "confirmed_at", "subscribed_at", "unsubscribed_at"])
    return sub
