"""Visual regression (issue 32): screenshots of the storefront's main pages at 360 and 1280 px compared with the
baselines committed in tests/e2e/baselines/, pixel by pixel (pixelmatch), with a small tolerance for
anti-aliasing.

Stable by construction: the demo data is seeded with the server's clock frozen at FROZEN (time-machine: the
live server runs in this process), the browser's clock is fixed at the same moment (Playwright's clock), the wheel
pays no prize in practice (its no-prize segments weigh a billion each), and what is random by design — seed
hashes and seeds — is masked. A page is compared over its first MAX_HEIGHT pixels.

After an intended change of a page: `make visual-update` writes new baselines (then look at them and commit).
A failing comparison leaves the new screenshot and a diff image under tests/artifacts/visual/.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from PIL import Image
from pixelmatch.contrib.PIL import pixelmatch

from accounts.models import User
from notifications.services import notify
from races.models import WagerRace
from support.models import SupportTicket
from support.services import ticket_message_post, ticket_open
from tests.e2e.conftest import ARTIFACTS, NetworkWatch, sign_in
from tests.factories import TEST_PASSWORD
from vip.models import WheelSegment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FROZEN = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)
BASELINES = Path(__file__).parent / "baselines"
UPDATE = os.environ.get("UPDATE_BASELINES") == "1"
WIDTHS = {360: 740, 1280: 800}
MAX_HEIGHT = 2400
TOLERANCE = 0.002  # share of pixels allowed to differ (font anti-aliasing); a moved block differs by far more
MASKS = ["#seed-hash", "code.hash", ".seed"]  # random by design (the wheel's seeds stay in a closed fold)


@pytest.fixture
def frozen_site():
    with time_machine.travel(FROZEN, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        for user in User.objects.filter(username__in=["demo", "admin"]):
            user.set_password(TEST_PASSWORD)
            user.email_verified = True
            user.save()
        WheelSegment.objects.filter(reward_amount=0).update(weight=1_000_000_000)
        demo, admin = User.objects.get(username="demo"), User.objects.get(username="admin")
        ticket = ticket_open(demo, subject="Weekly race prize not received",
                             description="I finished 3rd in last week's race; no prize yet.")  # fmt: skip
        # The same number in every run (ids depend on the tests that ran before): moved before anything points at it.
        SupportTicket.objects.filter(pk=ticket.pk).update(id=4242)
        ticket = SupportTicket.objects.get(pk=4242)
        ticket_message_post(ticket, admin, "It is approved and goes out with Monday's payouts.")
        notify(demo, "ticket.reply", title="Support replied", body="It is approved.", url=f"/support/{ticket.pk}/")
        race = WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("pk").first()
        yield {"race": f"/races/{race.pk}/", "ticket": f"/support/{ticket.pk}/"}


def _shoot(page, name: str, width: int) -> list[str]:
    """Screenshot the page and compare it with its baseline; returns what differs (empty when it matches)."""
    NetworkWatch(page).settle(timeout=20)
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    shot = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height},
                           mask=[page.locator(m) for m in MASKS], animations="disabled", caret="hide")  # fmt: skip
    baseline = BASELINES / f"{name}-{width}.png"
    if UPDATE:
        baseline.write_bytes(shot)
        return []
    if not baseline.exists():
        return [f"{baseline.name}: no baseline (make visual-update)"]
    new, old = Image.open(io.BytesIO(shot)).convert("RGBA"), Image.open(baseline).convert("RGBA")
    out = ARTIFACTS / "visual"
    out.mkdir(parents=True, exist_ok=True)
    if new.size != old.size:
        new.save(out / baseline.name)
        return [f"{baseline.name}: size {new.size} != baseline {old.size}"]
    diff = Image.new("RGBA", new.size)
    changed = pixelmatch(old, new, diff, threshold=0.1, includeAA=False)
    if changed > TOLERANCE * new.size[0] * new.size[1]:
        new.save(out / baseline.name)
        diff.save(out / f"diff-{baseline.name}")
        return [f"{baseline.name}: {changed} pixels differ ({changed / (new.size[0] * new.size[1]):.2%})"]
    return []


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_match_their_baselines(live_server, page, frozen_site, width):
    page.clock.set_fixed_time(FROZEN)
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    base, failures = live_server.url, []
    # The visitor has answered the cookie notice (tests/e2e/conftest.py): its sheet would cover part of each page.
    with time_machine.travel(FROZEN, tick=False):
        for name, path in (("home", "/"), ("leaderboard", "/leaderboard/"), ("race", frozen_site["race"])):
            page.goto(f"{base}{path}")
            failures += _shoot(page, name, width)
        sign_in(page, base, "demo")
        for name, path in (("bonus-codes", "/bonus-codes/"), ("ticket", frozen_site["ticket"]), ("wheel", "/wheel/")):
            page.goto(f"{base}{path}")
            failures += _shoot(page, name, width)
        page.locator("#spin").click()
        page.locator("#spin-card[data-state]").wait_for()
        failures += _shoot(page, "wheel-after-spin", width)
    assert failures == []
