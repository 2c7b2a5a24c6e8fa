"""What a slot serves, and an experiment's report (docs/experiments.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from core.memo import LocalMemo
from experiments import stats
from experiments.models import Conversion, Experiment, Exposure, Variant

SLOT_CACHE_SECONDS = 30
_ABSENT = "none"
# A plan read from the shared cache is kept in the process for a second (core.memo): a page asks for it on every
# request. Starting or stopping an experiment forgets it here at once (slot_forget), elsewhere within the second;
# an experiment's own window is checked on every request (plan_live).
_slots_local = LocalMemo(1.0)


def _slot_key(slot: str) -> str:
    return f"experiments:slot:{slot}"


def slot_forget(slot: str) -> None:
    """Drop a slot's cached plan (a service or an admin edit changed what it serves)."""
    _slots_local.forget(slot)
    cache.delete(_slot_key(slot))


def _plan(slot: str) -> dict | None:
    """The slot's running experiment (its window and variants), or the winner pinned by the last stopped one."""
    running = Experiment.objects.filter(slot=slot, status=Experiment.Status.RUNNING).first()
    if running is not None:
        variants = list(running.variants.all())
        if variants:
            return {
                "id": running.pk, "key": running.key, "starts_at": running.starts_at, "ends_at": running.ends_at,
                "variants": [(v.pk, v.key, v.weight, v.content) for v in variants],
            }  # fmt: skip
    stopped = (
        Experiment.objects.filter(slot=slot, status=Experiment.Status.STOPPED, winner__isnull=False)
        .select_related("winner").order_by("-stopped_at").first()
    )  # fmt: skip
    return {"pinned": stopped.winner.content} if stopped is not None else None


def _slot_plan_shared(slot: str) -> dict | str:
    plan = cache.get(_slot_key(slot))
    if plan is None:
        plan = _plan(slot) or _ABSENT
        cache.set(_slot_key(slot), plan, SLOT_CACHE_SECONDS)
    return plan


def slot_plan(slot: str) -> dict | None:
    """The cached plan of a slot (one cache read a second in a process; two queries every SLOT_CACHE_SECONDS at
    most)."""
    plan = _slots_local.get(slot, lambda: _slot_plan_shared(slot))
    return None if plan == _ABSENT else plan


def plan_live(plan: dict, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return "variants" in plan and plan["starts_at"] <= now and (plan["ends_at"] is None or now < plan["ends_at"])


def experiment_is_live(experiment: Experiment, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        experiment.status == Experiment.Status.RUNNING
        and experiment.starts_at <= now
        and (experiment.ends_at is None or now < experiment.ends_at)
    )


@dataclass(frozen=True)
class ArmReport:
    variant: Variant
    exposures: int
    conversions: int
    rate: float | None
    low: float
    high: float
    comparison: stats.Comparison | None  # None for the control, and for a variant or control nobody saw yet
    sample_size: int | None  # visitors per arm to detect the observed difference (80 % power, α 0.05)
    is_control: bool


@dataclass(frozen=True)
class Report:
    arms: list[ArmReport]
    ratio: stats.RatioCheck
    goal: str

    @property
    def exposures(self) -> int:
        return sum(arm.exposures for arm in self.arms)


def arms_report(rows: list[tuple[Variant, int, int]]) -> tuple[list[ArmReport], stats.RatioCheck]:
    """The report's figures from (variant, exposures, conversions) rows, the control first."""
    control = rows[0]
    control_rate = control[2] / control[1] if control[1] else None
    arms = []
    for index, (variant, exposed, converted) in enumerate(rows):
        rate = converted / exposed if exposed else None
        low, high = stats.wilson_interval(converted, exposed)
        comparison = sample_size = None
        if index:
            comparison = stats.two_proportion_test(control[2], control[1], converted, exposed)
            if control_rate is not None and rate is not None:
                sample_size = stats.sample_size_per_arm(control_rate, rate)
        arms.append(ArmReport(variant, exposed, converted, rate, low, high, comparison, sample_size, index == 0))
    weights = [variant.weight for variant, _e, _c in rows]
    counts = [exposed for _v, exposed, _c in rows]
    ratio = stats.sample_ratio_check(counts, weights) if len(rows) > 1 else stats.RatioCheck(0.0, 1.0)
    return arms, ratio


def experiment_report(experiment: Experiment) -> Report:
    """Exposures and primary-goal conversions per variant (three queries whatever the traffic)."""
    variants = list(experiment.variants.all())
    exposed = dict(
        Exposure.objects.filter(experiment=experiment).values_list("variant").annotate(n=Count("pk")).order_by()
    )
    converted = dict(
        Conversion.objects.filter(experiment=experiment, goal=experiment.goal)
        .values_list("variant").annotate(n=Count("pk")).order_by()
    )  # fmt: skip
    if not variants:
        return Report([], stats.RatioCheck(0.0, 1.0), experiment.goal)
    arms, ratio = arms_report([(v, exposed.get(v.pk, 0), converted.get(v.pk, 0)) for v in variants])
    return Report(arms, ratio, experiment.goal)


def report_winner(report: Report) -> Variant | None:
    """The variant to pin at the stop: the best of those significantly better than the control, else the control."""
    if not report.arms:
        return None
    better = [
        arm for arm in report.arms if arm.comparison and arm.comparison.significant and arm.comparison.difference > 0
    ]
    if not better:
        return report.arms[0].variant
    return max(better, key=lambda arm: arm.rate or 0.0).variant
