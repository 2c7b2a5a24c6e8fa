"""Charts drawn on the server as SVG: axes with labelled ticks, bars or lines, a legend, and every value in a
`<title>` (hover) and a `data-value` attribute (what the CSV export and the tests read). No chart library."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import format_html, format_html_join

from core.money import money_text

PALETTE = ["#2563EB", "#D97706", "#059669", "#DC2626", "#7C3AED", "#0891B2"]
Number = int | float | Decimal


@dataclass
class Series:
    name: str
    values: list[Number]  # one per label of the chart


@dataclass
class Chart:
    key: str  # url-safe name, used by the CSV export
    title: str
    labels: list[str]  # the x axis (days, hours, races)
    series: list[Series] = field(default_factory=list)
    unit: str = "count"  # count, money, hours, ms, percent
    kind: str = "bar"  # bar or line
    x_title: str = ""
    empty: str = "No data in this period yet."
    axis_labels: list[str] | None = None  # shorter names for the x axis (the CSV keeps `labels`)

    def csv_rows(self) -> list[list[str | Number]]:
        """Labels as text, values as numbers (`core.csv_export` writes them exactly as `plain` shows them)."""
        rows: list[list[str | Number]] = [[self.x_title or "label", *(s.name for s in self.series)]]
        for i, label in enumerate(self.labels):
            rows.append([label, *(exact(s.values[i]) for s in self.series)])
        return rows

    @property
    def has_data(self) -> bool:
        return any(v for s in self.series for v in s.values)


def exact(value: Number) -> int | Decimal:
    """A value at the precision the chart carries: whole numbers as they are, anything else to the cent."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    if isinstance(value, float):
        return Decimal(f"{value:.2f}")
    return value


def plain(value: Number) -> str:
    """A value as the CSV and the SVG's data-value attributes carry it (no thousands separators, no unit)."""
    value = exact(value)
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


FORMATS: dict[str, Callable[[Number], str]] = {
    "count": lambda v: f"{v:,.0f}",
    "money": lambda v: money_text(Decimal(str(v))),
    "hours": lambda v: f"{float(v):,.1f} h",
    "ms": lambda v: f"{float(v):,.0f} ms",
    "percent": lambda v: f"{float(v):.1f} %",
}
SHORT: dict[str, Callable[[float], str]] = {
    "money": lambda v: _si(v, "$"),
    "count": lambda v: _si(v, ""),
    "hours": lambda v: f"{v:g} h",
    "ms": lambda v: _si(v, "") + " ms",
    "percent": lambda v: f"{v:g} %",
}


def _si(value: float, prefix: str) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{prefix}{value / size:g}{suffix}"
    return f"{prefix}{value:g}"


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """0 and round steps up to at least `high` (1, 2, 2.5 or 5 × a power of ten)."""
    if high <= 0:
        return [0, 1]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, value = [], 0.0
    while value < high + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks if ticks[-1] >= high else [*ticks, round(value, 10)]


def svg_chart(chart: Chart, width: int = 720, height: int = 240) -> str:
    if not chart.labels or not chart.has_data:
        return format_html('<p class="help chart-empty" data-chart="{}">{}</p>', chart.key, chart.empty)
    left, right, top, bottom = 64, 12, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    high = max(float(v) for s in chart.series for v in s.values)
    ticks = nice_ticks(high)
    top_value = ticks[-1] or 1
    n = len(chart.labels)
    slot = plot_w / n

    def y(value: Number) -> float:
        return top + plot_h - float(value) / top_value * plot_h

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ccc" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="currentColor">{}</text>',
        ((left, width - right, _n(y(t)), _n(y(t)), left - 6, _n(y(t) + 4), SHORT[chart.unit](t)) for t in ticks),
    )
    every = max(1, math.ceil(n / 12))  # at most ~12 labels on the x axis
    x_labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="currentColor">{}</text>',
        ((_n(left + slot * (i + 0.5)), height - bottom + 16, _short_label(label))
         for i, label in enumerate(chart.axis_labels or chart.labels) if i % every == 0),
    )  # fmt: skip
    marks = _marks(chart, left=left, slot=slot, bottom_y=top + plot_h, y=y)
    legend = format_html_join(
        " ",
        '<span class="legend-item"><span class="swatch" style="background:{}" aria-hidden="true"></span> {}</span>',
        ((PALETTE[k % len(PALETTE)], s.name) for k, s in enumerate(chart.series)),
    )  # fmt: skip
    axes = format_html(
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="currentColor"/><line x1="{}" x2="{}" y1="{}" y2="{}" '
        'stroke="currentColor"/><text x="{}" y="{}" text-anchor="middle" font-size="11" fill="currentColor">{}</text>',
        left, left, top, top + plot_h, left, width - right, top + plot_h, top + plot_h,
        _n(left + plot_w / 2), height - 6, chart.x_title,
    )  # fmt: skip
    return format_html(
        '<figure class="chart" data-chart="{}"><svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'style="max-width:{}px">{}{}{}{}</svg><figcaption class="chart-legend">{}</figcaption></figure>',
        chart.key, chart.title, width, height, width, grid, axes, x_labels,
        format_html_join("", "{}", ((m,) for m in marks)), legend,
    )  # fmt: skip


def _marks(chart: Chart, *, left: float, slot: float, bottom_y: float, y) -> list[str]:
    """Each series drawn in its colour: bars side by side in a slot, or a line through dots, each mark titled."""
    fmt = FORMATS[chart.unit]
    marks = []
    for k, series in enumerate(chart.series):
        colour = PALETTE[k % len(PALETTE)]
        if chart.kind == "bar":
            bar_w = slot * 0.8 / len(chart.series)
            for i, value in enumerate(series.values):
                x = left + slot * i + slot * 0.1 + bar_w * k
                marks.append(format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" data-series="{}" '
                    'data-label="{}" data-value="{}"><title>{}: {} — {}</title></rect>',
                    _n(x), _n(y(value)), _n(max(bar_w - 1, 1)), _n(max(bottom_y - y(value), 0)), colour,
                    series.name, chart.labels[i], plain(value), series.name, chart.labels[i], fmt(value),
                ))  # fmt: skip
            continue
        points = " ".join(f"{left + slot * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(series.values))
        marks.append(format_html('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>', colour, points))
        for i, value in enumerate(series.values):
            marks.append(format_html(
                '<circle cx="{}" cy="{}" r="3" fill="{}" data-series="{}" data-label="{}" '
                'data-value="{}"><title>{}: {} — {}</title></circle>',
                _n(left + slot * (i + 0.5)), _n(y(value)), colour, series.name, chart.labels[i], plain(value),
                series.name, chart.labels[i], fmt(value),
            ))  # fmt: skip
    return marks


def _n(value: float) -> str:
    return f"{value:.1f}"


def _short_label(label: str) -> str:
    """2026-11-30 → 30 Nov; anything else as it is, cut to 14 characters."""
    if len(label) == 10 and label[4] == label[7] == "-":
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return f"{int(label[8:])} {months[int(label[5:7]) - 1]}"
    return label if len(label) <= 14 else label[:13] + "…"
