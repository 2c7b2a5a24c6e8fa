"""Reads for referral attribution: where `/go/` sends a visitor, whether a request is a click worth counting,
the links operators copy, and the counts for admin and CSV."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from growth.models import Campaign, ReferralClickDay

UTM_KEY = re.compile(r"\Autm_[a-z0-9_]{1,30}\Z")
MAX_UTM_PARAMS = 10
MAX_UTM_VALUE = 200

# Link-preview fetchers and crawlers (a link pasted in a chat is fetched by the chat's server before anyone
# clicks), and command-line or library clients: none of them is a person clicking.
CRAWLERS = re.compile(
    r"googlebot|google-inspectiontool|googleother|adsbot-google|mediapartners-google|bingbot|bingpreview|"
    r"yandex(?:bot|images)|duckduckbot|baiduspider|applebot|petalbot|ahrefsbot|semrushbot|mj12bot|"
    r"facebookexternalhit|facebot|meta-externalagent|twitterbot|telegrambot|discordbot|slackbot|"
    r"slack-imgproxy|linkedinbot|whatsapp|skypeuripreview|redditbot|pinterestbot|embedly|iframely|"
    r"vkshare|snapchat|mastodon|bluesky|headlesschrome|crawler|spider|"
    r"\A(?:curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|libwww-perl|httpie)/",
    re.IGNORECASE,
)
PREFETCH = re.compile(r"prefetch|prerender|preview", re.IGNORECASE)


def referral_target(slug: str, query: Mapping[str, str]) -> str:
    """REFERRAL_URL with its own query kept, then utm_source=goatedvips, utm_medium=referral and
    utm_campaign=<slug> (none for plain `/go/`) set, then the incoming utm_* values set over them. Any other
    incoming parameter is dropped: a link on our domain must not carry someone else's code to the casino. The
    scheme, host and path are always REFERRAL_URL's (no open redirect)."""
    base = urlsplit(settings.REFERRAL_URL)
    params = dict(parse_qsl(base.query, keep_blank_values=True))
    params.update(utm_source="goatedvips", utm_medium="referral")
    if slug:
        params["utm_campaign"] = slug
    incoming = [key for key in query if UTM_KEY.match(key)][:MAX_UTM_PARAMS]
    params.update({key: str(query[key])[:MAX_UTM_VALUE] for key in incoming})
    return urlunsplit(base._replace(query=urlencode(params)))


def click_countable(method: str, headers: Mapping[str, str]) -> bool:
    """A person's click: a GET (a HEAD is a probe), from a browser that is not a known crawler or link-preview
    fetcher, and not a prefetch or prerender (Purpose / Sec-Purpose / X-Purpose / X-Moz headers)."""
    if method != "GET":
        return False
    agent = headers.get("User-Agent", "").strip()
    if not agent or CRAWLERS.search(agent):
        return False
    purpose = " ".join(headers.get(name, "") for name in ("Purpose", "Sec-Purpose", "X-Purpose", "X-Moz"))
    return not PREFETCH.search(purpose)


def referral_link(slug: str = "") -> str:
    """The full link to copy or send (the bot, admin): SITE_URL + /go/<slug>/."""
    path = reverse("growth:go", args=[slug]) if slug else reverse("growth:go")
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def campaigns_with_clicks(queryset: QuerySet[Campaign], since: date) -> QuerySet[Campaign]:
    """Each campaign with `clicks_recent`: its clicks since `since`, in the same query (a subquery per row of
    the one SELECT, no query per campaign)."""
    clicks = (
        ReferralClickDay.objects.filter(campaign=OuterRef("slug"), day__gte=since)
        .values("campaign")
        .annotate(total=Sum("clicks"))
        .values("total")
    )
    return queryset.annotate(clicks_recent=Coalesce(Subquery(clicks, output_field=IntegerField()), 0))


def referral_click_rows(since: date) -> list[tuple]:
    """The CSV's rows: a header, then (day, campaign, clicks, unique_visitors) per day and campaign since
    `since`, oldest first. Days without clicks have no row."""
    rows = (
        ReferralClickDay.objects.filter(day__gte=since)
        .order_by("day", "campaign")
        .values_list("day", "campaign", "clicks", "unique_visitors")
    )
    return [("day", "campaign", "clicks", "unique_visitors")] + [
        (day.isoformat(), campaign, clicks, unique) for day, campaign, clicks, unique in rows
    ]
