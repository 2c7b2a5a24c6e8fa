"""An experiment's report as people read it: percentages, intervals, p-values and the verdict, worded once for
the admin page (and any other place that shows a report)."""

from __future__ import annotations

from experiments import stats
from experiments.selectors import Report


def _pct(value: float) -> str:
    return f"{value * 100:.2f} %"


def _points(value: float) -> str:
    return f"{value * 100:+.2f} pp"


def _p(value: float) -> str:
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def report_rows(report: Report) -> dict:
    """Rows of strings for the report table, and the sample-ratio verdict."""
    rows = []
    for arm in report.arms:
        row = {
            "key": arm.variant.key, "control": arm.is_control, "weight": arm.variant.weight,
            "exposures": f"{arm.exposures:,}", "conversions": f"{arm.conversions:,}",
            "rate": _pct(arm.rate) if arm.rate is not None else "–",
            "interval": f"{_pct(arm.low)} – {_pct(arm.high)}" if arm.exposures else "–",
            "difference": "control" if arm.is_control else "–", "p_value": "", "verdict": "",
            "sample_size": f"{arm.sample_size:,}" if arm.sample_size else "–",
        }  # fmt: skip
        if arm.comparison is not None:
            c = arm.comparison
            row["difference"] = f"{_points(c.difference)} ({_points(c.low)} to {_points(c.high)})"
            row["p_value"] = _p(c.p_value)
            row["verdict"] = ("better" if c.difference > 0 else "worse") if c.significant else "no clear difference"
            enough = arm.sample_size is not None and min(arm.exposures, report.arms[0].exposures) >= arm.sample_size
            if not c.significant and arm.sample_size and not enough:
                row["verdict"] += f" yet (needs about {arm.sample_size:,} per arm)"
        rows.append(row)
    ratio = report.ratio
    return {
        "rows": rows,
        "goal": report.goal,
        "exposures": f"{report.exposures:,}",
        "srm_mismatch": ratio.mismatch,
        "srm_p": _p(ratio.p_value),
        "srm_alpha": stats.SRM_ALPHA,
    }
