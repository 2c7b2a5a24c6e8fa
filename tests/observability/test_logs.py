"""Log lines carry the request id, which follows a request into the Celery task it enqueued — through a real
broker and a real worker — and production lines are JSON."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.urls import reverse

from core.logs import RequestIdFilter
from goatedvips.celery import app
from tests.factories import staff_member


@pytest.fixture
def real_worker():
    """Tasks go through the broker (memory transport on SQLite runs, Redis on the PostgreSQL run) to a worker."""
    app.conf.task_always_eager = False
    app.conf.worker_hijack_root_logger = False  # keep the log handlers as the site configured them
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
            yield
    finally:
        app.conf.task_always_eager = True
        app.conf.worker_hijack_root_logger = True


@pytest.fixture
def json_lines(real_worker):
    """The production log configuration (JSON formatter + request id filter) on a handler the test can read,
    added once the worker has set up its logging."""
    from logging.config import DictConfigurator

    spec = django_settings.LOGGING["formatters"]["json"]
    formatter = DictConfigurator({}).configure_custom(dict(spec))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.mark.django_db(transaction=True)
def test_a_request_id_appears_in_the_log_lines_of_the_task_it_enqueued(client, settings, json_lines):
    settings.AFFILIATE_API_URL = ""  # the demo feed
    client.force_login(staff_member("Operators"))
    response = client.post(reverse("admin:races_transformationlog_sync"), HTTP_X_REQUEST_ID="req-0123456789abcdef")
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-0123456789abcdef"

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = [
            line for line in json_lines() if line["logger"] == "races.services.sync" and "synced" in line["message"]
        ]
        if done:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the task never logged its sync; lines: {json_lines()[-5:]}")
    assert done[0]["request_id"] == "req-0123456789abcdef"
    assert set(done[0]) >= {"time", "level", "logger", "request_id", "message"}
    assert done[0]["level"] == "INFO"


@pytest.mark.django_db
def test_every_response_has_an_id_and_a_bad_incoming_one_is_replaced(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert forged["X-Request-ID"].isalnum()
