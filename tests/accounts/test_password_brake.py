"""One brake per username on every place a password is typed (core.ratelimit.password_brake, docs/security.md).

Tried as a guesser spread over 25 addresses would, at each entry point: the site's sign-in, admin's sign-in, the
API's token endpoint and admin's password change (the current password). The 11th try in a minute is a 429 with
the same message everywhere, the right password too until the window passes, and other accounts are unaffected.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db
LOCKOUT = "Too many requests. Please wait a minute and try again."
NEW_PASSWORD = "An0ther-long-passphrase!"


def _site_login(username: str, password: str, address: dict) -> tuple[int, str]:
    response = Client().post("/accounts/login/", {"username": username, "password": password}, **address)
    return response.status_code, response.content.decode()


def _admin_login(username: str, password: str, address: dict) -> tuple[int, str]:
    response = Client().post("/admin/login/", {"username": username, "password": password}, **address)
    return response.status_code, response.content.decode()


def _token(username: str, password: str, address: dict) -> tuple[int, str]:
    body = {"username": username, "password": password}
    response = APIClient().post("/api/v1/auth/token/", body, format="json", **address)
    return response.status_code, response.json()["error"]["message"] if response.status_code >= 400 else ""


def _password_change(username: str, password: str, address: dict) -> tuple[int, str]:
    from accounts.models import User

    browser = Client()
    browser.force_login(User.objects.get(username=username))
    form = {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = browser.post("/admin/password_change/", form, **address)
    return response.status_code, response.content.decode()


# entry point, status of a wrong password, status of the right one
ENTRY_POINTS = {
    "site login": (_site_login, 200, 302),
    "admin login": (_admin_login, 200, 302),
    "token endpoint": (_token, 400, 200),
    "password change": (_password_change, 200, 302),
}


def _address(via: str, i: int, settings) -> dict:
    ip = f"203.0.{i // 250}.{i % 250 + 1}"
    if via == "forwarded":  # behind our one proxy: the address it wrote is the client's
        settings.TRUSTED_PROXY_HOPS = 1
        return {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": f"198.18.0.9, {ip}"}
    return {"REMOTE_ADDR": ip}


@pytest.mark.parametrize("via", ["remote_addr", "forwarded"])
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_the_eleventh_password_for_one_username_is_refused_from_any_address(entry, via, settings, ratelimit_clock):
    attempt, wrong_status, right_status = ENTRY_POINTS[entry]
    StaffFactory(username="target")
    StaffFactory(username="bystander")
    answers = [attempt("target", f"guess-{i}", _address(via, i, settings)) for i in range(25)]
    assert [status for status, _ in answers[:10]] == [wrong_status] * 10
    assert [status for status, _ in answers[10:]] == [429] * 15
    assert all(LOCKOUT in text for _, text in answers[10:])
    # The right password is refused too while the window lasts, from a fresh address.
    assert attempt("target", TEST_PASSWORD, _address(via, 100, settings))[0] == 429
    # Another account is not locked by it.
    assert attempt("bystander", TEST_PASSWORD, _address(via, 101, settings))[0] == right_status
    ratelimit_clock.advance(60)
    assert attempt("target", TEST_PASSWORD, _address(via, 102, settings))[0] == right_status


def test_the_entry_points_share_one_bucket_per_username(settings, ratelimit_clock):
    """A guesser gets ten tries at an account in all, not ten at each door."""
    StaffFactory(username="target")
    tries = [_site_login, _admin_login, _token, _password_change] * 3
    statuses = [attempt("target", f"guess-{i}", _address("remote_addr", i, settings))[0] for i, attempt in
                enumerate(tries)]  # fmt: skip
    assert 429 not in statuses[:10]
    assert statuses[10:] == [429, 429]


def test_the_username_is_braked_whatever_its_case_or_spaces(settings, ratelimit_clock):
    StaffFactory(username="target")
    for i in range(10):
        _token(["Target", "TARGET ", " target"][i % 3], "guess", _address("remote_addr", i, settings))
    assert _token("target", TEST_PASSWORD, _address("remote_addr", 50, settings))[0] == 429
