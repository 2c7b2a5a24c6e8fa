"""A fence around the leaderboard fast path (goatedvips/fastpath.py), which answers `GET /api/v1/leaderboard/`
in front of Django: none of Django's middleware runs for its answers.

It copies the headers of Django's last answer, but anything a middleware *does* per request (count it, give it
an id, refuse it, redirect it, gate a feature, rate-limit) the fast path does itself or not at all. These pins
fail on purpose when the middleware list or the URL changes, so that whoever changes them decides whether the fast
path needs the same behaviour, updates fastpath.py if so, and then updates the pin here.
"""

from __future__ import annotations

from django.conf import settings
from django.test import RequestFactory
from django.urls import resolve, reverse

from core import metrics
from goatedvips import fastpath

# The middleware the fast path was last checked against, in order.
CHECKED_MIDDLEWARE = [
    "core.logs.RequestIdMiddleware",  # the fast path sends the request id (core.logs.request_id_for)
    "core.middleware.MetricsMiddleware",  # the fast path counts and times (core.metrics.http_request_record)
    "django.middleware.security.SecurityMiddleware",  # headers copied; the HTTPS redirect is left to Django
    "core.middleware.RejectUnstorableInputMiddleware",  # the fast path accepts only plain [A-Za-z0-9_=&] queries
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "overlays.middleware.CookielessOverlayMiddleware",  # /overlay/ paths only
    "django.contrib.sessions.middleware.SessionMiddleware",  # requests with cookies are left to Django
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.StaffTwoFactorMiddleware",  # staff sessions only: a request with a cookie is Django's
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.TermsGateMiddleware",  # signed-in sessions only: a request with a cookie is Django's
    "accounts.activity.LastActiveMiddleware",  # signed-in users only: the leaderboard list authenticates nobody
    "growth.visits.VisitCountMiddleware",  # HTML pages only: the API (and so the fast path's answers) is no visit
    "core.db_router.PrimaryOnlyMiddleware",
    "core.features.FeatureGateMiddleware",  # no feature switch covers /api/v1/leaderboard/ (core.features)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",  # the fast path computes the same ETag and 304 (etag_of)
]

_DECIDE = (
    "goatedvips/fastpath.py answers GET /api/v1/leaderboard/ without running Django's middleware or URL "
    "resolution. Whoever changes {what} must decide whether the fast path needs the same behaviour, update "
    "goatedvips/fastpath.py if it does, and then update the pin in tests/core/test_fastpath_fence.py."
)


def test_the_middleware_list_is_the_one_the_fast_path_was_checked_against():
    assert list(settings.MIDDLEWARE) == CHECKED_MIDDLEWARE, _DECIDE.format(what="settings.MIDDLEWARE")


def test_the_leaderboard_api_url_is_the_one_the_fast_path_answers():
    message = _DECIDE.format(what="the leaderboard API's URL")
    assert reverse("api:leaderboard") == "/api/v1/leaderboard/", message
    assert fastpath.PATH == "/api/v1/leaderboard/", message
    # Django's metrics label for the URL is the one the fast path counts its answers under.
    request = RequestFactory().get(fastpath.PATH)
    request.resolver_match = resolve(fastpath.PATH)
    assert metrics.route_of(request) == fastpath.PATH, message
