from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.charts import plain, svg_chart
from core.colours import contrast
from core.money import money_text
from goatedvips.analytics import PERIODS, analytics_charts, analytics_growth, parse_days, wager_figures
from goatedvips.dashboard import dashboard_summary

register = template.Library()

COLOURS = ["#D7FF00", "#38BDF8", "#F472B6", "#FB923C", "#A78BFA", "#34D399", "#F87171", "#FACC15", "#60A5FA", "#C084FC"]


@register.simple_tag
def dashboard():
    return dashboard_summary()


@register.simple_tag
def rank_chart(series, width: int = 640, height: int = 220):
    """Rank over time as inline SVG (rank 1 at the top), drawn on the server: no chart library needed."""
    points = [p for _, pts in series for p in pts]
    if len({t for t, _ in points}) < 2:  # one sample time draws nothing but an empty box
        return format_html('<p class="help">{}</p>', "The chart appears after a few syncs of a live race.")
    t0 = min(t for t, _ in points).timestamp()
    t1 = max(t for t, _ in points).timestamp() or t0 + 1
    max_rank = max(r for _, r in points)
    pad = 24

    def xy(t, r):
        x = pad + (t.timestamp() - t0) / max(t1 - t0, 1) * (width - 2 * pad)
        y = pad + (r - 1) / max(max_rank - 1, 1) * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"><title>{}</title></polyline>',
        (
            (COLOURS[i % len(COLOURS)], " ".join(xy(t, r) for t, r in pts), name)
            for i, (name, pts) in enumerate(series)
            if pts
        ),
    )
    # The colour is a swatch beside the name, never the name's own colour (light colours on white are unreadable).
    legend = format_html_join(
        " ",
        '<span class="legend-item"><span class="swatch" style="background:{}" aria-hidden="true"></span> {}</span>',
        ((COLOURS[i % len(COLOURS)], n) for i, (n, _) in enumerate(series)),
    )
    return format_html(
        '<svg role="img" aria-label="Rank over time" viewBox="0 0 {} {}" width="100%" style="max-width:{}px;'
        'background:#111;border-radius:6px">{}</svg><div class="chart-legend">{}</div>',
        width,
        height,
        width,
        lines,
        legend,
    )


@register.simple_tag
def volume_chart(series, width: int = 640, height: int = 160):
    """Wagered this month (all players) after each sync, as an inline SVG line."""
    if len(series) < 2:
        return format_html('<p class="help">{}</p>', "The chart appears after a few feed syncs.")
    t0, t1 = series[0][0].timestamp(), series[-1][0].timestamp()
    low, high = min(v for _, v in series), max(v for _, v in series)
    pad = 24

    def xy(t, v):
        x = pad + (t.timestamp() - t0) / max(t1 - t0, 1) * (width - 2 * pad)
        y = height - pad - float((v - low) / max(high - low, 1)) * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    points = " ".join(xy(t, v) for t, v in series)
    return format_html(
        '<svg role="img" aria-label="Wagered this month over time" viewBox="0 0 {} {}" width="100%" '
        'style="max-width:{}px;background:#111;border-radius:6px"><polyline fill="none" stroke="#D7FF00" '
        'stroke-width="2" points="{}"/></svg><div class="chart-legend">{} → {} this month</div>',
        width, height, width, points, money_text(low), money_text(high),
    )  # fmt: skip


@register.simple_tag
def analytics(request):
    """The dashboard's history charts for the period asked for (?days=30|90)."""
    days, now = parse_days(request.GET.get("days")), timezone.now()
    return {"days": days, "periods": PERIODS, "charts": analytics_charts(days, now), "figures": wager_figures(now)}


@register.filter
def exact(value) -> str:
    """A figure as its CSV cell carries it (`data-value` attributes: what tests and scripts compare)."""
    return plain(value)


@register.simple_tag
def analytics_growth_tables(request):
    """Funnel, cohorts and prize ROI for the period asked for (?days=30|90)."""
    return {"days": parse_days(request.GET.get("days")), **analytics_growth(parse_days(request.GET.get("days")))}


COHORT_LOW, COHORT_HIGH = (255, 255, 255), (29, 78, 216)  # white to a deep blue (#1D4ED8)


@register.filter
def cohort_style(share: float) -> str:
    """A retention cell's colour for its share of active players (0..1), with the text colour that reads on it
    (the value is always written in the cell too: the colour is never the only carrier)."""
    t = min(max(float(share), 0.0), 1.0)
    background = "#{:02X}{:02X}{:02X}".format(
        *(round(lo + (hi - lo) * t) for lo, hi in zip(COHORT_LOW, COHORT_HIGH, strict=True))
    )
    text = "#FFFFFF" if contrast(background, "#FFFFFF") >= contrast(background, "#111111") else "#111111"
    return f"background:{background};color:{text}"


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{float(value) * 100:.1f} %"


@register.simple_tag
def chart(c):
    return svg_chart(c)
