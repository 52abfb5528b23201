"""BoundaryIoUMetric: the band against a brute-force loop, the metric on a
hand-made label map whose IoUs are computed by hand."""
import math

import pytest
import torch
from mmseg.registry import METRICS

from projects.depth_pixpro.evaluation import BoundaryIoUMetric, boundary_band

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26

IGNORE = 255


def _band_loop(label, band, ignore=IGNORE):
    """Pixel p is in the band iff a pixel of another labelled class lies in
    the (2 band + 1)^2 window around it, inside the image."""
    h, w = label.shape
    out = torch.zeros(h, w, dtype=torch.bool)
    for y in range(h):
        for x in range(w):
            if label[y, x] == ignore:
                continue
            for qy in range(max(0, y - band), min(h, y + band + 1)):
                for qx in range(max(0, x - band), min(w, x + band + 1)):
                    q = label[qy, qx]
                    if q != ignore and q != label[y, x]:
                        out[y, x] = True
    return out


@pytest.mark.parametrize('band', [1, 2, 3])
def test_band_equals_loop(band):
    gen = torch.Generator().manual_seed(band)
    for _ in range(4):
        # blocky labels (boundaries of several shapes) with ignored pixels
        label = torch.randint(0, 4, (4, 5), generator=gen)
        label = label.repeat_interleave(3, 0).repeat_interleave(2, 1)
        label[torch.rand(label.shape, generator=gen) < 0.1] = IGNORE
        assert torch.equal(boundary_band(label, band), _band_loop(label, band))


def test_band_by_hand():
    label = torch.zeros(5, 8, dtype=torch.long)
    label[:, 4:] = 1
    label[2, 0] = IGNORE  # an unlabelled pixel inside class 0: no boundary
    expected = torch.zeros(5, 8, dtype=torch.bool)
    expected[:, 3:5] = True
    assert torch.equal(boundary_band(label, 1), expected)
    expected[:, 2:6] = True
    assert torch.equal(boundary_band(label, 2), expected)
    # one class only: no band; the whole image ignored: no band
    assert not boundary_band(torch.zeros(4, 4, dtype=torch.long), 2).any()
    assert not boundary_band(torch.full((3, 3), IGNORE), 1).any()
    with pytest.raises(ValueError, match='band'):
        boundary_band(label, 0)


def _sample(pred, label):
    return dict(pred_sem_seg=dict(data=pred[None]),
                gt_sem_seg=dict(data=label[None]))


def _scene():
    """Ground truth: class 0 in columns 0-3, class 1 in 4-7, one ignored
    pixel at (2, 0); prediction: class 0 in columns 0-4, 1 in 5-7."""
    label = torch.zeros(5, 8, dtype=torch.long)
    label[:, 4:] = 1
    label[2, 0] = IGNORE
    pred = torch.zeros(5, 8, dtype=torch.long)
    pred[:, 5:] = 1
    return pred, label


def _evaluate(metric, samples):
    metric.dataset_meta = dict(classes=('a', 'b'))
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_metric_by_hand():
    pred, label = _scene()
    metric = METRICS.build(dict(type='BoundaryIoUMetric', band=1))
    assert isinstance(metric, BoundaryIoUMetric)
    m = _evaluate(metric, [_sample(pred, label)])
    # whole image (39 labelled pixels): class 0 19 / 24, class 1 15 / 20
    assert m['mIoU'] == round((19 / 24 + 15 / 20) / 2 * 100, 2)
    assert m['IoU.a'] == round(19 / 24 * 100, 2)
    # band 1 = columns 3 and 4 (10 pixels): class 0 gt 5, pred 10, inter 5;
    # class 1 gt 5, pred 0, inter 0
    assert m['boundary_IoU.a'] == 50.
    assert m['boundary_IoU.b'] == 0.
    assert m['boundary_mIoU'] == 25.
    assert m['boundary_mAcc'] == 50.
    assert m['boundary_aAcc'] == 50.
    assert m['boundary_frac'] == pytest.approx(10 / 39)

    # band 2 = columns 2-5: class 0 inter 10 / union 15, class 1 5 / 10;
    # two copies of the image give the same ratios (areas are summed)
    metric = BoundaryIoUMetric(band=2)
    m = _evaluate(metric, [_sample(pred, label), _sample(pred, label)])
    assert m['boundary_IoU.a'] == round(10 / 15 * 100, 2)
    assert m['boundary_IoU.b'] == 50.
    assert m['boundary_mIoU'] == round((10 / 15 + 0.5) / 2 * 100, 2)
    assert m['mIoU'] == round((19 / 24 + 15 / 20) / 2 * 100, 2)


def test_metric_perfect_and_no_boundary():
    pred, label = _scene()
    m = _evaluate(BoundaryIoUMetric(band=1), [_sample(label.clone(), label)])
    assert m['boundary_mIoU'] == 100. and m['mIoU'] == 100.
    # a single-class image has no band: its boundary metrics are NaN,
    # the whole-image ones are not
    flat = torch.zeros(4, 4, dtype=torch.long)
    m = _evaluate(BoundaryIoUMetric(band=1), [_sample(flat, flat)])
    assert m['IoU.a'] == 100.
    assert math.isnan(m['boundary_mIoU'])
    assert m['boundary_frac'] == 0.


@pytest.mark.parametrize('band', [0, -1, 1.5])
def test_metric_band_validated(band):
    with pytest.raises(ValueError, match='band'):
        BoundaryIoUMetric(band=band)


def test_metric_beside_another_in_one_evaluator():
    """Any config can list it next to its own metric (a prefix keeps the
    keys apart) instead of replacing it."""
    from mmengine.evaluator import Evaluator

    from projects.depth_pixpro.evaluation import PerClassIoUMetric
    pred, label = _scene()
    evaluator = Evaluator(
        [PerClassIoUMetric(),
         BoundaryIoUMetric(band=1, prefix='band1')])
    evaluator.dataset_meta = dict(classes=('a', 'b'))
    evaluator.process([_sample(pred, label)], {})
    m = evaluator.evaluate(1)
    assert m['band1/boundary_mIoU'] == 25.
    assert m['band1/mIoU'] == m['mIoU'] == round(
        (19 / 24 + 15 / 20) / 2 * 100, 2)
