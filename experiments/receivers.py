"""What experiments hears from below: sign-ups, sign-ins, verifications, erasures, and edits of a slot's plan."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save

from accounts.signals import account_erased, player_verified, user_registered
from experiments import services
from experiments.models import Experiment, Goal, Variant
from experiments.selectors import slot_forget
from experiments.web import request_visitor_hash

logger = logging.getLogger(__name__)


def signed_up(sender, user, request=None, **kwargs) -> None:
    visitor = request_visitor_hash(request) if request is not None else None
    if visitor:
        services.visitor_link_user(visitor, user.pk)
        services.conversion_record(visitor, Goal.SIGNUP)


def signed_in(sender, request=None, user=None, **kwargs) -> None:
    visitor = request_visitor_hash(request) if request is not None and user is not None else None
    if visitor:
        services.visitor_link_user(visitor, user.pk)


def verified(sender, user, **kwargs) -> None:
    services.conversion_record_for_user(user.pk, Goal.VERIFICATION)


def erased(sender, user, **kwargs) -> None:
    services.exposures_forget_user(user.pk)


def plan_changed(sender, instance, **kwargs) -> None:
    experiment = (
        instance if isinstance(instance, Experiment) else Experiment.objects.filter(pk=instance.experiment_id).first()
    )
    if experiment is not None:
        slot_forget(experiment.slot)


def connect() -> None:
    """Called from `ExperimentsConfig.ready()`."""
    user_registered.connect(signed_up, dispatch_uid="experiments.signed-up")
    user_logged_in.connect(signed_in, dispatch_uid="experiments.signed-in")
    player_verified.connect(verified, dispatch_uid="experiments.verified")
    account_erased.connect(erased, dispatch_uid="experiments.erased")
    for model in (Experiment, Variant):
        post_save.connect(plan_changed, sender=model, dispatch_uid=f"experiments.plan.{model.__name__}")
        post_delete.connect(plan_changed, sender=model, dispatch_uid=f"experiments.plan.{model.__name__}.deleted")
