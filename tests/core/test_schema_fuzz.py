"""Property-based API fuzzing: every operation in /api/schema/ is called with generated input.

A 5xx or a response that does not match the documented schema fails the test. New endpoints are picked up
automatically, so the run grows with the API.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from goatedvips.wsgi import application


@pytest.fixture
def _keep_test_connection_open():
    # Django closes "old" connections around each request; under the test transaction that would close the
    # connection the test runs in (the test client disconnects these handlers in the same way).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Generating the schema touches no database, so it can be loaded at collection time.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_test_connection_open")
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_matches_its_schema(case):
    case.call_and_validate()
