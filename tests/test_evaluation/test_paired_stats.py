"""Paired statistics of the quality benchmark against scipy and by hand."""
import math

import pytest
from scipy import stats

from projects.depth_pixpro.evaluation.paired_stats import (
    holm_adjust, paired_differences, paired_summary, paired_t_power,
    seeds_for_power)


def test_paired_summary_matches_scipy_ttest_rel_and_the_t_interval():
    a = [21.3, 22.9, 20.1, 23.4, 22.2, 21.8]
    b = [20.9, 22.0, 20.5, 22.1, 21.0, 21.7]
    diffs = [x - y for x, y in zip(a, b)]
    s = paired_summary(diffs)
    ref = stats.ttest_rel(a, b)
    assert s['t'] == pytest.approx(ref.statistic, rel=1e-12)
    assert s['p'] == pytest.approx(ref.pvalue, rel=1e-12)
    mean = sum(diffs) / 6
    sd = math.sqrt(sum((d - mean)**2 for d in diffs) / 5)
    half = stats.t.ppf(0.975, 5) * sd / math.sqrt(6)
    assert (s['mean'], s['std']) == (pytest.approx(mean), pytest.approx(sd))
    assert s['ci_low'] == pytest.approx(mean - half)
    assert s['ci_high'] == pytest.approx(mean + half)
    assert (s['n'], s['positive']) == (6, 5)


def test_paired_summary_edge_cases():
    one = paired_summary([1.5])
    assert one['mean'] == 1.5 and math.isnan(one['p'])
    const = paired_summary([0.5, 0.5, 0.5])
    assert const['t'] == math.inf and const['p'] == 0.
    zero = paired_summary([0., 0.])
    assert zero['t'] == 0. and zero['p'] == 1.
    with pytest.raises(ValueError):
        paired_summary([])


def test_holm_by_hand():
    # m = 3: sorted 0.01, 0.02, 0.04 -> 0.03, 0.04, 0.04 (monotone)
    adjusted = holm_adjust(dict(a=0.04, b=0.01, c=0.02))
    assert adjusted == pytest.approx(dict(a=0.04, b=0.03, c=0.04))
    # capped at 1; the running maximum keeps the order
    adjusted = holm_adjust(dict(a=0.5, b=0.3, c=0.001))
    assert adjusted == pytest.approx(dict(a=0.6, b=0.6, c=0.003))
    nan = holm_adjust(dict(a=float('nan'), b=0.02))
    assert math.isnan(nan['a']) and nan['b'] == pytest.approx(0.02)


def test_power_matches_the_textbook_values():
    # paired t, effect size 1 (= effect / std), two-sided 0.05: n = 10 gives
    # 0.80 (Cohen's tables; G*Power 0.8031)
    assert paired_t_power(10, 1., 1.) == pytest.approx(0.8031, abs=5e-4)
    assert seeds_for_power(1., 1.) == 10
    # halving the spread needs fewer seeds, a stricter alpha more
    assert seeds_for_power(1., 0.5) < 10 < seeds_for_power(1., 1., 0.05 / 3)
    # the search really is minimal
    n = seeds_for_power(0.7, 1.0, 0.0167)
    assert paired_t_power(n, 0.7, 1.0, 0.0167) >= 0.8
    assert paired_t_power(n - 1, 0.7, 1.0, 0.0167) < 0.8


def test_paired_differences_use_the_seeds_both_arms_have():
    values = {('a', 0): 3., ('a', 1): 5., ('a', 3): 1., ('b', 0): 1.,
              ('b', 1): 6., ('b', 2): 0.}
    assert paired_differences(values, 'a', 'b') == [(0, 2.), (1, -1.)]
