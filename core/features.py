"""Feature switches operators turn on and off in admin without a deploy (django-waffle switches).

Which features exist, what they cover and their defaults are this table. A missing switch row means the default
(a fresh test database, a deleted row). Switches are read through waffle's cache, which its admin save clears:
with the shared Redis cache of the scaled topology every process sees a change at once.

A disabled feature answers its pages with a clear page and its API with 503 `feature_disabled`
(`FeatureGateMiddleware`); services that can be reached another way (the bot) ask `feature_enabled` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from waffle import get_waffle_switch_model

from core.errors import ServiceError


@dataclass(frozen=True)
class Feature:
    label: str
    default: bool
    paths: tuple[str, ...] = ()  # URL prefixes it covers
    exact: tuple[str, ...] = ()  # exact paths it covers


FEATURES: dict[str, Feature] = {
    "wheel": Feature("The daily wheel", True, paths=("/wheel/", "/api/v1/wheel/")),
    "bonus_codes": Feature("Bonus codes", True, paths=("/bonus-codes/", "/api/v1/bonus-codes/")),
    "newsletter": Feature("Newsletter sign-up", True, exact=("/accounts/newsletter/",)),
    "signups": Feature("New sign-ups", True, exact=("/accounts/register/",)),
    # Not a gate: on, every page shows the switch's note as a banner (planned work, an incident).
    "maintenance_banner": Feature("Maintenance banner", False),
}


class FeatureDisabled(ServiceError):
    status_code = 503
    code = "feature_disabled"


def switches_read() -> dict:
    """Every switch row by name: one cache read (waffle's "all switches" entry, which a save clears), one query
    when it is cold — however many features a page asks about (`feature_states` and `maintenance_note` take it
    to answer several questions from one read)."""
    return {switch.name: switch for switch in get_waffle_switch_model().get_all()}


def features_cache_clear() -> None:
    get_waffle_switch_model()(name="").flush()


def feature_states(switches: dict | None = None) -> dict[str, bool]:
    """Every feature's state from one read of the switch table (a page asks about several)."""
    switches = switches_read() if switches is None else switches
    return {name: switches[name].active if name in switches else f.default for name, f in FEATURES.items()}


def feature_enabled(name: str) -> bool:
    switch = switches_read().get(name)
    return switch.active if switch is not None else FEATURES[name].default


def feature_require(name: str) -> None:
    if not feature_enabled(name):
        raise FeatureDisabled(f"{FEATURES[name].label} is switched off for now. Please try again later.")


def maintenance_note(switches: dict | None = None) -> str:
    """The banner text while the maintenance banner is on, else ""."""
    switch = (switches_read() if switches is None else switches).get("maintenance_banner")
    if switch is None:
        return ""  # off by default
    return (switch.note or "Maintenance in progress: some things may not work for a while.") if switch.active else ""


def feature_for_path(path: str) -> str | None:
    for name, feature in FEATURES.items():
        if path in feature.exact or any(path.startswith(p) for p in feature.paths):
            return name
    return None


class FeatureGateMiddleware:
    """Answers requests for a switched-off feature: 503 JSON under /api/, a page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = feature_for_path(request.path)
        if name is None or feature_enabled(name):
            return self.get_response(request)
        message = f"{FEATURES[name].label} is switched off for now. Please try again later."
        if request.path.startswith("/api/"):
            body = {"error": {"code": FeatureDisabled.code, "message": message}}
            return JsonResponse(body, status=503, headers={"Retry-After": "300"})
        html = render_to_string("feature_disabled.html", {"message": message, "feature": name}, request=request)
        return HttpResponse(html, status=503, headers={"Retry-After": "300"})
