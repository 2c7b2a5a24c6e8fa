"""A/B experiments on named slots of pages (docs/experiments.md).

Nothing here stores an address or a user agent: a visitor is the SHA-256 HMAC (under SECRET_KEY) of the random id
in their signed first-party cookie, which exists only after they accepted analytics cookies.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models

KEY_PATTERN = r"[a-z0-9-]{1,50}"
key_validator = RegexValidator(rf"\A{KEY_PATTERN}\Z", "Lowercase letters, digits and dashes only (1-50).")


class Slot(models.TextChoices):
    """A place on a page whose content an experiment may change (a headline and a button text). A new slot is a
    choice here and a `slot_variant(request, slot)` call in its page's view (docs/experiments.md)."""

    HOME_HERO = "home.hero", "Home page: hero headline and button"


class Goal(models.TextChoices):
    REFERRAL_CLICK = "referral_click", "Referral click (/go/)"
    SIGNUP = "signup", "Sign-up"
    VERIFICATION = "verification", "Verified player"


class Experiment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"

    key = models.CharField(max_length=50, unique=True, validators=[key_validator],
                           help_text="Decides the split with the visitor id: never reuse one.")  # fmt: skip
    name = models.CharField(max_length=120)
    slot = models.CharField(max_length=20, choices=Slot.choices)
    goal = models.CharField("primary goal", max_length=20, choices=Goal.choices, default=Goal.REFERRAL_CLICK)
    starts_at = models.DateTimeField(help_text="Visitors are split from this time (UTC) once started.")
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="After this, the control is served until the experiment is stopped."
    )
    # Changed only by experiments.services (experiment_start / experiment_stop), never by a form.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False)
    winner = models.ForeignKey("Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               editable=False, help_text="Served to everyone after the stop.")  # fmt: skip
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One experiment at a time per slot: two would split the same visitors twice.
            models.UniqueConstraint(
                fields=["slot"], condition=models.Q(status="running"), name="experiments_one_running_per_slot"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="experiments_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class Variant(models.Model):
    """One arm. The first by position is the control: what visitors without consent (and the API, overlays and
    cached pages for them) are served. A blank text keeps the page's own."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(max_length=30, validators=[key_validator])
    position = models.PositiveSmallIntegerField(default=0, help_text="0 is the control.")
    weight = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(1000)])
    headline = models.CharField(max_length=120, blank=True)
    button_text = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["experiment", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="experiments_variant_key"),
            models.UniqueConstraint(fields=["experiment", "position"], name="experiments_variant_position"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key}/{self.key}"

    @property
    def content(self) -> dict[str, str]:
        return {"key": self.key, "headline": self.headline, "button_text": self.button_text}


class Exposure(models.Model):
    """A visitor was shown a variant: once per visitor and experiment. `user` is filled in when the visitor signs
    up or signs in, so a later verification can count (cleared when the account is erased)."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="exposures")
    visitor = models.CharField(max_length=64, help_text="HMAC of the cookie's random id; never an address.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["experiment", "visitor"], name="experiments_exposure_once")]
        indexes = [models.Index(fields=["visitor"])]

    def __str__(self) -> str:
        return f"{self.experiment.key}: {self.variant.key}"


class Conversion(models.Model):
    """An exposed visitor reached a goal: once per visitor, experiment and goal, in the variant they were shown."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="conversions")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="conversions")
    visitor = models.CharField(max_length=64)
    goal = models.CharField(max_length=20, choices=Goal.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "visitor", "goal"], name="experiments_conversion_once")
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key}: {self.variant.key} {self.goal}"
