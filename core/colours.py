"""Colours that stay readable: a colour chosen by an operator (a VIP tier's) shown as text on the site's dark
background is lightened, keeping its hue, until it reaches the WCAG AA contrast for normal text."""

from __future__ import annotations

from functools import lru_cache

# The dark surfaces a tier name sits on (static/css/site.css): --bg, --panel, the current row's tint over --bg.
SITE_BACKGROUNDS = ("#0F1115", "#171A21", "#1C2014")
AA_TEXT = 4.5


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.x)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@lru_cache(maxsize=256)  # pure, of a few operator-chosen colours, asked for on every leaderboard and race page
def readable_on(hex_colour: str, backgrounds: tuple[str, ...] = SITE_BACKGROUNDS, ratio: float = AA_TEXT) -> str:
    """`hex_colour` itself when it already reads at `ratio` on every one of `backgrounds` (dark ones), else the
    first mix of it with white, in steps of 5 %, that does. Malformed input comes back unchanged."""
    try:
        r, g, b = _rgb(hex_colour)
    except ValueError:
        return hex_colour
    for step in range(21):
        mix = step / 20
        candidate = "#{:02X}{:02X}{:02X}".format(*(round(c + (255 - c) * mix) for c in (r, g, b)))
        if all(contrast(candidate, background) >= ratio for background in backgrounds):
            return candidate
    return "#FFFFFF"
