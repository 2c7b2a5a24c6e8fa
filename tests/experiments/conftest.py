"""An experiment on the home hero, started, and visitor cookies made the way the site signs them."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.signing import get_cookie_signer
from django.utils import timezone

from experiments.assignment import variant_for
from experiments.models import Experiment, Slot, Variant
from experiments.services import experiment_start
from experiments.web import CONSENT_COOKIE, VISITOR_COOKIE, VISITOR_SALT

CONTROL_BUTTON = "Join Goated with our code"
BOLD_HEADLINE = "Race for real prizes every month"
BOLD_BUTTON = "Claim your spot"


@pytest.fixture
def experiment(db):
    exp = Experiment.objects.create(
        key="hero-text", name="Hero text", slot=Slot.HOME_HERO, starts_at=timezone.now() - timedelta(hours=1)
    )
    Variant.objects.create(experiment=exp, key="control", position=0, weight=1, button_text=CONTROL_BUTTON)
    Variant.objects.create(experiment=exp, key="bold", position=1, weight=1, headline=BOLD_HEADLINE,
                           button_text=BOLD_BUTTON)  # fmt: skip
    assert experiment_start(exp.pk, actor=None)
    exp.refresh_from_db()
    return exp


def visitor_in(arm: str, key: str = "hero-text") -> str:
    """A visitor id (22 URL-safe characters, like the site's) that the split puts in `arm`."""
    for i in itertools.count():
        vid = f"visitor{i:015d}"
        if variant_for(vid, key, [("control", 1), ("bold", 1)]) == arm:
            return vid
    raise AssertionError("unreachable")


def signed_visitor(vid: str) -> str:
    return get_cookie_signer(salt=VISITOR_COOKIE + VISITOR_SALT).sign(vid)


def consenting(client, vid: str | None = None, answer: str = "granted"):
    client.cookies[CONSENT_COOKIE] = answer
    if vid:
        client.cookies[VISITOR_COOKIE] = signed_visitor(vid)
    return client
