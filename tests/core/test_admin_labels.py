"""Admin names an operator reads (issue 33): "Feature switches", "VIP tiers", breadcrumbs on the bonus-code
generation page, and round default times in admin forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.urls import reverse
from waffle.models import Switch

from core.dates import end_of_day_utc
from tests.factories import StaffFactory
from vip.models import VipTier

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client):
    client.force_login(StaffFactory())
    return client


def _breadcrumbs(page: str) -> list[str]:
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", part).strip() for part in crumbs.split("&rsaquo;")]


def test_feature_switches_are_named_so_in_admin_not_after_the_library(boss):
    assert apps.get_app_config("waffle").verbose_name == "Feature switches"
    index = boss.get(reverse("admin:index")).content.decode()
    assert ">Feature switches</a>" in index
    assert "django-waffle" not in index.lower()
    page = boss.get(reverse("admin:waffle_switch_changelist")).content.decode()
    assert _breadcrumbs(page)[:2] == ["Home", "Feature switches"]
    assert "<h1>Feature switches</h1>" in page
    assert Switch._meta.app_label == "waffle"  # tables, URLs and permissions stay waffle's


def test_core_keeps_its_own_app_config_beside_the_switches_one():
    from core.apps import CoreConfig

    assert type(apps.get_app_config("core")) is CoreConfig  # its ready() connects the roles sync


def test_vip_tiers_are_spelled_vip(boss):
    assert VipTier._meta.verbose_name_plural == "VIP tiers"
    index = boss.get(reverse("admin:index")).content.decode()
    assert ">VIP tiers</a>" in index
    assert "Vip tiers" not in index
    assert "Vip tier" not in boss.get(reverse("admin:vip_viptier_add")).content.decode()


def test_the_code_generation_page_leads_back_to_bonus_codes(boss):
    page = boss.get(reverse("admin:vip_bonuscode_generate")).content.decode()
    assert _breadcrumbs(page) == ["Home", "VIP &amp; rewards", "Bonus codes", "Generate bonus codes"]
    assert f'<a href="{reverse("admin:vip_bonuscode_changelist")}">Bonus codes</a>' in page


def test_generated_codes_expire_by_default_at_the_end_of_a_utc_day(boss):
    page = boss.get(reverse("admin:vip_bonuscode_generate")).content.decode()
    expected = end_of_day_utc(30)
    assert f'name="expires_at_0" value="{expected:%Y-%m-%d}"' in page
    assert 'name="expires_at_1" value="23:59:59"' in page


def test_end_of_day_utc_is_the_last_second_of_the_utc_day():
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert end_of_day_utc(0, now=late) == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert end_of_day_utc(30, now=late) == datetime(2027, 1, 30, 23, 59, 59, tzinfo=UTC)
