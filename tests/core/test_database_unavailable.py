"""A database that does not answer (down, restarting, the pool empty past DB_POOL_TIMEOUT) is a 503 with
Retry-After, never a 500 and never a page that queries the database again (make chaos, step "restart PostgreSQL")."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client, override_settings
from psycopg_pool import PoolTimeout

NO_DATABASE = OperationalError("connection failed: Connection refused")


def _pool_timeout() -> OperationalError:
    """What Django raises when psycopg_pool had no connection in time: its own error, caused by PoolTimeout."""
    try:
        try:
            raise PoolTimeout("couldn't get a connection after 3.00 sec")
        except PoolTimeout as cause:
            raise OperationalError(str(cause)) from cause
    except OperationalError as wrapped:
        return wrapped


@pytest.fixture
def client_without_raise():
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@pytest.mark.parametrize("error", [NO_DATABASE, InterfaceError("connection already closed")], ids=str)
@override_settings(DEBUG=False)
def test_an_api_request_without_a_database_is_a_503_json_with_retry_after(client_without_raise, error):
    with mock.patch("races.api.selectors.race_current", side_effect=error):
        response = client_without_raise.get("/api/v1/races/current/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_page_without_a_database_is_a_503_page_that_queries_nothing(client_without_raise):
    with (
        mock.patch("goatedvips.views.race_current", side_effect=_pool_timeout()),
        mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=NO_DATABASE) as query,
    ):
        response = client_without_raise.get("/", HTTP_ACCEPT="text/html")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Back in a moment" in response.content
    assert query.call_count == 0


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_any_other_error_is_still_a_500(client_without_raise):
    with mock.patch("races.api.selectors.race_current", side_effect=RuntimeError("a bug")):
        response = client_without_raise.get("/api/v1/races/current/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "Retry-After" not in response


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_500_whose_own_page_fails_is_still_a_plain_500(client_without_raise):
    with (
        mock.patch("goatedvips.views.race_current", side_effect=RuntimeError("a bug")),
        mock.patch("goatedvips.views.render", side_effect=RuntimeError("the page's header failed too")),
    ):
        response = client_without_raise.get("/", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
