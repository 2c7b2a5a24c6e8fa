"""Broadcast audiences that apps above notifications define: "a VIP tier and above" (vip) and "the ranked players
of a race" (races). Those apps know the rule; notifications must not import them, so each registers its audience
here when it is ready (its AppConfig.ready), and broadcasts ask the registry. No model is imported here: the app
configs import this module before the models are loaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AudienceSource:
    choices: Callable[[], object]  # () → the QuerySet an operator picks from (tiers, races)
    users: Callable[[object, object], object]  # (users QuerySet, the chosen row) → the users it means


_SOURCES: dict[str, AudienceSource] = {}


def audience_source_register(audience: str, source: AudienceSource) -> None:
    _SOURCES[audience] = source


def audience_source(audience: str) -> AudienceSource:
    """The registered source of `audience` (KeyError: its app is not installed)."""
    return _SOURCES[audience]
