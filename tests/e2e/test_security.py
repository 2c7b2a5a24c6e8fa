"""Security controls in a real browser: staff two-factor sign-in, and every page working under the CSP."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, PlayerFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _code(secret: str) -> str:
    return f"{totp(base64.b32decode(secret + '=' * (-len(secret) % 8))):06d}"


def _admin_sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")


def test_a_staff_member_enrols_an_authenticator_then_signs_in_with_a_code(live_server, page, settings, screenshot):
    settings.STAFF_2FA = True
    StaffFactory(username="boss")
    _admin_sign_in(page, live_server.url, "boss")
    page.wait_for_url("**/accounts/2fa/setup/**")
    assert page.locator("#totp-qr").is_visible()
    secret = page.get_attribute("#totp-secret", "data-secret")
    page.fill("#otp-token", _code(secret))
    page.click("#otp-form button[type=submit]")
    expect(page.locator("#recovery-codes code")).to_have_count(10)  # waits for the page after the submit
    codes = page.locator("#recovery-codes code").all_inner_texts()
    screenshot("2fa-recovery-codes")
    page.click("#continue")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("#dashboard").is_visible()
    # A new session: the password alone does not open admin; a recovery code does (once).
    page.context.clear_cookies()
    _admin_sign_in(page, live_server.url, "boss")
    page.wait_for_url("**/accounts/2fa/?**")
    page.goto(f"{live_server.url}/admin/races/wagerrace/")
    page.wait_for_url("**/accounts/2fa/?**")
    page.fill("#otp-token", codes[0])
    page.click("#otp-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/races/wagerrace/")
    assert "Wager races" in page.content()


def test_the_site_admin_and_api_docs_work_under_the_content_security_policy(live_server, browser):
    """No CSP violation on the main pages, and the scripts the CSP allows do run (live board, Swagger UI)."""
    UserFactory(username="player", email_verified=True, verification_status="verified", player=PlayerFactory())
    StaffFactory(username="root")
    violations: list[str] = []

    def watch(page):
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        return page

    anonymous = watch(browser.new_page())
    response = anonymous.goto(f"{live_server.url}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers["permissions-policy"].startswith("camera=()")
    for path in ("/leaderboard/", "/races/", "/vip/", "/accounts/login/", "/how-it-works/"):
        anonymous.goto(f"{live_server.url}{path}")
    anonymous.goto(f"{live_server.url}/api/docs/")
    anonymous.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # Swagger UI ran from our own file

    signed_in = watch(browser.new_page())
    signed_in.goto(f"{live_server.url}/accounts/login/")
    signed_in.fill("#id_username", "player")
    signed_in.fill("#id_password", TEST_PASSWORD)
    signed_in.click("form button[type=submit]")
    for path in ("/wheel/", "/bonus-codes/", "/support/", "/accounts/settings/"):
        signed_in.goto(f"{live_server.url}{path}")

    staff = watch(browser.new_page())
    _admin_sign_in(staff, live_server.url, "root")
    for path in ("/admin/", "/admin/races/wagerrace/add/", "/admin/accounts/user/"):
        staff.goto(f"{live_server.url}{path}")
    assert violations == []
