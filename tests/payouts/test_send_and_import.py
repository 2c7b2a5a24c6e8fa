"""A provider is asked to send a payout once (claimed into `sending` with an idempotency key first), and the
reference import refuses bad files with a clear error instead of a 500 (issue 29). Every test here fails on
8d96fe4: two presses sent twice, a 128 KB field and a 30-digit id crashed the import view, `0_7` and
Arabic-Indic digits were read as ids, bidi and zero-width characters reached the player's "paid" message, and the
upload was read before its size was checked."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.urls import reverse

from payouts import services as svc
from payouts.models import Payout
from payouts.providers import PayoutAttempt
from tests.payouts.test_payouts import cashier, finished, operator  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vip_ladder")]


class CountingProvider:
    """Records every request; answers what the test sets (pending: the money may be on its way)."""

    name = "counting"
    calls: list[dict] = []
    outcome = PayoutAttempt("pending")

    def send(self, *, payout_id: int, amount, destination: str, idempotency_key: str = "") -> PayoutAttempt:
        CountingProvider.calls.append({"payout_id": payout_id, "key": idempotency_key})
        return CountingProvider.outcome


@pytest.fixture
def counting(settings):
    settings.PAYOUT_PROVIDER = f"{__name__}.CountingProvider"
    CountingProvider.calls, CountingProvider.outcome = [], PayoutAttempt("pending")
    return CountingProvider


def test_two_presses_of_send_ask_the_provider_once(finished, operator, cashier, counting):  # noqa: F811
    payout = Payout.objects.get(race=finished, result__rank=1)
    svc.payouts_approve([payout.pk], actor=operator)
    first = svc.payouts_send([payout.pk], actor=cashier)
    second = svc.payouts_send([payout.pk], actor=cashier)
    assert len(counting.calls) == 1
    assert (first["pending"], second["in_flight"]) == (1, 1)
    payout.refresh_from_db()
    assert payout.status == Payout.Status.SENDING
    assert counting.calls[0]["key"] == str(payout.send_key)
    assert uuid.UUID(counting.calls[0]["key"]).version == 4
    # Nobody cancels it while the provider may still pay; an operator confirms it paid (or failed).
    assert svc.payouts_cancel([payout.pk], actor=cashier, note="Changed my mind").skipped
    assert svc.payouts_mark_paid([payout.pk], actor=cashier, reference="TX-77").changed == [payout.pk]
    assert svc.payouts_send([payout.pk], actor=cashier)["skipped"] == 1
    assert len(counting.calls) == 1


def test_a_provider_answer_settles_the_sending_payout(finished, operator, cashier, counting):  # noqa: F811
    paid, failed = Payout.objects.filter(race=finished).order_by("result__rank")[:2]
    svc.payouts_approve([paid.pk, failed.pk], actor=operator)
    counting.outcome = PayoutAttempt("paid", reference="TX-1")
    assert svc.payouts_send([paid.pk], actor=cashier)["paid"] == 1
    counting.outcome = PayoutAttempt("failed", message="Unknown user")
    assert svc.payouts_send([failed.pk], actor=cashier)["failed"] == 1
    statuses = dict(Payout.objects.filter(pk__in=[paid.pk, failed.pk]).values_list("pk", "status"))
    assert statuses == {paid.pk: "paid", failed.pk: "failed"}
    # A retried payout is a new payment: it gets a new key.
    old_key = Payout.objects.get(pk=failed.pk).send_key
    svc.payouts_retry([failed.pk], actor=operator)
    svc.payouts_approve([failed.pk], actor=operator)
    counting.outcome = PayoutAttempt("pending")
    svc.payouts_send([failed.pk], actor=cashier)
    assert counting.calls[-1]["key"] != str(old_key)


def test_the_manual_provider_still_leaves_paying_to_an_operator(finished, operator, cashier):  # noqa: F811
    payout = Payout.objects.get(race=finished, result__rank=1)
    svc.payouts_approve([payout.pk], actor=operator)
    assert svc.payouts_mark_paid([payout.pk], actor=cashier, reference="TIP-1").changed == [payout.pk]


# --- the reference import --------------------------------------------------------------------------------------


def _upload(client, content: bytes):
    upload = io.BytesIO(content)
    upload.name = "refs.csv"
    return client.post(reverse("admin:payouts_payout_import"), {"file": upload})


@pytest.fixture
def approved(finished, operator, cashier, client):  # noqa: F811
    """Three approved payouts and the second operator signed in to import their references."""
    ids = [p.pk for p in Payout.objects.filter(race=finished).order_by("pk")]
    svc.payouts_approve(ids, actor=operator)
    client.force_login(cashier)
    return ids


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{id},{big}", "not a readable CSV"),
        ("123456789012345678901234567890,TIP-1", "is not a number"),
        ("0_{id},TIP-1", "is not a number"),
        ("{arabic},TIP-1", "is not a number"),
        ("{id},TIP\u202e1-PIT", "printable"),
        ("{id},TIP\u200b-1", "printable"),
        ("{id},TIP\u2066-1", "printable"),
    ],
    ids=["128kb-field", "30-digit-id", "underscore-id", "arabic-indic-id", "bidi-override", "zero-width", "isolate"],
)
def test_a_bad_reference_file_is_refused_with_a_clear_error_never_a_500(client, approved, line, problem):
    pk = approved[0]
    line = line.format(id=pk, big="x" * (128 * 1024 + 1), arabic=str(pk).translate(ARABIC_INDIC))
    response = _upload(client, f"payout_id,reference\n{line}\n".encode())
    assert response.status_code == 200
    page = response.content.decode()
    assert "errornote" in page or "error" in page
    assert problem in page
    assert not Payout.objects.filter(status="paid").exists()


def test_marking_paid_by_hand_refuses_invisible_characters_too(approved, cashier):  # noqa: F811
    for reference in ("TIP\u202e1", "\u200bTIP", "TIP\u00ad1", "TIP\n1"):
        with pytest.raises(svc.PayoutRefused, match="printable"):
            svc.payouts_mark_paid(approved[:1], actor=cashier, reference=reference)
    assert svc.payouts_mark_paid(approved[:1], actor=cashier, reference="TIP 1 ✓").changed == approved[:1]


def test_the_upload_size_is_checked_before_it_is_read(client, approved, monkeypatch):
    def unread(self):
        raise AssertionError("the upload was read before its size was checked")

    monkeypatch.setattr(InMemoryUploadedFile, "read", property(unread))
    response = _upload(client, b"payout_id,reference\n" + b"1,x\n" * (svc.MAX_IMPORT_BYTES // 4 + 1))
    assert response.status_code == 200
    assert "larger than 1 MB" in response.content.decode()
