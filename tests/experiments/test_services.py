"""Starting and stopping experiments, sign-up and verification conversions, the report in admin, and the page
cache holding only the control."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.utils import timezone

from accounts.models import User
from accounts.services import verification_approve, verification_request_create
from core.models import AuditEntry
from experiments.models import Conversion, Experiment, Exposure, Goal, Slot, Variant
from experiments.selectors import slot_forget
from experiments.services import ExperimentRefused, experiment_start, experiment_stop
from goatedvips.pagecache import AnonymousPageCache
from tests.asgi_http import asgi_request
from tests.experiments.conftest import BOLD_HEADLINE, consenting, signed_visitor, visitor_in
from tests.factories import PlayerFactory, StaffFactory


def _draft(key: str, variants: int = 2) -> Experiment:
    exp = Experiment.objects.create(key=key, name=key, slot=Slot.HOME_HERO, starts_at=timezone.now())
    for i in range(variants):
        Variant.objects.create(experiment=exp, key=f"v{i}", position=i, weight=1)
    return exp


@pytest.mark.django_db
def test_an_experiment_needs_two_to_four_variants_and_a_free_slot(experiment):
    with pytest.raises(ExperimentRefused, match="2 to 4 variants"):
        experiment_start(_draft("lonely", 1).pk, actor=None)
    with pytest.raises(ExperimentRefused, match="Another experiment is running"):
        experiment_start(_draft("second").pk, actor=None)
    assert experiment_start(experiment.pk, actor=None) is False  # already running
    assert Experiment.objects.filter(status=Experiment.Status.RUNNING).count() == 1


@pytest.mark.django_db
def test_stopping_pins_the_control_without_a_clear_winner_and_everyone_sees_it(client, experiment):
    consenting(client, visitor_in("bold")).get("/")
    staff = StaffFactory()
    assert experiment_stop(experiment.pk, actor=staff)
    experiment.refresh_from_db()
    assert (experiment.status, experiment.winner.key) == (Experiment.Status.STOPPED, "control")
    assert AuditEntry.objects.filter(action="experiment.stop", actor=staff).exists()
    assert experiment_stop(experiment.pk, actor=staff) is False
    client.cookies.clear()
    assert BOLD_HEADLINE not in client.get("/").content.decode()


@pytest.mark.django_db
def test_stopping_with_a_chosen_winner_shows_it_to_every_visitor_and_logs_no_more(client, experiment):
    bold = experiment.variants.get(key="bold")
    other = _draft("other-exp").variants.first()
    with pytest.raises(ExperimentRefused, match="own variants"):
        experiment_stop(experiment.pk, actor=None, winner=other)
    assert experiment_stop(experiment.pk, actor=None, winner=bold)
    assert BOLD_HEADLINE in client.get("/").content.decode()  # cookieless: the pinned winner
    assert BOLD_HEADLINE in consenting(client, visitor_in("control")).get("/").content.decode()
    assert Exposure.objects.count() == 0


@pytest.mark.django_db
def test_a_clearly_better_variant_is_pinned_at_the_stop(experiment):
    control, bold = experiment.variants.all()
    Exposure.objects.bulk_create(
        [Exposure(experiment=experiment, variant=control, visitor=f"c{i}") for i in range(1000)]
        + [Exposure(experiment=experiment, variant=bold, visitor=f"b{i}") for i in range(1000)]
    )
    click = Goal.REFERRAL_CLICK
    Conversion.objects.bulk_create(
        [Conversion(experiment=experiment, variant=control, visitor=f"c{i}", goal=click) for i in range(50)]
        + [Conversion(experiment=experiment, variant=bold, visitor=f"b{i}", goal=click) for i in range(90)]
    )
    assert experiment_stop(experiment.pk, actor=None)
    experiment.refresh_from_db()
    assert experiment.winner == bold


@pytest.mark.django_db
def test_an_experiment_outside_its_window_shows_the_control_and_logs_nothing(client, experiment):
    Experiment.objects.filter(pk=experiment.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    slot_forget(Slot.HOME_HERO)
    assert BOLD_HEADLINE not in consenting(client, visitor_in("bold")).get("/").content.decode()
    assert Exposure.objects.count() == 0


@pytest.mark.django_db
def test_sign_up_and_verification_convert_the_visitor_who_saw_the_variant(
    client, experiment, password, django_capture_on_commit_callbacks
):
    consenting(client, visitor_in("bold")).get("/")
    form = {
        "username": "newgoat",
        "email": "newgoat@example.com",
        "password1": password,
        "password2": password,
        "adult": "on",
        "terms": "on",
    }
    assert client.post("/accounts/register/", form).status_code == 302
    user = User.objects.get(username="newgoat")
    assert Exposure.objects.get().user == user
    player = PlayerFactory(name="NewGoatPlayer")
    request = verification_request_create(goated_name=player.name, user=user)
    with django_capture_on_commit_callbacks(execute=True):
        verification_approve(request.pk, actor=StaffFactory())
    goals = set(Conversion.objects.filter(variant__key="bold").values_list("goal", flat=True))
    assert goals == {Goal.SIGNUP, Goal.VERIFICATION}


@pytest.mark.django_db
def test_a_sign_up_without_consent_converts_nothing(client, experiment, password):
    client.get("/")
    form = {
        "username": "quietgoat",
        "email": "quiet@example.com",
        "password1": password,
        "password2": password,
        "adult": "on",
        "terms": "on",
    }
    assert client.post("/accounts/register/", form).status_code == 302
    assert Conversion.objects.count() == Exposure.objects.count() == 0


@pytest.mark.django_db
def test_the_admin_page_shows_the_report_and_starts_and_stops(client, staff_user, experiment):
    consenting(client, visitor_in("bold")).get("/")
    client.cookies.clear()
    client.force_login(staff_user)
    url = f"/admin/experiments/experiment/{experiment.pk}/change/"
    page = client.get(url).content.decode()
    assert "Report: Referral click (/go/) per visitor exposed (1 exposed)" in page
    assert "bold" in page
    assert "95 % interval" in page
    assert "Stop and pin the winner" in page
    assert client.get(f"/admin/experiments/experiment/{experiment.pk}/stop/").status_code == 405
    response = client.post(f"/admin/experiments/experiment/{experiment.pk}/stop/")
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED
    draft = _draft("fresh")
    client.post(f"/admin/experiments/experiment/{draft.pk}/start/")
    draft.refresh_from_db()
    assert draft.status == Experiment.Status.RUNNING
    lonely = _draft("lonely", 1)
    client.post(f"/admin/experiments/experiment/{lonely.pk}/start/")
    lonely.refresh_from_db()
    assert lonely.status == Experiment.Status.DRAFT


@pytest.mark.django_db
def test_the_report_warns_of_a_sample_ratio_mismatch(client, staff_user, experiment):
    control, bold = experiment.variants.all()
    Exposure.objects.bulk_create(
        [Exposure(experiment=experiment, variant=control, visitor=f"c{i}") for i in range(700)]
        + [Exposure(experiment=experiment, variant=bold, visitor=f"b{i}") for i in range(300)]
    )
    client.force_login(staff_user)
    page = client.get(f"/admin/experiments/experiment/{experiment.pk}/change/").content.decode()
    assert "Sample-ratio mismatch" in page


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_page_cache_holds_only_the_control_and_never_answers_a_consenting_visitor(settings):
    settings.PAGE_CACHE_SECONDS = 60
    await sync_to_async(_started_experiment)()
    cache = AnonymousPageCache(get_asgi_application())
    host = [(b"host", b"testserver")]
    first = await asgi_request(cache, "/", host)
    served = cache.served
    cookie = f"gv_consent=granted; gv_vid={signed_visitor(visitor_in('bold'))}".encode()
    personal = await asgi_request(cache, "/", [*host, (b"cookie", cookie)])
    again = await asgi_request(cache, "/", host)
    assert BOLD_HEADLINE.encode() in personal[2]
    assert BOLD_HEADLINE.encode() not in first[2]
    assert again[2] == first[2]
    assert cache.served == served + 1  # the cookieless repeat, never the consenting visitor
    assert await sync_to_async(Exposure.objects.count)() == 1


def _started_experiment() -> None:
    exp = Experiment.objects.create(key="hero-text", name="Hero", slot=Slot.HOME_HERO, starts_at=timezone.now())
    Variant.objects.create(experiment=exp, key="control", position=0, weight=1)
    Variant.objects.create(experiment=exp, key="bold", position=1, weight=1, headline=BOLD_HEADLINE)
    experiment_start(exp.pk, actor=None)
