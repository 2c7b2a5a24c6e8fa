"""Prize payouts: one per prize of a finalized race, pending → approved → (sending →) paid, or failed / cancelled.

Only this module changes a payout's status. Each change is audited with its actor; "paid" needs a reference
(the provider's, or the operator's note of the tip they sent) and tells the player once. The database refuses
payouts that would add up to more than the race's pool (payouts 0002), whatever writes them.

Four eyes (docs/security.md): nobody approves or pays the player their own account is linked to, and with
PAYOUT_FOUR_EYES the account that approved a payout never marks it paid or sends it. A provider is asked once per
payout: `payouts_send` claims it (approved → sending, with an idempotency key) before it calls the provider.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record, plays_as, same_person
from core.csv_export import csv_text
from core.errors import SeparationOfDuties, ServiceError
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
    # Claimed by payouts_send with a conditional UPDATE (one press, one provider request), not by _transition.
    "send": (frozenset({S.APPROVED}), S.SENDING),
    "pay": (frozenset({S.APPROVED, S.SENDING}), S.PAID),
    "fail": (frozenset({S.APPROVED, S.SENDING}), S.FAILED),
    "retry": (frozenset({S.FAILED}), S.PENDING),
    # Not while sending: the provider may still pay it. Mark it failed first (once it is known not paid).
    "cancel": (frozenset({S.PENDING, S.APPROVED, S.FAILED}), S.CANCELLED),
}
WHY_NOT = {
    "approve": "only a pending payout can be approved",
    "send": "only an approved payout can be sent",
    "pay": "approve it first (only an approved or sending payout can be marked paid)",
    "fail": "only an approved or sending payout can fail",
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
    refused: dict[int, str] = field(default_factory=dict)  # payout id → the separation of duties said no

    def summary(self, verb: str) -> str:
        text = f"{len(self.changed)} payout(s) {verb}."
        if self.skipped:
            reasons = sorted(set(self.skipped.values()))
            text += f" {len(self.skipped)} left as they were: {'; '.join(reasons)}."
        if self.refused:
            text += f" {len(self.refused)} refused: {'; '.join(sorted(self.refused.values()))}."
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


def payouts_create_for_raffle(*, raffle, winners: Iterable, **kwargs) -> int:
    """A pending payout per raffle winner with a prize (called by the raffle draw, in its transaction). `raffle`
    and `winners` are the giveaways app's rows (that app sits above this one)."""
    method = payout_provider().name
    rows = [
        Payout(
            source=Payout.Source.RAFFLE,
            raffle_winner=w,
            raffle=raffle,
            player_id=w.player_id,
            amount=w.prize,
            method=method,
            destination=w.name,
        )
        for w in winners
        if w.prize > 0
    ]
    Payout.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _clean_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise PayoutRefused(
            "Give the payment's reference (the tip or transaction id).", fields={"reference": ["Required."]}
        )
    # Printable only: no control or format characters (Cc, Cf: bidi overrides, zero-width marks), no separators
    # but the space: the reference is shown to the player in their "paid" message.
    if len(reference) > MAX_REFERENCE or not reference.isprintable():
        raise PayoutRefused(
            f"A reference is at most {MAX_REFERENCE} printable characters (no control, bidi or zero-width ones).",
            fields={"reference": ["Too long or not printable."]},
        )
    return reference


def _duty_refusal(action: str, payout: Payout, actor) -> str:
    """Why `actor` may not do `action` to `payout` (the separation of duties), or ""."""
    if action in ("approve", "pay", "send") and plays_as(actor, payout.player_id):
        return f"#{payout.pk} pays your own player: another operator must {action} it"
    if action in ("pay", "send") and settings.PAYOUT_FOUR_EYES and same_person(actor, payout.approved_by_id):
        return f"#{payout.pk} was approved by you: another operator must {action} it (four eyes)"
    return ""


def _transition(
    ids: Iterable[int], action: str, *, actor=None, references: dict[int, str] | None = None, note: str = "",
    source: str = AuditEntry.Source.SERVICE,
) -> PayoutReport:  # fmt: skip
    """Move each payout that may make `action`; refusals by the separation of duties are audited and, when nothing
    else changed, raised (after the audit rows are committed)."""
    allowed_from, to = TRANSITIONS[action]
    report = PayoutReport()
    with transaction.atomic():
        payouts = Payout.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk")
        for payout in payouts.select_related("race", "raffle", "player__site_user"):
            if payout.status not in allowed_from:
                report.skipped[payout.pk] = f"#{payout.pk} is {payout.get_status_display().lower()}: {WHY_NOT[action]}"
            elif why := _duty_refusal(action, payout, actor):
                report.refused[payout.pk] = why
                audit_record(actor=actor, action=f"payout.{action}.refused", target=payout, source=source, note=why)
            else:
                _apply(payout, action, to, actor=actor, references=references, note=note, source=source)
                report.changed.append(payout.pk)
    if report.refused and not report.changed:
        raise SeparationOfDuties(report.summary(TRANSITIONS_DONE[action]))
    return report


