"""experiments/stats.py and experiments/assignment.py against known values (R / scipy figures, quoted)."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from experiments import stats
from experiments.assignment import bucket_of, variant_for


@pytest.mark.parametrize(
    ("z", "expected"),
    [(0.0, 0.5), (1.959963984540054, 0.975), (-1.0, 0.15865525393145707), (3.0, 0.9986501019683699)],
)
def test_the_normal_cdf_matches_known_values(z, expected):
    assert stats.normal_cdf(z) == pytest.approx(expected, abs=1e-12)


# pchisq(x, df, lower.tail = FALSE) in R
@pytest.mark.parametrize(
    ("x", "df", "expected"),
    [
        (3.841458820694124, 1, 0.05), (6.634896601021214, 1, 0.01), (0.5, 1, 0.4795001221869535),
        (5.991464547107979, 2, 0.05), (1.0, 2, 0.6065306597126334), (13.815510557964274, 2, 0.001),
        (7.814727903251179, 3, 0.05), (1.0, 3, 0.8012519569012009), (16.26623619623813, 3, 0.001),
        (2.0, 5, 0.8491450360846096), (10.0, 4, 0.04042768199451279),
    ],
)  # fmt: skip
def test_the_chi_square_survival_function_matches_known_values(x, df, expected):
    assert stats.chi_square_sf(x, df) == pytest.approx(expected, rel=1e-9)


def test_the_chi_square_survival_function_is_one_at_zero_and_refuses_a_bad_df():
    assert stats.chi_square_sf(0.0, 3) == 1.0
    with pytest.raises(ValueError, match="positive integer"):
        stats.chi_square_sf(1.0, 0)
    with pytest.raises(ValueError, match="positive integer"):
        stats.chi_square_sf(1.0, 1.5)


def test_the_wilson_interval_matches_known_values():
    # binom::binom.confint(5, 100, method = "wilson")
    low, high = stats.wilson_interval(5, 100)
    assert (low, high) == (pytest.approx(0.02154368, abs=1e-8), pytest.approx(0.11175047, abs=1e-8))
    assert stats.wilson_interval(0, 10)[0] == 0.0
    assert stats.wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)


def test_the_two_proportion_test_matches_prop_test_without_continuity_correction():
    # prop.test(c(1200, 1000), c(20000, 20000), correct = FALSE): X-squared = 19.24, p = 1.153e-05
    c = stats.two_proportion_test(1000, 20000, 1200, 20000)
    assert c.difference == pytest.approx(0.01)
    assert c.z**2 == pytest.approx(19.240, abs=1e-3)
    assert c.p_value == pytest.approx(1.1527e-05, rel=1e-3)
    assert (c.low, c.high) == (pytest.approx(0.005533, abs=1e-6), pytest.approx(0.014467, abs=1e-6))
    assert c.significant


def test_the_two_proportion_test_without_visitors_or_conversions():
    assert stats.two_proportion_test(0, 0, 1, 10) is None
    same = stats.two_proportion_test(0, 100, 0, 100)
    assert (same.p_value, same.difference, same.significant) == (1.0, 0.0, False)


def test_the_sample_size_matches_power_prop_test():
    # power.prop.test(p1 = .05, p2 = .06, power = .8): n = 8155.3 per group (its t-based tail adds ~3)
    assert stats.sample_size_per_arm(0.05, 0.06) == pytest.approx(8158, abs=5)
    assert stats.sample_size_per_arm(0.10, 0.15) == pytest.approx(686, abs=3)
    assert stats.sample_size_per_arm(0.05, 0.05) is None
    assert stats.sample_size_per_arm(0.0, 0.05) is None


def test_the_sample_ratio_check_passes_a_fair_split_and_flags_a_broken_one():
    fair = stats.sample_ratio_check([5020, 4980], [1, 1])
    assert fair.chi_square == pytest.approx(0.16)
    assert fair.p_value == pytest.approx(0.6891565, rel=1e-6)
    assert not fair.mismatch
    broken = stats.sample_ratio_check([5300, 4700], [1, 1])
    assert broken.mismatch
    assert broken.p_value < stats.SRM_ALPHA
    assert stats.sample_ratio_check([6000, 2000, 2000], [3, 1, 1]).p_value == 1.0
    assert stats.sample_ratio_check([0, 0], [1, 1]).p_value == 1.0
    assert stats.sample_ratio_check([10, 3], [1, 0]).mismatch
    with pytest.raises(ValueError, match="at least two arms"):
        stats.sample_ratio_check([1], [1])


def test_assignment_is_deterministic_and_follows_the_weights():
    weights = [("control", 2), ("b", 1), ("c", 1)]
    assert variant_for("visitor-1", "hero-text", weights) == variant_for("visitor-1", "hero-text", weights)
    split = Counter(variant_for(f"v{i}", "hero-text", weights) for i in range(40_000))
    assert split["control"] / 40_000 == pytest.approx(0.5, abs=0.01)
    assert split["b"] / 40_000 == pytest.approx(0.25, abs=0.01)
    # Two experiments split the same visitors independently.
    other = Counter((variant_for(f"v{i}", "hero-text", weights), variant_for(f"v{i}", "join-strip", weights))
                    for i in range(40_000))  # fmt: skip
    assert other[("b", "b")] / 40_000 == pytest.approx(0.0625, abs=0.01)


def test_assignment_buckets_are_the_documented_hash():
    digest = hashlib.sha256(b"hero-text\nabc").digest()
    assert bucket_of("abc", "hero-text", 7) == int.from_bytes(digest[:8], "big") % 7
    assert variant_for("abc", "hero-text", [("only", 1), ("never", 0)]) == "only"
    with pytest.raises(ValueError, match="more than 0"):
        variant_for("abc", "hero-text", [("a", 0)])
