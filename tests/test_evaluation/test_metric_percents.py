"""The IoU metrics' numbers are the same Python floats under numpy 1 and 2:
percentages rounded in float64 (numpy 2 keeps float32 * 100 in float32,
79.1699981... instead of 79.17)."""
import math

import numpy as np
import pytest
import torch

from projects.depth_pixpro.evaluation import BoundaryIoUMetric
from projects.depth_pixpro.evaluation.metrics.per_class_iou import (
    PerClassIoUMetric, percent, summary_percents)

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26


def test_percent_rounds_in_float64():
    value = np.float32(19 / 24)
    assert percent(value) == 79.17
    assert type(percent(value)) is float
    assert percent(np.float32(0.5)) == 50.
    assert math.isnan(percent(float('nan')))


def test_summary_percents_by_hand():
    per_class = dict(aAcc=np.float32(0.75),
                     IoU=np.array([19 / 24, 15 / 20], np.float32),
                     Acc=np.array([1., np.nan], np.float32),
                     Fscore=np.array([np.nan, np.nan], np.float32))
    summary = summary_percents(per_class)
    assert list(summary) == ['aAcc', 'mIoU', 'mAcc', 'mFscore']
    assert summary['aAcc'] == 75.
    assert summary['mIoU'] == round((19 / 24 + 15 / 20) / 2 * 100, 2)
    assert summary['mAcc'] == 100.  # NaN classes left out
    assert math.isnan(summary['mFscore'])
    assert all(type(v) is float for v in summary.values())


def test_metrics_are_python_floats_equal_to_the_hand_values():
    """Ground truth: class a in columns 0-3, b in 4-7; prediction a in 0-4:
    IoU a 20 / 25, b 15 / 20, aAcc 35 / 40; band 1 (columns 3-4): IoU a
    5 / 10, b 0."""
    label = torch.zeros(5, 8, dtype=torch.long)
    label[:, 4:] = 1
    pred = torch.zeros(5, 8, dtype=torch.long)
    pred[:, 5:] = 1
    sample = dict(pred_sem_seg=dict(data=pred[None]),
                  gt_sem_seg=dict(data=label[None]))
    for metric in (PerClassIoUMetric(), BoundaryIoUMetric(band=1)):
        metric.dataset_meta = dict(classes=('a', 'b'))
        metric.process({}, [sample])
        values = metric.compute_metrics(metric.results)
        assert all(type(v) is float for v in values.values()), values
        assert values['IoU.a'] == 80. and values['IoU.b'] == 75.
        assert values['mIoU'] == 77.5 and values['aAcc'] == 87.5
        assert values['mAcc'] == round((1 + 0.75) / 2 * 100, 2)
    assert values['boundary_mIoU'] == 25.
    assert values['boundary_IoU.a'] == 50.