TRANSITIONS_DONE = {"approve": "approved", "pay": "marked paid", "fail": "marked failed", "retry": "retried",
                    "cancel": "cancelled", "send": "sent"}  # fmt: skip


def _apply(payout: Payout, action: str, to: str, *, actor, references, note: str, source: str) -> None:
    before = {"status": payout.status, "reference": payout.reference}
    payout.status = to
    fields = ["status", "updated_at"]
    if action == "approve":
        payout.approved_by, payout.approved_at = actor, timezone.now()
        fields += ["approved_by", "approved_at"]
    elif action == "pay":
        payout.reference, payout.paid_by, payout.paid_at = references[payout.pk], actor, timezone.now()
        fields += ["reference", "paid_by", "paid_at"]
    if note:
        payout.note = note[:500]
        fields.append("note")
    payout.save(update_fields=fields)
    audit_record(
        actor=actor, action=f"payout.{action}", target=payout, source=source, before=before,
        after={"status": payout.status, "reference": payout.reference, "amount": payout.amount, "note": payout.note,
               "send_key": payout.send_key},
    )  # fmt: skip
    if action == "pay":
        _tell_paid(payout)


def _tell_paid(payout: Payout) -> None:
    notify(
        getattr(payout.player, "site_user", None), "payout.paid",
        title=f"Your prize for {payout.prize_of} was paid",
        body=f"{money_text(payout.amount)} to {payout.destination} on Goated (reference {payout.reference}).",
        url=payout.prize_path, dedupe_key=f"payout-paid:{payout.pk}",
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


def _send_claim(pk: int, *, actor, source: str) -> tuple[str, Payout | None]:
    """Claim one approved payout for sending (approved → sending with a fresh idempotency key) in one conditional
    UPDATE: of two presses, or two operators, one wins; the other finds it `sending` and leaves it alone."""
    payout = Payout.objects.filter(pk=pk).first()
    if payout is None or payout.status != S.APPROVED:
        return ("in_flight" if payout is not None and payout.status == S.SENDING else "skipped"), None
    if why := _duty_refusal("send", payout, actor):
        audit_record(actor=actor, action="payout.send.refused", target=payout, source=source, note=why)
        return "refused", None
    key = uuid.uuid4()
    with transaction.atomic():
        claimed = Payout.objects.filter(pk=pk, status=S.APPROVED, approved_by=payout.approved_by_id).update(
            status=S.SENDING, send_key=key, updated_at=timezone.now()
        )
        if not claimed:
            return "in_flight", None
        payout.status, payout.send_key = S.SENDING, key
        audit_record(actor=actor, action="payout.send", target=payout, source=source,
                     before={"status": S.APPROVED}, after={"status": S.SENDING, "send_key": key})  # fmt: skip
    return "claimed", payout


def payouts_send(ids: Iterable[int], *, actor, source: str = AuditEntry.Source.ADMIN) -> dict[str, int]:
    """Hand approved payouts to the provider, each once: claimed first (sending, with its idempotency key), then
    sent. Paid ones are marked paid with its reference, failed ones failed with its message; a `pending` answer
    (the manual provider's: an operator pays by hand) or an error leaves the payout `sending` until an operator
    marks it paid or failed. Counts: paid, failed, pending, in_flight (already sending: not asked again), refused
    (four eyes), skipped (not approved)."""
    provider = payout_provider()
    counts = dict.fromkeys(("paid", "failed", "pending", "in_flight", "refused", "skipped"), 0)
    for pk in sorted(set(ids)):
        state, payout = _send_claim(pk, actor=actor, source=source)
        if payout is None:
            counts[state] += 1
            continue
        counts[_send_one(provider, payout, actor=actor, source=source)] += 1
    return counts


def _send_one(provider, payout: Payout, *, actor, source: str) -> str:
    try:
        attempt = provider.send(payout_id=payout.pk, amount=payout.amount, destination=payout.destination,
                                idempotency_key=str(payout.send_key))  # fmt: skip
    except Exception:  # an unknown outcome: it may have been paid, so it stays sending, never sent again by itself
        logger.exception("payout %s: the provider did not answer; left sending", payout.pk)
        return "pending"
    try:
        if attempt.outcome == "paid":
            reference = _clean_reference(attempt.reference)
            _transition([payout.pk], "pay", actor=actor, references={payout.pk: reference}, source=source)
            return "paid"
        if attempt.outcome == "failed":
            _transition([payout.pk], "fail", actor=actor, note=attempt.message or "The provider refused it.",
                        source=source)  # fmt: skip
            return "failed"
    except ServiceError as exc:
        logger.warning("payout %s: the provider's answer was not recorded (%s); left sending", payout.pk, exc.message)
    return "pending"


# --- CSV ---------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["payout_id", "source", "won_in", "place", "player", "destination", "amount", "method", "status",
                  "reference", "approved_at", "paid_at"]  # fmt: skip
