import pytest
from django.test import RequestFactory

from core.ratelimit import UNKNOWN_CLIENT, client_ip


@pytest.fixture
def rf():
    return RequestFactory()


def test_socket_address_is_used_when_no_proxy_is_trusted(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 0
    request = rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "203.0.113.7"


def test_forwarded_for_is_read_from_the_right_for_trusted_hops(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    # The client prepended a fake entry; our one proxy appended the real address last.
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    assert client_ip(request) == "198.51.100.9"


def test_garbage_forwarded_for_falls_back_to_the_socket_address(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(request) == "10.0.0.2"


def test_a_request_without_any_address_shares_one_bucket(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 0
    request = rf.get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) == UNKNOWN_CLIENT
