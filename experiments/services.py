"""Experiment lifecycle, exposures and conversions (docs/experiments.md). Statuses change only here."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit_record
from core.errors import ServiceError
from core.models import AuditEntry
from experiments.models import Conversion, Experiment, Exposure, Goal, Variant
from experiments.selectors import experiment_report, report_winner, slot_forget

logger = logging.getLogger(__name__)
SEEN_SECONDS = 24 * 3600  # an exposure already written is not tried again for a day (the constraint still holds)
MAX_VARIANTS = 4


class ExperimentRefused(ServiceError):
    code = "experiment_refused"


def _check_startable(experiment: Experiment) -> None:
    variants = list(experiment.variants.all())
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise ExperimentRefused(f"“{experiment.key}” needs 2 to {MAX_VARIANTS} variants (it has {len(variants)}).")
    if any(variant.weight <= 0 for variant in variants):
        raise ExperimentRefused(f"Every variant of “{experiment.key}” needs a weight above 0.")
    if Experiment.objects.filter(slot=experiment.slot, status=Experiment.Status.RUNNING).exclude(pk=experiment.pk):
        raise ExperimentRefused(f"Another experiment is running on {experiment.get_slot_display()}: stop it first.")


def experiment_start(experiment_id: int, *, actor, source: str = AuditEntry.Source.SERVICE) -> bool:
    """Draft → running (False if it was not a draft). Its variants and weights are fixed from now on."""
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
        if experiment is None or experiment.status != Experiment.Status.DRAFT:
            return False
        _check_startable(experiment)
        Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.Status.RUNNING)
        audit_record(actor=actor, action="experiment.start", target=experiment, source=source,
                     before={"status": "draft"}, after={"status": "running"})  # fmt: skip
    transaction.on_commit(lambda: slot_forget(experiment.slot))
    return True


def experiment_stop(
    experiment_id: int, *, actor, winner: Variant | None = None, source: str = AuditEntry.Source.SERVICE
) -> bool:
    """Running → stopped, pinning `winner` (else the report's: the best significantly better variant, else the
    control), which the slot then serves to everyone. False if it was not running."""
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
        if experiment is None or experiment.status != Experiment.Status.RUNNING:
            return False
        if winner is not None and winner.experiment_id != experiment.pk:
            raise ExperimentRefused("The winner must be one of the experiment's own variants.")
        pinned = winner or report_winner(experiment_report(experiment))
        now = timezone.now()
        Experiment.objects.filter(pk=experiment.pk).update(
            status=Experiment.Status.STOPPED, winner=pinned, stopped_at=now
        )
        audit_record(actor=actor, action="experiment.stop", target=experiment, source=source,
                     before={"status": "running"},
                     after={"status": "stopped", "winner": pinned.key if pinned else None})  # fmt: skip
    transaction.on_commit(lambda: slot_forget(experiment.slot))
    return True


def exposure_record(experiment_id: int, variant_id: int, visitor: str) -> None:
    """Log that `visitor` (a hash) saw the variant: once per visitor and experiment (the unique constraint; a cache
    mark spares the insert on their next pages). Never raises: a page is shown whatever happens here."""
    mark = f"experiments:seen:{experiment_id}:{visitor}"
    try:
        if cache.get(mark):
            return
        Exposure.objects.bulk_create(
            [Exposure(experiment_id=experiment_id, variant_id=variant_id, visitor=visitor)], ignore_conflicts=True
        )
        cache.set(mark, 1, SEEN_SECONDS)
    except Exception:
        logger.exception("experiment exposure not recorded (experiment %s)", experiment_id)


def _live_exposures(now: datetime):
    return Exposure.objects.filter(
        Q(experiment__ends_at__isnull=True) | Q(experiment__ends_at__gt=now),
        experiment__status=Experiment.Status.RUNNING, experiment__starts_at__lte=now,
    )  # fmt: skip


def _convert(exposures, goal: str) -> int:
    rows = [Conversion(experiment_id=e, variant_id=v, visitor=h, goal=goal)
            for e, v, h in exposures.values_list("experiment_id", "variant_id", "visitor")]  # fmt: skip
    Conversion.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def conversion_record(visitor: str, goal: str, now: datetime | None = None) -> int:
    """`visitor` (a hash) reached `goal`: a conversion in every live experiment they were exposed to, once per
    experiment and goal. Returns the experiments tried. Never raises (a click or a sign-up goes on regardless)."""
    try:
        return _convert(_live_exposures(now or timezone.now()).filter(visitor=visitor), Goal(goal))
    except Exception:
        logger.exception("experiment conversion not recorded (%s)", goal)
        return 0


def conversion_record_for_user(user_id: int, goal: str, now: datetime | None = None) -> int:
    """The account reached `goal` away from its browser (an operator approved its verification): a conversion in
    every live experiment one of its linked visitors was exposed to."""
    try:
        return _convert(_live_exposures(now or timezone.now()).filter(user_id=user_id), Goal(goal))
    except Exception:
        logger.exception("experiment conversion not recorded (%s, user %s)", goal, user_id)
        return 0


def visitor_link_user(visitor: str, user_id: int) -> int:
    """Name the account behind a consenting visitor's exposures (at sign-up and sign-in), for later goals."""
    try:
        return Exposure.objects.filter(visitor=visitor, user__isnull=True).update(user_id=user_id)
    except Exception:
        logger.exception("experiment exposures not linked to user %s", user_id)
        return 0


def exposures_forget_user(user_id: int) -> int:
    """Erasure: the exposures keep counting, no longer tied to the account."""
    return Exposure.objects.filter(user_id=user_id).update(user=None)