MAX_IMPORT_BYTES = 1024 * 1024


def payouts_csv(payouts: Iterable[Payout]) -> str:
    """Names, destinations and references are text from players and the feed: `csv_text` keeps them inert."""
    rows = ([
        p.pk, p.source, p.prize_of, p.place, p.player.name, p.destination, cents(p.amount), p.method, p.status,
        p.reference, p.approved_at.isoformat() if p.approved_at else "", p.paid_at.isoformat() if p.paid_at else "",
    ] for p in payouts)  # fmt: skip
    return csv_text([EXPORT_COLUMNS, *rows])


class ImportRefused(ServiceError):
    code = "import_invalid"

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message, fields={"file": errors})
        self.errors = errors


# A payout id: ASCII digits only (int() also takes "1_0" and Arabic-Indic digits: a typo could pay another
# payout), and short enough for a database integer.
_PAYOUT_ID = re.compile(r"[0-9]{1,18}")


def _import_rows(data: bytes) -> list[dict]:
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused("The file is larger than 1 MB.", ["Too large."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("The file is not UTF-8 text (save it as CSV UTF-8).", ["Not UTF-8."]) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:  # a field over the csv module's limit (128 KB), a broken quote...
        raise ImportRefused(f"The file is not a readable CSV (line {reader.line_num}).",
                            [f"line {reader.line_num}: {exc}"]) from None  # fmt: skip
    header = {(h or "").strip().lower() for h in (rows[0].keys() if rows else [])}
    if not rows or not {"payout_id", "reference"} <= header:
        raise ImportRefused(
            "The CSV needs a header with the columns payout_id and reference, and at least one line.",
            ["Missing columns payout_id, reference."],
        )
    return rows


def _import_references(rows: list[dict]) -> tuple[dict[int, str], list[str]]:
    errors, references = [], {}
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        raw_id, reference = row.get("payout_id", ""), row.get("reference", "")
        if not reference:
            continue  # a line without a reference is not paid yet: left alone
        if not _PAYOUT_ID.fullmatch(raw_id):
            errors.append(f"line {line}: payout_id {raw_id[:20]!r} is not a number (ASCII digits 0-9, at most 18)")
            continue
        payout_id = int(raw_id)
        if payout_id in references:
            errors.append(f"line {line}: payout {payout_id} appears twice")
            continue
        try:
            references[payout_id] = _clean_reference(reference)
        except PayoutRefused as exc:
            errors.append(f"line {line}: {exc.message}")
    return references, errors


def payouts_import_references(data: bytes, *, actor) -> PayoutReport:
    """Mark payouts paid from a CSV with the columns `payout_id` and `reference` (an export with the references
    filled in works). Every line is checked first: one bad line and nothing is changed."""
    references, errors = _import_references(_import_rows(data))
    found = {p.pk: p for p in Payout.objects.filter(pk__in=list(references))}
    for payout_id, reference in references.items():
        payout = found.get(payout_id)
        if payout is None:
            errors.append(f"payout {payout_id} does not exist")
        elif payout.status == S.PAID and payout.reference != reference:
            errors.append(f"payout {payout_id} is already paid with another reference ({payout.reference})")
        elif payout.status not in (S.APPROVED, S.SENDING, S.PAID):
            errors.append(f"payout {payout_id} is {payout.get_status_display().lower()}: {WHY_NOT['pay']}")
        elif payout.status != S.PAID and (why := _duty_refusal("pay", payout, actor)):
            errors.append(f"payout {why}")
            audit_record(actor=actor, action="payout.pay.refused", target=payout, source=AuditEntry.Source.ADMIN,
                         note=f"import: {why}")  # fmt: skip
    if errors:
        raise ImportRefused(f"Nothing was changed: {len(errors)} problem(s) in the file.", errors)
    if not references:
        raise ImportRefused("No line of the file has a reference.", ["No references."])
    to_pay = {pk: ref for pk, ref in references.items() if found[pk].status != S.PAID}
    report = _transition(to_pay, "pay", actor=actor, references=to_pay, source=AuditEntry.Source.ADMIN)
    for pk in references.keys() - to_pay.keys():
        report.skipped[pk] = "already paid with that reference"
    return report
