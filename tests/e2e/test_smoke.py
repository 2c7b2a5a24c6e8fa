import io

import pytest
from django.core.management import call_command

from tests.factories import StaffFactory

# serialized_rollback keeps the rows data migrations created (VIP tiers, staff groups) between tests.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def demo_data():
    call_command("seed_demo", stdout=io.StringIO())


def test_home_page_shows_the_live_race_and_top_players(live_server, page, demo_data, screenshot):
    page.goto(live_server.url)
    assert page.title().startswith("GoatedVIPs")
    assert "Monthly Race" in page.locator("h1").inner_text()
    assert page.locator("table.board tbody tr").count() == 10
    screenshot("home-desktop")


def test_home_page_fits_a_360px_phone_without_horizontal_scroll(live_server, page, demo_data, screenshot):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360
    screenshot("home-360")


def test_operator_signs_in_to_the_back_office(live_server, page, password, screenshot):
    StaffFactory(username="ops")
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert "GoatedVIPs back office" in page.content()
    assert page.locator("#content-main").get_by_role("link", name="Wager races", exact=True).is_visible()
    screenshot("admin-index")


def test_api_docs_render_from_local_assets(live_server, page):
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "GoatedVIPs API" in page.locator(".swagger-ui .info .title").inner_text()
