"""Prize payouts: one per prize of a finalized race, pending → approved → paid, or failed / cancelled.

Only this module changes a payout's status. Each change is audited with its actor; "paid" needs a reference
(the provider's, or the operator's note of the tip they sent) and tells the player once. The database refuses
payouts that would add up to more than the race's pool (payouts 0002), whatever writes them.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.csv_export import csv_text
from core.errors import ServiceError
from core.models import AuditEntry
from core.money import cents, money_text
from notifications.services import notify
from payouts.models import Payout
from payouts.providers import payout_provider
from races.models import RaceResult, WagerRace

logger = logging.getLogger(__name__)
S = Payout.Status

# action → (the statuses it starts from, the status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({S.PENDING}), S.APPROVED),
    "pay": (frozenset({S.APPROVED}), S.PAID),
    "fail": (frozenset({S.APPROVED}), S.FAILED),
    "retry": (frozenset({S.FAILED}), S.PENDING),
    "cancel": (frozenset({S.PENDING, S.APPROVED, S.FAILED}), S.CANCELLED),
}
WHY_NOT = {
    "approve": "only a pending payout can be approved",
    "pay": "approve it first (only an approved payout can be marked paid)",
    "fail": "only an approved payout can fail",
    "retry": "only a failed payout can be retried",
    "cancel": "a paid or cancelled payout cannot be cancelled",
}
MAX_REFERENCE = 128


class PayoutRefused(ServiceError):
    code = "payout_refused"


@dataclass
class PayoutReport:
    changed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # payout id → why it was left as it was

    def summary(self, verb: str) -> str:
        text = f"{len(self.changed)} payout(s) {verb}."
        if self.skipped:
            reasons = sorted(set(self.skipped.values()))
            text += f" {len(self.skipped)} left as they were: {'; '.join(reasons)}."
        return text


def payouts_create_for_race(sender=None, *, race: WagerRace, results: Iterable[RaceResult], **kwargs) -> int:
    """One pending payout per prize, written with the results (inside the finalization's transaction: the receiver
    of races.signals.race_finalized)."""
    method = payout_provider().name
    rows = [
        Payout(
            source=Payout.Source.RACE,
            result=r,
            race=race,
            player_id=r.player_id,
            amount=r.prize,
            method=method,
            destination=r.name,
        )
        for r in results
        if r.prize > 0
    ]
    Payout.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _clean_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise PayoutRefused(
            "Give the payment's reference (the tip or transaction id).", fields={"reference": ["Required."]}
        )
    if len(reference) > MAX_REFERENCE or any(ord(c) < 32 for c in reference):
        raise PayoutRefused(
            f"A reference is at most {MAX_REFERENCE} printable characters.", fields={"reference": ["Too long."]}
        )
    return reference


def _transition(
    ids: Iterable[int], action: str, *, actor=None, references: dict[int, str] | None = None, note: str = "",
    source: str = AuditEntry.Source.SERVICE,
) -> PayoutReport:  # fmt: skip
    allowed_from, to = TRANSITIONS[action]
    report = PayoutReport()
    now = timezone.now()
    with transaction.atomic():
        payouts = Payout.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk")
        for payout in payouts.select_related("race", "player__site_user"):
            if payout.status not in allowed_from:
                report.skipped[payout.pk] = f"#{payout.pk} is {payout.get_status_display().lower()}: {WHY_NOT[action]}"
                continue
            before = {"status": payout.status, "reference": payout.reference}
            payout.status = to
            fields = ["status", "updated_at"]
            if action == "approve":
                payout.approved_by, payout.approved_at = actor, now
                fields += ["approved_by", "approved_at"]
            elif action == "pay":
                payout.reference, payout.paid_by, payout.paid_at = references[payout.pk], actor, now
                fields += ["reference", "paid_by", "paid_at"]
            if note:
                payout.note = note[:500]
                fields.append("note")
            payout.save(update_fields=fields)
            audit_record(
                actor=actor, action=f"payout.{action}", target=payout, source=source, before=before,
                after={"status": payout.status, "reference": payout.reference, "amount": payout.amount,
                       "note": payout.note},
            )  # fmt: skip
            if action == "pay":
                _tell_paid(payout)
            report.changed.append(payout.pk)
    return report


def _tell_paid(payout: Payout) -> None:
    notify(
        getattr(payout.player, "site_user", None), "payout.paid",
        title=f"Your prize for {payout.race.title} was paid",
        body=f"{money_text(payout.amount)} to {payout.destination} on Goated (reference {payout.reference}).",
        url=f"/races/{payout.race_id}/", dedupe_key=f"payout-paid:{payout.pk}",
    )  # fmt: skip


def payouts_approve(ids: Iterable[int], *, actor, source: str = AuditEntry.Source.ADMIN) -> PayoutReport:
    return _transition(ids, "approve", actor=actor, source=source)


def payouts_mark_paid(
    ids: Iterable[int], *, actor, reference: str, source: str = AuditEntry.Source.ADMIN
) -> PayoutReport:
    """Mark approved payouts paid with one reference (a batch paid together)."""
    reference = _clean_reference(reference)
    ids = list(ids)
    return _transition(ids, "pay", actor=actor, references=dict.fromkeys(ids, reference), source=source)


def payouts_fail(ids: Iterable[int], *, actor, note: str, source: str = AuditEntry.Source.ADMIN) -> PayoutReport:
    if not (note or "").strip():
        raise PayoutRefused("Say why the payment failed.", fields={"note": ["Required."]})
    return _transition(ids, "fail", actor=actor, note=note.strip(), source=source)


def payouts_retry(ids: Iterable[int], *, actor, source: str = AuditEntry.Source.ADMIN) -> PayoutReport:
    return _transition(ids, "retry", actor=actor, source=source)


def payouts_cancel(ids: Iterable[int], *, actor, note: str, source: str = AuditEntry.Source.ADMIN) -> PayoutReport:
    if not (note or "").strip():
        raise PayoutRefused("Say why the payout is cancelled.", fields={"note": ["Required."]})
    return _transition(ids, "cancel", actor=actor, note=note.strip(), source=source)


def payouts_send(ids: Iterable[int], *, actor, source: str = AuditEntry.Source.ADMIN) -> dict[str, int]:
    """Hand approved payouts to the provider: paid ones are marked paid with its reference, failed ones failed
    with its message; with the manual provider nothing changes (an operator pays, then marks them paid)."""
    provider, counts = payout_provider(), {"paid": 0, "failed": 0, "pending": 0, "skipped": 0}
    for payout in Payout.objects.filter(pk__in=list(ids)).order_by("pk"):
        if payout.status != S.APPROVED:
            counts["skipped"] += 1
            continue
        attempt = provider.send(payout_id=payout.pk, amount=payout.amount, destination=payout.destination)
        if attempt.outcome == "paid":
            _transition([payout.pk], "pay", actor=actor, references={payout.pk: _clean_reference(attempt.reference)},
                        source=source)  # fmt: skip
        elif attempt.outcome == "failed":
            _transition([payout.pk], "fail", actor=actor, note=attempt.message or "The provider refused it.",
                        source=source)  # fmt: skip
        counts[attempt.outcome if attempt.outcome in counts else "pending"] += 1
    return counts


# --- CSV ---------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["payout_id", "race", "rank", "player", "destination", "amount", "method", "status", "reference",
                  "approved_at", "paid_at"]  # fmt: skip
MAX_IMPORT_BYTES = 1024 * 1024


def payouts_csv(payouts: Iterable[Payout]) -> str:
    """Names, destinations and references are text from players and the feed: `csv_text` keeps them inert."""
    rows = ([
        p.pk, p.race.title, p.result.rank, p.player.name, p.destination, cents(p.amount), p.method, p.status,
        p.reference, p.approved_at.isoformat() if p.approved_at else "", p.paid_at.isoformat() if p.paid_at else "",
    ] for p in payouts)  # fmt: skip
    return csv_text([EXPORT_COLUMNS, *rows])


class ImportRefused(ServiceError):
    code = "import_invalid"

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message, fields={"file": errors})
        self.errors = errors


def payouts_import_references(data: bytes, *, actor) -> PayoutReport:
    """Mark payouts paid from a CSV with the columns `payout_id` and `reference` (an export with the references
    filled in works). Every line is checked first: one bad line and nothing is changed."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused("The file is larger than 1 MB.", ["Too large."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("The file is not UTF-8 text (save it as CSV UTF-8).", ["Not UTF-8."]) from None
    rows = list(csv.DictReader(io.StringIO(text)))
    header = {(h or "").strip().lower() for h in (rows[0].keys() if rows else [])}
    if not rows or not {"payout_id", "reference"} <= header:
        raise ImportRefused(
            "The CSV needs a header with the columns payout_id and reference, and at least one line.",
            ["Missing columns payout_id, reference."],
        )
    errors, references = [], {}
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        raw_id, reference = row.get("payout_id", ""), row.get("reference", "")
        if not reference:
            continue  # a line without a reference is not paid yet: left alone
        try:
            payout_id = int(raw_id)
        except ValueError:
            errors.append(f"line {line}: payout_id {raw_id[:20]!r} is not a number")
            continue
        if payout_id in references:
            errors.append(f"line {line}: payout {payout_id} appears twice")
            continue
        try:
            references[payout_id] = _clean_reference(reference)
        except PayoutRefused as exc:
            errors.append(f"line {line}: {exc.message}")
    found = {p.pk: p for p in Payout.objects.filter(pk__in=list(references))}
    for payout_id, reference in references.items():
        payout = found.get(payout_id)
        if payout is None:
            errors.append(f"payout {payout_id} does not exist")
        elif payout.status == S.PAID and payout.reference != reference:
            errors.append(f"payout {payout_id} is already paid with another reference ({payout.reference})")
        elif payout.status not in (S.APPROVED, S.PAID):
            errors.append(f"payout {payout_id} is {payout.get_status_display().lower()}: {WHY_NOT['pay']}")
    if errors:
        raise ImportRefused(f"Nothing was changed: {len(errors)} problem(s) in the file.", errors)
    if not references:
        raise ImportRefused("No line of the file has a reference.", ["No references."])
    to_pay = {pk: ref for pk, ref in references.items() if found[pk].status == S.APPROVED}
    report = _transition(to_pay, "pay", actor=actor, references=to_pay, source=AuditEntry.Source.ADMIN)
    for pk in references.keys() - to_pay.keys():
        report.skipped[pk] = "already paid with that reference"
    return report
