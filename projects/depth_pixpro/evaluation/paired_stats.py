"""Paired statistics of per-seed differences (the quality benchmark).

Two arms trained with the same seed share the initialisation, the scenes
and the crops, so the per-seed difference removes what they share; what is
left is tested with a paired t-test. A declared family of comparisons is
corrected with Holm's step-down method. The power of the paired t-test
(noncentral t) gives the number of seeds an experiment needs.
"""
import math
import statistics
from typing import Dict, List, Sequence

from scipy import stats


def paired_summary(diffs: Sequence[float], confidence: float = 0.95) -> dict:
    """Mean, spread, confidence interval and paired t-test of differences.

    Args:
        diffs (Sequence[float]): One difference (arm A - arm B) per seed.
        confidence (float): Level of the two-sided interval. Defaults to
            0.95.

    Returns:
        dict: ``n``, ``mean``, ``std`` (sample), ``ci_low``/``ci_high``
        (mean +- t quantile x std / sqrt(n)), ``t`` (mean / standard error;
        +-inf for a zero spread and a non-zero mean), ``p`` (two-sided,
        n - 1 degrees of freedom) and ``positive`` (differences > 0). The
        interval, t and p are NaN for n < 2.
    """
    diffs = [float(d) for d in diffs]
    n = len(diffs)
    if n == 0:
        raise ValueError('no differences to summarise')
    mean = statistics.fmean(diffs)
    std = statistics.stdev(diffs) if n > 1 else float('nan')
    out = dict(n=n, mean=mean, std=std, ci_low=float('nan'),
               ci_high=float('nan'), t=float('nan'), p=float('nan'),
               positive=sum(d > 0 for d in diffs))
    if n < 2:
        return out
    sem = std / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sem
    out.update(ci_low=mean - half, ci_high=mean + half)
    if sem > 0:
        out['t'] = mean / sem
    elif mean != 0:
        out['t'] = math.copysign(math.inf, mean)
    else:
        out['t'] = 0.
    out['p'] = float(2 * stats.t.sf(abs(out['t']), n - 1))
    return out


def holm_adjust(p_values: Dict[str, float]) -> Dict[str, float]:
    """Holm's step-down adjusted p-values of a family of tests.

    The i-th smallest of m p-values becomes ``max_{j <= i} min(1, (m - j + 1)
    * p_(j))``; a comparison is significant at level alpha when its adjusted
    p-value is <= alpha (strong control of the family-wise error rate).

    Args:
        p_values (dict[str, float]): Name -> raw p-value (NaN stays NaN and
            is left out of the family).

    Returns:
        dict[str, float]: Name -> adjusted p-value.
    """
    valid = sorted((p, name) for name, p in p_values.items() if p == p)
    m = len(valid)
    adjusted, running = {}, 0.
    for i, (p, name) in enumerate(valid):
        running = max(running, min(1., (m - i) * p))
        adjusted[name] = running
    return {name: adjusted.get(name, float('nan')) for name in p_values}


def paired_t_power(n: int, effect: float, std: float,
                   alpha: float = 0.05) -> float:
    """Power of the two-sided paired t-test with ``n`` pairs.

    Args:
        n (int): Pairs (seeds), >= 2.
        effect (float): True mean difference to detect.
        std (float): Standard deviation of the differences.
        alpha (float): Level of the test. Defaults to 0.05.

    Returns:
        float: Probability of rejecting the null hypothesis.
    """
    if n < 2:
        raise ValueError(f'n must be >= 2, got {n}')
    df = n - 1
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    shift = effect / std * math.sqrt(n)
    return float(stats.nct.sf(crit, df, shift) + stats.nct.cdf(-crit, df,
                                                               shift))


def seeds_for_power(effect: float, std: float, alpha: float = 0.05,
                    power: float = 0.8, max_n: int = 1000) -> int:
    """Smallest number of seeds whose paired t-test reaches ``power``.

    Args:
        effect (float): Mean difference to detect.
        std (float): Standard deviation of the differences.
        alpha (float): Level (per comparison; pass alpha / m for a
            Bonferroni-safe plan of m comparisons). Defaults to 0.05.
        power (float): Target power. Defaults to 0.8.
        max_n (int): Search limit. Defaults to 1000.

    Returns:
        int: n >= 2.
    """
    for n in range(2, max_n + 1):
        if paired_t_power(n, effect, std, alpha) >= power:
            return n
    raise ValueError(f'more than {max_n} seeds needed')


def paired_differences(values: Dict[tuple, float], arm_a: str,
                       arm_b: str) -> List[tuple]:
    """Per-seed differences ``a - b`` over the seeds both arms have.

    Args:
        values (dict): ``(arm, seed) -> value``.
        arm_a (str): Minuend arm.
        arm_b (str): Subtrahend arm.

    Returns:
        list[tuple[int, float]]: ``(seed, difference)`` in seed order.
    """
    seeds = sorted({s for a, s in values if a == arm_a} &
                   {s for a, s in values if a == arm_b})
    return [(s, values[(arm_a, s)] - values[(arm_b, s)]) for s in seeds]
