"""vttwins.companion.stats against hand-computed cases: a known difference is found, a zero one is not, Holm."""

import numpy as np
import pytest

from vttwins.companion.stats import bootstrap_means, holm, mean_interval, paired_difference


def test_known_difference_is_found_and_its_interval_covers_it():
    rng = np.random.default_rng(0)
    b = rng.normal(30, 5, size=(5, 120))  # 5 seeds x 120 items
    a = b + 5 + rng.normal(0, 1, size=b.shape)
    eff = paired_difference(a, b)
    assert eff.resolved and eff.low < 5 < eff.high and eff.low > 3
    assert eff.n_seeds == 5 and eff.n_items == 120
    assert eff.p < 1e-4


def test_zero_difference_is_not_found():
    base = np.arange(5.0)[:, None] * 10 + np.zeros((5, 4))
    d = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])[:, None]  # paired differences symmetric around 0
    eff = paired_difference(base + d, base)
    assert eff.diff == 0.0
    assert eff.low < 0 < eff.high and not eff.resolved and eff.p > 0.5


def test_pairing_removes_the_shared_seed_variation():
    seed_effect = np.array([0.0, 20.0, -15.0, 8.0, 30.0])  # seeds differ a lot; a - b is exactly 1 on each
    a, b = seed_effect + 1.0, seed_effect
    eff = paired_difference(a, b)
    assert (eff.diff, eff.low, eff.high) == (1.0, 1.0, 1.0)
    lo_a, hi_a = mean_interval(a)
    lo_b, hi_b = mean_interval(b)
    assert lo_a < hi_b and lo_b < hi_a  # unpaired intervals overlap: no verdict from them


def test_seeds_only_interval_is_the_paired_t_interval():
    # by hand: differences 1, 3, 2, 6 -> mean 3, sd 2.160 (ddof 1), se 1.080, t(0.975, 3) = 3.182 -> 3 +- 3.437
    a, b = np.array([11.0, 23.0, 32.0, 46.0]), np.array([10.0, 20.0, 30.0, 40.0])
    eff = paired_difference(a, b, n_boot=20000)
    assert eff.diff == 3.0
    assert eff.low == pytest.approx(3 - 3.437, abs=0.1) and eff.high == pytest.approx(3 + 3.437, abs=0.1)
    assert not eff.resolved  # -0.44 .. 6.44 contains 0
    assert eff.p == pytest.approx(0.0691, abs=0.005)  # paired t-test: t = 2.777, df 3
    lo, hi = mean_interval(a - b, n_boot=20000)
    assert (lo, hi) == pytest.approx((eff.low, eff.high), abs=0.1)


def test_three_agreeing_seeds_are_not_overstated():
    """A percentile bootstrap over 3 seeds that agree in sign says p = 1/n_boot; the t-scaled one does not."""
    eff = paired_difference([5.0, 1.0, 9.0], [0.0, 0.0, 0.0])
    assert eff.low < 0 < eff.high and eff.p > 0.1  # t = 2.6 on 2 df: p = 0.12


def test_one_seed_resolves_nothing():
    eff = paired_difference([5.0], [1.0])
    assert eff.diff == 4.0 and np.isnan(eff.low) and np.isnan(eff.p) and not eff.resolved


def test_replicates_of_two_seeds_by_hand():
    reps = bootstrap_means([2.0, 6.0], n_boot=4000)
    values, counts = np.unique(reps, return_counts=True)
    assert list(values) == [2.0, 4.0, 6.0]  # {x1, x1}, {x1, x2}, {x2, x2}
    assert counts / 4000 == pytest.approx([0.25, 0.5, 0.25], abs=0.03)


def test_ratio_metric_weights_items_by_their_denominators():
    # per-item recall r_i with n_i steps: pooled recall = sum n_i r_i / sum n_i; by hand (1*2 + 0*3)/5 = 0.4 and
    # (0.5*2 + 1*3)/5 = 0.8 on two seeds -> a - b point = mean(0.4, 0.8) - 0 = 0.6
    a = np.array([[1.0, 0.0], [0.5, 1.0]])
    eff = paired_difference(a, np.zeros_like(a), item_weights=[2, 3])
    assert eff.diff == pytest.approx(0.6)
    reps = bootstrap_means(a, item_weights=[2, 3], n_boot=500)
    w = np.array([2.0, 3.0])
    draws = [np.array(c, dtype=float) for c in ((2, 0), (1, 1), (0, 2))]  # counts of 2 things drawn from 2
    per_seed = lambda ci: (a * ci * w).sum(axis=1) / (ci * w).sum()  # noqa: E731 (each seed's pooled rate)
    possible = {round(float((cs * per_seed(ci)).sum() / 2), 9) for cs in draws for ci in draws}
    assert {round(float(r), 9) for r in reps} <= possible and len(set(np.round(reps, 9))) > 3


def test_holm_matches_a_hand_calculation():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02 0.03 0.06 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([0.2]) == pytest.approx([0.2])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"paired .* shapes \(3, 1\) and \(4, 1\)"):
        paired_difference([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="a has 1 non-finite"):
        paired_difference([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="item_weights"):
        paired_difference(np.ones((2, 3)), np.ones((2, 3)), item_weights=[1, 2])
    with pytest.raises(ValueError, match="pvalues"):
        holm([0.1, 1.5])
