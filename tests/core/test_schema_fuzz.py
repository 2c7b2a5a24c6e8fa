"""Property-based API fuzzing: every operation in /api/schema/ is called with generated input.

A 5xx or a response that does not match the documented schema fails the test. New endpoints are picked up
automatically, so the run grows with the API.
"""

import contextlib
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

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


@contextlib.contextmanager
def _own_rate_limit_budget():
    """Count one generated request against a rate-limit budget of its own (a fresh django-ratelimit key prefix).

    An operation's examples all come from one client address: without this, the token endpoint's 10 a minute were
    spent by the first examples and the rest only met the 429. The limit itself is shown by
    tests/core/test_api.py::test_token_login_is_rate_limited_per_ip.
    """
    with override_settings(RATELIMIT_CACHE_PREFIX=f"rl:fuzz-{uuid.uuid4().hex}:"):
        yield


TOKEN = ("POST", "/api/v1/auth/token/")

# Generating the schema touches no database, so it can be loaded at collection time.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_test_connection_open")
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_matches_its_schema(case):
    if (case.method.upper(), case.path) != TOKEN:
        with _own_rate_limit_budget():
            response = case.call_and_validate()
        assert response.status_code != 429, "the rate limit answered, not the endpoint"
        return
    # A schema promises which requests are well formed, not which credentials exist. Schemathesis knows this for
    # operations that mint credentials from an OAuth `tokenUrl`, which DRF's token endpoint has not; so here the
    # only rejection allowed for a well-formed request is the documented wrong-credentials answer (any other 400,
    # a validation error on valid data, still fails). It surfaced only when the rate limit's minute rolled over
    # mid-run: until each example had a budget of its own, the first ten spent the limit and the rest got 429.
    with _own_rate_limit_budget():
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert response.status_code != 429, "the rate limit answered, not the endpoint"
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and response.status_code == 400:
        code = response.json()["error"]["code"]
        # Besides wrong credentials: text PostgreSQL cannot store (a NUL byte, a lone surrogate) is refused
        # everywhere (docs/security.md), which the schema's plain strings do not say.
        assert code == "invalid_credentials" or (code == "parse_error" and _unstorable(case.body)), code


def _unstorable(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False
