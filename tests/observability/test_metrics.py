"""GET /metrics: Prometheus text that moves with syncs, sockets, tasks, requests and notifications; invisible
(404) to anyone without the token outside the allowed addresses."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from notifications.services import notify
from races.tasks import sync_wagers_task
from tests.factories import UserFactory
from tests.realtime.test_consumers import connect

OUTSIDE = "203.0.113.9"


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            values[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return values


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_are_404_without_the_token_from_elsewhere_and_200_with_it(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    outside = Client(REMOTE_ADDR=OUTSIDE)
    assert outside.get("/metrics").status_code == 404
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert scrape(outside, HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert scrape(Client())  # loopback is allowed by default
    settings.METRICS_TOKEN = ""
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404  # no token: no way in


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_sync_a_socket_a_task_a_request_and_a_notification_move_their_counters(settings):
    settings.AFFILIATE_API_URL = ""  # the demo feed
    before = await sync_to_async(scrape)()

    await sync_to_async(sync_wagers_task.delay)()  # a task that runs a sync (in process in tests)
    ws, snapshot = await connect("/ws/leaderboard/")
    assert snapshot["type"] == "snapshot"
    user = await sync_to_async(UserFactory)()
    await sync_to_async(notify)(user, "ticket.reply", title="Support replied")
    await sync_to_async(Client().get)("/leaderboard/?period=monthly")
    during = await sync_to_async(scrape)()
    await ws.disconnect()
    after = await sync_to_async(scrape)()

    def moved(name, **labels) -> float:
        return value(during, name, **labels) - value(before, name, **labels)

    assert moved("goatedvips_sync_runs_total", outcome="ok") == 1
    assert moved("goatedvips_sync_rows_total", kind="created") == 300
    assert moved("goatedvips_sync_duration_seconds_count") == 1
    assert moved("goatedvips_celery_tasks_total", task="races.sync_wagers", outcome="success") == 1
    assert moved("goatedvips_celery_task_duration_seconds_count", task="races.sync_wagers") == 1
    assert moved("goatedvips_websockets_opened_total", stream="leaderboard") == 1
    assert value(during, "goatedvips_websockets_open", stream="leaderboard") >= 1
    assert (
        value(after, "goatedvips_websockets_open", stream="leaderboard")
        == value(during, "goatedvips_websockets_open", stream="leaderboard") - 1
    )
    assert moved("goatedvips_realtime_events_total", event="leaderboard.updated", outcome="sent") >= 1
    assert moved("goatedvips_notification_sends_total", channel="site", outcome="sent") == 1
    assert moved("goatedvips_http_requests_total", route="/leaderboard/", method="GET", status="200") == 1
    assert moved("goatedvips_http_request_duration_seconds_count", route="/leaderboard/", method="GET") == 1
    # Facts read at scrape time.
    assert 0 <= value(after, "goatedvips_sync_last_success_age_seconds") < 60


@pytest.mark.django_db
def test_a_failed_sync_and_a_failing_notification_channel_are_counted(settings, httpserver, tg):
    settings.AFFILIATE_API_URL = httpserver.url_for("/feed")
    settings.FEED_MAX_RETRIES = 0
    httpserver.expect_request("/feed").respond_with_data("nope", status=500)
    before = scrape()
    from races.services.sync import sync_wagers

    assert not sync_wagers().ok
    tg.blocked.add(5151)
    from notifications.telegram import telegram_send_message

    assert telegram_send_message(5151, "hi") == "blocked"
    after = scrape()
    assert (
        value(after, "goatedvips_sync_runs_total", outcome="failed")
        - value(before, "goatedvips_sync_runs_total", outcome="failed")
        == 1
    )
    assert (
        value(after, "goatedvips_notification_sends_total", channel="telegram", outcome="blocked")
        - value(before, "goatedvips_notification_sends_total", channel="telegram", outcome="blocked")
        == 1
    )
    assert value(after, "goatedvips_sync_last_success_age_seconds") == -1  # never succeeded
