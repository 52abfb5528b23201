"""IoU metric that also returns per-class values (for results tables).

mmseg's ``IoUMetric`` only prints the per-class table; the benchmark script
needs the numbers in the metrics dict, which the runner writes to its JSON
log. Keys added: ``IoU.<class>`` and ``Acc.<class>`` (percent; NaN for a
class absent from both prediction and ground truth).
"""
from collections import OrderedDict
from typing import Dict

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


def percent(value) -> float:
    """``value`` (a fraction) in percent, rounded to 2 decimals in float64:
    under numpy 2 a float32 value times 100 stays float32 (79.1699981...
    instead of numpy 1's 79.17)."""
    return float(np.round(np.float64(value) * 100, 2))


def summary_percents(per_class: Dict[str, np.ndarray]) -> Dict[str, float]:
    """mmseg's summary of ``total_area_to_metrics`` (``aAcc``, ``mIoU``,
    ``mAcc``, ...) in percent as Python floats, the same under numpy 1 and
    2 (mmseg's own rounding keeps float32 under numpy 2). NaN, without a
    warning, when every class is NaN."""
    summary = OrderedDict()
    for key, value in per_class.items():
        value = np.asarray(value)
        mean = (np.nanmean(value) if not np.isnan(value).all() else
                float('nan'))
        summary[key if key == 'aAcc' else 'm' + key] = percent(mean)
    return summary


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """:class:`mmseg.evaluation.IoUMetric` plus per-class IoU/Acc entries."""

    # keys without a prefix, as mmseg's ('mIoU', 'IoU.wall'); '' instead of
    # None says so (mmengine warns about a metric whose prefix is None)
    default_prefix = ''

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only or not results:
            return metrics
        areas = tuple(sum(part) for part in zip(*results))
        per_class = self.total_area_to_metrics(*areas, self.metrics,
                                               self.nan_to_num, self.beta)
        metrics.update(summary_percents(per_class))
        names = self.dataset_meta['classes']
        for kind in ('IoU', 'Acc'):
            if kind not in per_class:
                continue
            for name, value in zip(names, per_class[kind]):
                metrics[f'{kind}.{name}'] = percent(value)
        return metrics
