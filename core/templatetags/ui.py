"""Components of the design system drawn in Python (docs/site.md, "Design system"):

- `{% avatar name color size %}`: a player's avatar made from the name (initials on a hue picked from a hash of
  the name), framed in the colour of their VIP tier. No image service, no request: an inline SVG.
- `{% countdown_tiles until verb %}`: days / hours / minutes / seconds tiles for a race's end or start, with the
  same moment as text for screen readers (the tiles themselves are hidden from them); static/js/site.js ticks
  them every second.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html import escape

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _initials(name: str) -> str:
    letters = [c for c in name if c.isalnum()]
    if not letters:
        return "?"
    capitals = [c for c in letters[1:] if c.isupper()]
    return (letters[0] + (capitals[0] if capitals else (letters[1] if len(letters) > 1 else ""))).upper()


def avatar_svg(name: str, color: str = "", size: int = 48) -> str:
    name = str(name or "")
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    frame = f' style="--tier: {escape(color)}"' if color else ""
    return (
        f'<svg class="avatar" width="{size}" height="{size}" viewBox="0 0 48 48" aria-hidden="true" focusable="false"'
        f'{frame}><circle cx="24" cy="24" r="24" fill="hsl({hue} 45% 28%)"/>'
        f'<text x="24" y="29.5" text-anchor="middle" fill="hsl({hue} 90% 88%)">{escape(_initials(name))}</text></svg>'
    )


@register.simple_tag
def avatar(name, color: str = "", size: int = 48) -> SafeString:
    return mark_safe(avatar_svg(name, color, int(size)))  # noqa: S308 (the name and colour are escaped)


def _parts(seconds: int) -> list[tuple[int, str]]:
    return [(seconds // 86400, "days"), (seconds % 86400 // 3600, "hrs"), (seconds % 3600 // 60, "min"),
            (seconds % 60, "sec")]  # fmt: skip


@register.simple_tag
def countdown_tiles(until: datetime | None, verb: str = "Ends") -> SafeString:
    if not until:
        return mark_safe("")
    shown = timezone.localtime(until) if timezone.is_aware(until) else until
    iso = escape(date_format(shown, "c"))
    left = max(0, int((until - timezone.now()).total_seconds())) if timezone.is_aware(until) else 0
    tiles = "".join(f'<span class="tile"><b>{n:02d}</b><small>{unit}</small></span>' for n, unit in _parts(left))
    text = escape(f"{verb} {date_format(shown, 'j M Y, H:i')} UTC")
    return mark_safe(  # noqa: S308 (every value is escaped or a number)
        f'<div class="countdown-tiles"><p class="visually-hidden"><time datetime="{iso}">{text}</time></p>'
        f'<div class="tiles" data-countdown-tiles="{iso}" aria-hidden="true">{tiles}</div></div>'
    )


@register.filter
def utc_time(iso: str) -> str:
    """An ISO timestamp as the site shows times of day: 24-hour, UTC, e.g. "08:15:35 UTC" ("" when unreadable)."""
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if timezone.is_aware(moment):
        moment = moment.astimezone(UTC)
    return f"{moment:%H:%M:%S} UTC"
