"""The statistics of an experiment's report: pure functions of counts, no Django, no scipy (docs/experiments.md).

- A rate's 95 % interval is Wilson's score interval: it stays inside [0, 1] and keeps its coverage with few
  conversions, where the normal ("Wald") interval does not.
- A variant against the control is the two-proportion z-test: the p-value (two-sided) uses the pooled rate (the
  rates are equal under the null hypothesis), the 95 % interval of the difference the unpooled standard error.
- The sample size is what each arm would need for the observed difference to be found at α = 0.05 (two-sided)
  with 80 % power: the usual normal-approximation formula for two proportions.
- Sample-ratio mismatch: Pearson's chi-square of the exposures against the weights, k − 1 degrees of freedom.
  A p-value under SRM_ALPHA (0.001) means the split is broken (a bug, a bot, a cache serving one variant), and
  the results should not be trusted; the threshold is strict because the check runs on every look at a report.

The chi-square survival function is exact for integer degrees of freedom (the closed forms of the regularized
upper gamma function at integer and half-integer shapes), so 1-3 degrees of freedom (2-4 variants) need no
library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the normal quantile at 0.975: a two-sided 95 % interval, α = 0.05
Z_POWER_80 = 0.8416212335729143  # the normal quantile at 0.80
ALPHA = 0.05
SRM_ALPHA = 0.001


def normal_cdf(z: float) -> float:
    """P(Z ≤ z) for a standard normal Z."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|)."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def chi_square_sf(x: float, df: int) -> float:
    """P(X ≥ x) for X chi-square with `df` (a positive integer) degrees of freedom: Q(df/2, x/2), in closed form.
    Even df = 2k: e^(-x/2) Σ_{i<k} (x/2)^i / i!.
    Odd df = 2k+1: erfc(√(x/2)) + e^(-x/2) Σ_{i=1..k} (x/2)^(i-½) / Γ(i+½)."""
    if df < 1 or int(df) != df:
        raise ValueError("degrees of freedom must be a positive integer")
    if x <= 0:
        return 1.0
    half = x / 2.0
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    total = math.erfc(math.sqrt(half))
    term = math.sqrt(half) / math.gamma(1.5)  # i = 1
    for i in range(1, (df - 1) // 2 + 1):
        if i > 1:
            term *= half / (i - 0.5)
        total += math.exp(-half) * term
    return min(1.0, total)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 1) when nothing was tried."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


@dataclass(frozen=True)
class Comparison:
    """A variant against the control: rate difference (variant − control), its 95 % interval, z and p-value."""

    difference: float
    low: float
    high: float
    z: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def two_proportion_test(control_conv: int, control_n: int, variant_conv: int, variant_n: int) -> Comparison | None:
    """The two-sided two-proportion z-test; None when an arm has no visitors. With no conversion at all (or all
    converting) in both arms there is no evidence of a difference: p = 1."""
    if control_n <= 0 or variant_n <= 0:
        return None
    p1, p2 = control_conv / control_n, variant_conv / variant_n
    difference = p2 - p1
    unpooled = math.sqrt(p1 * (1 - p1) / control_n + p2 * (1 - p2) / variant_n)
    pooled_rate = (control_conv + variant_conv) / (control_n + variant_n)
    pooled = math.sqrt(pooled_rate * (1 - pooled_rate) * (1 / control_n + 1 / variant_n))
    z = difference / pooled if pooled > 0 else 0.0
    p_value = normal_two_sided_p(z) if pooled > 0 else 1.0
    return Comparison(difference, difference - Z_95 * unpooled, difference + Z_95 * unpooled, z, p_value)


def sample_size_per_arm(p_control: float, p_variant: float) -> int | None:
    """Visitors each arm needs to detect the difference p_variant − p_control (two-sided α = 0.05, power 80 %);
    None when there is no difference to detect or a rate is outside (0, 1)."""
    if p_control == p_variant or not (0 < p_control < 1 and 0 < p_variant < 1):
        return None
    mean = (p_control + p_variant) / 2
    numerator = Z_95 * math.sqrt(2 * mean * (1 - mean)) + Z_POWER_80 * math.sqrt(
        p_control * (1 - p_control) + p_variant * (1 - p_variant)
    )
    return math.ceil(numerator**2 / (p_control - p_variant) ** 2)


@dataclass(frozen=True)
class RatioCheck:
    chi_square: float
    p_value: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_ALPHA


def sample_ratio_check(counts: list[int], weights: list[float]) -> RatioCheck:
    """Pearson's chi-square of the observed counts against the split the weights promise (df = arms − 1)."""
    if len(counts) != len(weights) or len(counts) < 2:
        raise ValueError("one count per weight, at least two arms")
    total, weight_total = sum(counts), sum(weights)
    if total <= 0 or weight_total <= 0:
        return RatioCheck(0.0, 1.0)
    chi = 0.0
    for observed, weight in zip(counts, weights, strict=True):
        expected = total * weight / weight_total
        if expected > 0:
            chi += (observed - expected) ** 2 / expected
        elif observed:  # a variant of weight 0 that got visitors: as broken as it gets
            return RatioCheck(math.inf, 0.0)
    return RatioCheck(chi, chi_square_sf(chi, len(counts) - 1))
