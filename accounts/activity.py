"""`User.last_active`: when a signed-in user last used the site or the API (the admin's "last active" column).

Written at most once a minute per user, never once per request: the user row each request loads already holds
`last_active`, so a request within the minute costs nothing, and the write itself is a conditional UPDATE
(`... WHERE last_active IS NULL OR last_active <= now - 60 s`), so concurrent requests of one user, in any number
of processes, write it once. `.update()` sends no `pre_save`: marking activity never looks like an account edit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

logger = logging.getLogger(__name__)
LAST_ACTIVE_EVERY = timedelta(seconds=60)


def user_active_mark(user, now: datetime | None = None) -> bool:
    """Record that `user` is active now, unless that was recorded within the last minute. True if written."""
    now = now or timezone.now()
    cutoff = now - LAST_ACTIVE_EVERY
    if user.last_active is not None and user.last_active > cutoff:
        return False  # the row this request loaded says it is fresh: no query at all
    stale = Q(last_active__isnull=True) | Q(last_active__lte=cutoff)
    written = get_user_model().objects.filter(stale, pk=user.pk).update(last_active=now) == 1
    if written:
        user.last_active = now
    return written


class LastActiveMiddleware:
    """After the view, so a user signed in by the API's token (DRF sets `request.user` in the view) counts too.
    Anonymous requests write nothing; a failed write is logged, never the request's failure."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            try:
                user_active_mark(user)
            except DatabaseError:
                logger.warning("last_active: write failed for user %s", user.pk, exc_info=True)
        return response
