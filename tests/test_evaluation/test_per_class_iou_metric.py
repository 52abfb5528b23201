"""PerClassIoUMetric (mmseg registry) on a hand-counted case."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def test_per_class_iou_metric():
    metric = METRICS.build(
        dict(type='PerClassIoUMetric', iou_metrics=['mIoU']))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    gt = torch.tensor([[0, 0, 1, 1], [2, 2, 255, 1]])
    pred = torch.tensor([[0, 1, 1, 1], [2, 0, 0, 1]])
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=gt[None])
    sample.pred_sem_seg = PixelData(data=pred[None])
    metric.process([], [sample.to_dict()])
    result = metric.compute_metrics(metric.results)
    valid = gt != 255
    for cls, name in enumerate('abc'):
        g, p = (gt == cls) & valid, (pred == cls) & valid
        iou = (g & p).sum().item() / (g | p).sum().item()
        acc = (g & p).sum().item() / g.sum().item()
        assert result[f'IoU.{name}'] == pytest.approx(100 * iou, abs=0.01)
        assert result[f'Acc.{name}'] == pytest.approx(100 * acc, abs=0.01)
    mean_iou = np.mean([result[f'IoU.{n}'] for n in 'abc'])
    assert result['mIoU'] == pytest.approx(mean_iou, abs=0.01)
    assert result['aAcc'] == pytest.approx(100 * 5 / 7, abs=0.01)
