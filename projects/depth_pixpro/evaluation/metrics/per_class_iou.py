"""IoU metric that also returns per-class values (for results tables).

mmseg's ``IoUMetric`` only prints the per-class table; the benchmark script
needs the numbers in the metrics dict, which the runner writes to its JSON
log. Keys added: ``IoU.<class>`` and ``Acc.<class>`` (percent; NaN for a
class absent from both prediction and ground truth).
"""
from typing import Dict

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


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
        names = self.dataset_meta['classes']
        for kind in ('IoU', 'Acc'):
            if kind not in per_class:
                continue
            for name, value in zip(names, per_class[kind]):
                metrics[f'{kind}.{name}'] = float(np.round(value * 100, 2))
        return metrics
