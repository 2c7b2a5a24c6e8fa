"""Prize payouts: one per prize when a race is finalized, a database that refuses paying more than the pool,
the approve → pay queue (in bulk, by a CSV of references), what players see, and the audit trail."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.urls import reverse

from core.models import AuditEntry
from notifications.models import Notification
from payouts import services as svc
from payouts.models import Payout
from races.models import RaceResult, WagerRace
from races.services.lifecycle import race_tick
from tests.factories import PlayerFactory, UserFactory, WagerRaceFactory, staff_member
from tests.races.test_race_engine import DEC_1, apply_sync, monthly_race

pytestmark = pytest.mark.django_db
TABLE = {"1": 50, "2": 30, "3": 20}


@pytest.fixture
def finished(django_capture_on_commit_callbacks):
    """November played out: four players, a $500 pool split 50/30/20, finalized by the race tick."""
    race = monthly_race(prize_distribution=TABLE)
    apply_sync(datetime(2026, 11, 30, 12, tzinfo=UTC), {
        "ace": ("900", "0", "900"), "bee": ("700", "0", "700"), "cat": ("500", "0", "500"), "dog": ("100", "0", "100"),
    })  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        race_tick(now=DEC_1 + timedelta(seconds=30))
    race.refresh_from_db()
    return race


@pytest.fixture
def operator():
    return staff_member("Operators")


@pytest.fixture
def cashier():
    """A second operator: with four eyes (PAYOUT_FOUR_EYES, on by default) the one who approved never pays."""
    return staff_member("Operators")


def test_a_finalized_race_has_one_pending_payout_per_prize(finished):
    payouts = Payout.objects.filter(race=finished).select_related("result").order_by("result__rank")
    assert [(p.result.rank, p.destination, p.amount, p.status, p.method) for p in payouts] == [
        (1, "Nace", Decimal("250.00"), "pending", "manual"),
        (2, "Nbee", Decimal("150.00"), "pending", "manual"),
        (3, "Ncat", Decimal("100.00"), "pending", "manual"),
    ]  # dog's 4th place has no prize, so no payout
    assert RaceResult.objects.filter(race=finished).count() == 4


def test_the_database_refuses_payouts_above_the_pool(finished):
    dog = RaceResult.objects.get(race=finished, uid="dog")
    # Written directly, past every service: the database itself says no.
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(result=dog, race=finished, player=dog.player, amount=Decimal("0.01"), destination="x")
    first = Payout.objects.get(race=finished, result__rank=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.filter(pk=first.pk).update(amount=Decimal("250.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        WagerRace.objects.filter(pk=finished.pk).update(prize_pool=Decimal("499.99"))
    # A cancelled payout frees its share of the pool.
    svc.payouts_cancel([first.pk], actor=None, note="Duplicate account")
    Payout.objects.create(result=dog, race=finished, player=dog.player, amount=Decimal("250"), destination="Ndog")
    assert Payout.objects.exclude(status="cancelled").filter(race=finished).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_payouts_written_at_once_cannot_both_fit(vip_ladder):
    """PostgreSQL: the trigger locks the race row, so the second writer waits and then sees the first payout.
    SQLite (one writer at a time): the second writer is refused its write lock. Never both."""
    race = WagerRaceFactory(prize_pool=Decimal("100"), status=WagerRace.Status.COMPLETED)
    results = [
        RaceResult.objects.create(race=race, player=p, rank=i, name=p.name, uid=p.uid, prize=Decimal("60"))
        for i, p in enumerate(PlayerFactory.create_batch(2), start=1)
    ]
    barrier, outcomes = threading.Barrier(2, timeout=10), []

    def write(result):
        try:
            barrier.wait()
            with transaction.atomic():
                Payout.objects.create(result=result, race=race, player=result.player, amount=Decimal("60"),
                                      destination=result.name)  # fmt: skip
            outcomes.append("ok")
        except (IntegrityError, OperationalError):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(r,)) for r in results]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(outcomes) == ["ok", "refused"]
    assert Payout.objects.filter(race=race).count() == 1


def test_approve_then_mark_paid_in_bulk_tells_each_player_once(
    finished, operator, cashier, django_capture_on_commit_callbacks
):
    ace = UserFactory(player=RaceResult.objects.get(race=finished, uid="ace").player)
    ids = list(Payout.objects.filter(race=finished).values_list("pk", flat=True))
    refused = svc.payouts_mark_paid(ids, actor=operator, reference="TIP-1")
    assert refused.changed == []
    assert len(refused.skipped) == 3
    assert "approve it first" in refused.summary("paid")
    assert sorted(svc.payouts_approve(ids, actor=operator).changed) == sorted(ids)
    with django_capture_on_commit_callbacks(execute=True):
        report = svc.payouts_mark_paid(ids, actor=cashier, reference="TIP-2026-11")
        again = svc.payouts_mark_paid(ids, actor=cashier, reference="TIP-2026-11")
    assert sorted(report.changed) == sorted(ids)
    assert again.changed == []
    assert set(Payout.objects.filter(race=finished).values_list("status", "reference")) == {("paid", "TIP-2026-11")}
    notes = Notification.objects.filter(user=ace, title__startswith="Your prize for")
    assert [n.body for n in notes] == ["$250.00 to Nace on Goated (reference TIP-2026-11)."]
    entries = AuditEntry.objects.filter(action__startswith="payout.").values_list("action", "actor")
    assert sorted(entries) == sorted([("payout.approve", operator.pk)] * 3 + [("payout.pay", cashier.pk)] * 3)


def test_fail_retry_and_cancel_need_their_reasons(finished, operator):
    payout = Payout.objects.get(race=finished, result__rank=2)
    svc.payouts_approve([payout.pk], actor=operator)
    with pytest.raises(svc.PayoutRefused, match="Say why"):
        svc.payouts_fail([payout.pk], actor=operator, note="  ")
    svc.payouts_fail([payout.pk], actor=operator, note="Goated account closed")
    svc.payouts_retry([payout.pk], actor=operator)
    svc.payouts_cancel([payout.pk], actor=operator, note="Winner asked to donate it")
    payout.refresh_from_db()
    assert (payout.status, payout.note) == ("cancelled", "Winner asked to donate it")
    assert svc.payouts_approve([payout.pk], actor=operator).skipped  # cancelled is final


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_csv_of_references_marks_exactly_those_rows_paid(finished, operator, cashier):
    first, second, third = Payout.objects.filter(race=finished).order_by("result__rank")
    svc.payouts_approve([first.pk, second.pk, third.pk], actor=operator)
    # The export, with references filled in for two of the three.
    exported = list(csv.DictReader(io.StringIO(svc.payouts_csv(Payout.objects.filter(race=finished).order_by("pk")))))
    assert [r["destination"] for r in exported] == ["Nace", "Nbee", "Ncat"]
    for row in exported:
        row["reference"] = {str(first.pk): "TIP-A", str(third.pk): "TIP-C"}.get(row["payout_id"], "")
    report = svc.payouts_import_references(_csv(exported), actor=cashier)
    assert sorted(report.changed) == [first.pk, third.pk]
    statuses = dict(Payout.objects.filter(race=finished).values_list("pk", "reference"))
    assert statuses == {first.pk: "TIP-A", second.pk: "", third.pk: "TIP-C"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"id,ref\n1,x\n", "payout_id and reference"),
        (b"payout_id,reference\nabc,TIP\n", "is not a number"),
        (b"payout_id,reference\n999999,TIP\n", "does not exist"),
        ("payout_id,reference\n{a},TIP\n{a},TIP2\n", "appears twice"),
        ("payout_id,reference\n{b},TIP\n", "approve it first"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"payout_id,reference\n", "at least one line"),
    ],
)
def test_a_bad_csv_changes_nothing_and_says_why(finished, operator, content, problem):
    first, second, _ = Payout.objects.filter(race=finished).order_by("result__rank")
    svc.payouts_approve([first.pk], actor=operator)
    if isinstance(content, str):
        content = content.format(a=first.pk, b=second.pk).encode()
    with pytest.raises(svc.ImportRefused) as refused:
        svc.payouts_import_references(content, actor=operator)
    assert problem in (refused.value.message + " ".join(refused.value.errors))
    assert not Payout.objects.filter(status="paid").exists()


def test_players_see_their_payout_on_the_race_page_their_profile_and_the_api(finished, client, operator, cashier):
    ace = UserFactory(player=RaceResult.objects.get(race=finished, uid="ace").player)
    cat = UserFactory(player=RaceResult.objects.get(race=finished, uid="cat").player)
    payout = Payout.objects.get(race=finished, destination="Nace")
    svc.payouts_approve([payout.pk], actor=operator)
    svc.payouts_mark_paid([payout.pk], actor=cashier, reference="TIP-9")
    client.force_login(ace)
    page = client.get(reverse("races:detail", args=[finished.pk])).content.decode()
    assert 'id="my-payout"' in page
    assert "TIP-9" in page
    assert "payout-paid" in page
    profile = client.get(reverse("races:player", args=["ace"])).content.decode()
    assert 'class="payout-status payout-paid">paid<' in profile
    body = client.get("/api/v1/me/payouts/").json()
    assert body["count"] == 1
    assert body["results"][0] | {"created_at": None, "paid_at": None} == {
        "id": payout.pk, "source": "race", "race": {"id": finished.pk, "title": finished.title}, "raffle": None,
        "rank": 1, "amount": "250.00",
        "status": "paid", "destination": "Nace", "reference": "TIP-9", "created_at": None, "paid_at": None,
    }  # fmt: skip
    # Another winner sees only their own, still pending, without a reference.
    client.force_login(cat)
    assert [(r["status"], r["reference"]) for r in client.get("/api/v1/me/payouts/").json()["results"]] == [
        ("pending", "")
    ]
    assert client.get("/api/v1/me/payouts/", {"limit": "0"}).status_code == 400
    client.logout()
    assert client.get("/api/v1/me/payouts/").status_code in (401, 403)


def test_the_admin_queue_approves_pays_with_a_reference_exports_and_imports(finished, client, operator, cashier):
    client.force_login(operator)
    changelist = reverse("admin:payouts_payout_changelist")
    ids = [str(pk) for pk in Payout.objects.filter(race=finished).values_list("pk", flat=True)]
    client.post(changelist, {"action": "approve", "_selected_action": ids})
    assert set(Payout.objects.values_list("status", flat=True)) == {"approved"}
    client.force_login(cashier)  # four eyes: another operator pays
    form = client.post(changelist, {"action": "mark_paid", "_selected_action": ids[:1]})
    assert 'name="reference"' in form.content.decode()
    client.post(changelist, {"action": "mark_paid", "_selected_action": ids[:1], "apply": "1", "reference": "T-1"})
    assert Payout.objects.get(pk=ids[0]).reference == "T-1"
    export = client.post(changelist, {"action": "export_csv", "_selected_action": ids})
    assert export["Content-Type"].startswith("text/csv")
    assert export.content.decode().count("\n") == 4
    upload = io.BytesIO(f"payout_id,reference\n{ids[1]},T-2\n".encode())
    upload.name = "refs.csv"
    response = client.post(reverse("admin:payouts_payout_import"), {"file": upload})
    assert response.status_code == 302
    assert Payout.objects.get(pk=ids[1]).reference == "T-2"
    bad = io.BytesIO(b"payout_id,reference\nnope,T\n")
    bad.name = "bad.csv"
    page = client.post(reverse("admin:payouts_payout_import"), {"file": bad}).content.decode()
    assert "is not a number" in page
    # No adding or deleting payouts by hand; the change page cannot edit a status.
    assert client.get(reverse("admin:payouts_payout_add")).status_code == 403
    change = reverse("admin:payouts_payout_change", args=[ids[2]])
    client.post(change, {"status": "paid", "reference": "forged"})
    assert Payout.objects.get(pk=ids[2]).status == "approved"
    support = staff_member("Support")
    client.force_login(support)
    assert client.get(changelist).status_code == 403
