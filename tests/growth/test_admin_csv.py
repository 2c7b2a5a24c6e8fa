"""The operators' side: campaigns in admin with their links and recent clicks, and the staff CSV
`/admin/analytics/referral-clicks.csv` (`day,campaign,clicks,unique_visitors`)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from growth.models import Campaign, ReferralClickDay
from growth.services import referral_clicks_flush
from tests.factories import UserFactory, staff_member

CSV_URL = "/admin/analytics/referral-clicks.csv"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Firefox/133.0"

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_equals_the_clicks_made(client, settings):
    settings.REFERRAL_URL = "https://goated.example/r/VIP"
    for path, ip in [
        ("/go/promo/", "1.1.1.1"),
        ("/go/promo/", "1.1.1.1"),
        ("/go/promo/", "2.2.2.2"),
        ("/go/", "3.3.3.3"),
    ]:
        client.get(path, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ip)
    client.head("/go/promo/", HTTP_USER_AGENT=BROWSER)  # not counted
    client.get("/go/promo/", HTTP_USER_AGENT="TelegramBot (like TwitterBot)")  # a link preview: not counted
    referral_clicks_flush()  # the beat's minute: the cache's counts into the database
    client.force_login(staff_member("Operators"))
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="referral-clicks-30d-')
    today = datetime.now(UTC).date().isoformat()
    assert _rows(response) == [
        ["day", "campaign", "clicks", "unique_visitors"],
        [today, "", "1", "1"],
        [today, "promo", "3", "2"],
    ]


def test_the_csv_covers_the_period_and_is_formula_safe(client):
    today = datetime.now(UTC).date()
    ReferralClickDay.objects.create(day=today - timedelta(days=29), campaign="edge", clicks=1, unique_visitors=1)
    ReferralClickDay.objects.create(day=today - timedelta(days=30), campaign="old", clicks=9, unique_visitors=9)
    # A slug from /go/ is always [a-z0-9-], but one that starts with "-" would still be neutralised.
    ReferralClickDay.objects.create(day=today, campaign="-1", clicks=2, unique_visitors=1)
    client.force_login(staff_member("Operators"))
    rows = _rows(client.get(CSV_URL))
    assert [r[1] for r in rows[1:]] == ["edge", "'-1"]
    assert [r[1] for r in _rows(client.get(CSV_URL, {"days": "90"}))[1:]] == ["old", "edge", "'-1"]
    assert client.get(CSV_URL, {"days": "7"}).status_code == 400


def test_the_csv_is_for_staff_only(client):
    assert client.get(CSV_URL)["Location"].startswith("/admin/login/")  # anonymous
    client.force_login(UserFactory(username="just-a-player"))
    assert client.get(CSV_URL)["Location"].startswith("/admin/login/")
    client.force_login(staff_member("Support"))
    assert client.get(CSV_URL).status_code == 403


def test_campaigns_list_their_link_and_last_30_days_clicks_in_one_query(client, settings):
    settings.SITE_URL = "https://goatedvips.example"
    today = datetime.now(UTC).date()
    Campaign.objects.create(slug="friday-stream", name="Friday stream")
    Campaign.objects.create(slug="tg-post-12", name="Telegram post 12")
    ReferralClickDay.objects.create(day=today, campaign="friday-stream", clicks=4, unique_visitors=3)
    ReferralClickDay.objects.create(day=today - timedelta(days=29), campaign="friday-stream", clicks=3)
    ReferralClickDay.objects.create(day=today - timedelta(days=30), campaign="friday-stream", clicks=100)
    ReferralClickDay.objects.create(day=today, campaign="unnamed", clicks=50)
    client.force_login(staff_member("Operators"))
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/admin/growth/campaign/").content.decode()
    growth = [q["sql"] for q in ctx.captured_queries if '"growth_' in q["sql"]]
    assert [sql.startswith("SELECT COUNT(*)") for sql in growth] == [True, True, False]  # counts, then the page
    assert '"growth_referralclickday"' in growth[-1]  # its clicks: a subquery in the same SELECT
    assert 'value="https://goatedvips.example/go/friday-stream/"' in page
    assert '<td class="field-clicks_recent">7</td>' in page
    assert '<td class="field-clicks_recent">0</td>' in page


def test_an_operator_creates_a_campaign_and_it_is_audited(client):
    operator = staff_member("Operators")
    client.force_login(operator)
    response = client.post("/admin/growth/campaign/add/", {"slug": "friday-stream", "name": "Friday", "note": ""})
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="friday-stream")
    assert campaign.created_by == operator
    from core.models import AuditEntry

    assert AuditEntry.objects.filter(action="campaign.add").exists()
    bad = client.post("/admin/growth/campaign/add/", {"slug": "Friday Stream!", "name": "Bad", "note": ""})
    assert bad.status_code == 200
    assert not Campaign.objects.filter(name="Bad").exists()


def test_click_days_are_read_only(client):
    ReferralClickDay.objects.create(day=datetime.now(UTC).date(), campaign="", clicks=1, unique_visitors=1)
    client.force_login(staff_member("Operators"))
    page = client.get("/admin/growth/referralclickday/").content.decode()
    assert "(plain /go/)" in page
    assert client.get("/admin/growth/referralclickday/add/").status_code == 403
