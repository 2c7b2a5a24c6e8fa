"""The dashboard's analytics: every chart renders from seed_demo plus a generated 90-day history, with axes and
labels, and its CSV export carries exactly the numbers the chart draws."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from core.money import money_text
from goatedvips.analytics import CHARTS, DAILY_PEAKS_THIS_MONTH, WAGERED_THIS_MONTH, new_referred_players
from goatedvips.history import history_generate
from races.feed.volume import wager_day_record
from races.models import Player, WagerDay
from tests.factories import PlayerFactory, staff_member

pytestmark = pytest.mark.django_db
MARK = re.compile(r'<(?:rect|circle) [^>]*data-series="([^"]*)" data-label="([^"]*)" data-value="([^"]*)"')


@pytest.fixture
def history():
    call_command("seed_demo", stdout=io.StringIO())
    return history_generate(90)


def _drawn(page: str, key: str) -> dict[tuple[str, str], str]:
    figure = re.search(rf'<figure class="chart" data-chart="{key}">(.*?)</figure>', page, re.S)
    assert figure, f"chart {key} is not drawn"
    return {(html.unescape(s), html.unescape(label)): v for s, label, v in MARK.findall(figure.group(1))}


def _exported(client, key: str, days: int) -> dict[tuple[str, str], str]:
    response = client.get(reverse("analytics-csv", args=[key]), {"days": days})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    return {(name, row[0]): row[i] for row in rows for i, name in enumerate(header) if i}


@pytest.mark.parametrize("days", [30, 90])
def test_every_chart_renders_and_its_csv_matches_what_it_draws(client, history, days):
    client.force_login(staff_member("Operators"))
    page = client.get(reverse("admin:index"), {"days": days}).content.decode()
    assert f"Analytics · last {days} days" in page
    for key in CHARTS:
        drawn = _drawn(page, key)
        assert drawn, key
        assert any(float(v) > 0 for v in drawn.values()), f"{key} has no data"
        assert drawn == _exported(client, key, days), key
    # Axes: labelled ticks and an x-axis title on each chart.
    volume = re.search(r'data-chart="wager-volume">(.*?)</figure>', page, re.S).group(1)
    assert re.search(r">\$\d+(\.\d+)?k<", volume)
    assert "day (UTC)" in volume
    if days == 30:
        assert len(_drawn(page, "wager-volume")) == 30


def test_the_csv_export_refuses_bad_input_and_other_roles(client, history):
    client.force_login(staff_member("Operators"))
    assert client.get(reverse("analytics-csv", args=["wager-volume"]), {"days": "7"}).status_code == 400
    assert client.get(reverse("analytics-csv", args=["nope"])).status_code == 404
    client.force_login(staff_member("Support"))
    assert client.get(reverse("analytics-csv", args=["wager-volume"])).status_code == 403
    assert 'id="analytics"' not in client.get(reverse("admin:index")).content.decode()
    client.logout()
    assert client.get(reverse("analytics-csv", args=["wager-volume"])).status_code == 302  # to the admin login


def test_an_empty_site_shows_empty_states_not_errors(client):
    client.force_login(staff_member("Operators"))
    page = client.get(reverse("admin:index")).content.decode()
    assert "No daily history yet" in page
    assert "No race finished in this period." in page
    header, *rows = list(
        csv.reader(io.StringIO(client.get(reverse("analytics-csv", args=["signups"])).content.decode()))
    )
    assert header == ["day (UTC)", "Sign-ups", "Verifications approved"]
    assert len(rows) == 30


def test_each_sync_keeps_the_days_highest_figures():
    morning = datetime(2026, 11, 30, 8, tzinfo=UTC)
    wager_day_record(morning, Decimal("1000"), 10)
    wager_day_record(morning + timedelta(hours=8), Decimal("5000"), 40)
    wager_day_record(morning + timedelta(hours=9), Decimal("20"), 2)  # a partial answer never lowers the day
    wager_day_record(morning + timedelta(hours=17), Decimal("30"), 3)  # the next UTC day starts again
    assert list(WagerDay.objects.order_by("date").values_list("wagered", "active_players")) == [
        (Decimal("5000"), 40), (Decimal("30"), 3),
    ]  # fmt: skip


def test_the_transformation_log_page_shows_sync_duration_and_failures(client, history):
    client.force_login(staff_member("Operators"))
    page = client.get(reverse("admin:races_transformationlog_changelist")).content.decode()
    assert _drawn(page, "sync-duration")
    assert _drawn(page, "sync-errors")


@pytest.mark.django_db
def test_new_referred_players_count_first_appearances_per_day_and_over_seven_days():
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    for days_ago, count in ((0, 2), (1, 1), (6, 3), (7, 4), (40, 5)):
        for _ in range(count):
            PlayerFactory(first_seen=now - timedelta(days=days_ago))
    chart = new_referred_players(30, now)
    daily, weekly = (series.values for series in chart.series)
    assert len(chart.labels) == len(daily) == len(weekly) == 30
    assert chart.labels[-1] == "2026-12-07"
    assert daily[-1] == 2
    assert daily[-2] == 1
    assert weekly[-1] == 2 + 1 + 3  # today and the six days before it: the player of 7 days ago is outside
    assert sum(daily) == 2 + 1 + 3 + 4  # 40 days ago is outside the 30 days


def test_wagered_this_month_is_one_figure_wherever_it_is_shown(client, history, settings):
    """The dashboard's key figure, the analytics figure, its CSV and the latest point of the per-sync chart are the
    same number under the same name; the sum of the daily bars has a name and an explanation of its own."""
    from races.services.sync import sync_wagers

    settings.AFFILIATE_API_URL = ""  # the demo feed
    assert sync_wagers().ok
    client.force_login(staff_member("Operators"))
    page = client.get(reverse("admin:index")).content.decode()
    figure = re.compile(r'data-figure="wagered-this-month" data-value="([^"]+)">\s*<(?:div class="label"|dt)>([^<]+)<')
    shown = figure.findall(page)
    assert len(shown) == 2  # the key figure and the analytics figure
    assert {label for _value, label in shown} == {WAGERED_THIS_MONTH}
    month = Player.objects.aggregate(s=Sum("wager_month"))["s"]
    assert {Decimal(value) for value, _label in shown} == {month.quantize(Decimal("0.01"))}
    # The per-sync chart ends on the same figure.
    volume = re.search(r'aria-label="Wagered this month over time".*?→ (\$[\d,.]+) this month', page, re.S)
    assert volume.group(1) == money_text(month)
    # The CSV says the same, with what each figure is.
    response = client.get(reverse("analytics-csv", args=["wager-figures"]))
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header == ["figure", "value", "definition"]
    exported = {label: (Decimal(value), definition) for label, value, definition in rows}
    assert exported[WAGERED_THIS_MONTH][0] == month.quantize(Decimal("0.01"))
    assert "this_month counter" in exported[WAGERED_THIS_MONTH][1]
    # The figure computed another way: its own label, its own explanation, its own number.
    today = datetime.now(UTC).date()
    peaks = WagerDay.objects.filter(date__gte=today.replace(day=1)).aggregate(s=Sum("wagered"))["s"]
    assert exported[DAILY_PEAKS_THIS_MONTH][0] == peaks.quantize(Decimal("0.01"))
    assert "Not the same as “Wagered this month”" in exported[DAILY_PEAKS_THIS_MONTH][1]
    assert f"<dt>{DAILY_PEAKS_THIS_MONTH}</dt>" in page
    assert DAILY_PEAKS_THIS_MONTH != WAGERED_THIS_MONTH
    assert peaks != month  # the seeded data tells the two apart: their labels must too
    assert "Wagered this month" not in _chart_title(page, "wager-volume")


def _chart_title(page: str, key: str) -> str:
    return html.unescape(re.search(rf'id="chart-{key}">\s*<h3>(.*?)<a', page, re.S).group(1))
