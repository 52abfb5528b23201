"""mIoU restricted to a band around the label boundaries (trimap IoU).

The depth test of DepthPixPro changes which pixel pairs are positives
mostly near object boundaries (a pair across an edge is dropped), so its
effect should show there first. :class:`BoundaryIoUMetric` reports, beside
the usual IoU metrics, the same metrics computed only on the pixels of the
ground truth whose neighbourhood of ``band`` pixels (Chebyshev distance,
the image border not counted) holds another labelled class: the "trimap"
evaluation of Kohli et al. (2009), with the band on the ground truth only.

Keys added to the metrics dict (percent): ``boundary_aAcc``,
``boundary_mIoU``, ``boundary_mAcc`` (and the other ``iou_metrics``'
means) and ``boundary_IoU.<class>``; ``boundary_frac``: the fraction of
the labelled pixels that lie in the band.

Use it in place of ``IoUMetric`` / ``PerClassIoUMetric`` in any
segmentation config::

    val_evaluator = dict(type='BoundaryIoUMetric', iou_metrics=['mIoU'],
                         band=3)

or beside the config's own metric, a prefix keeping the keys apart::

    val_evaluator = [
        dict(type='PerClassIoUMetric', iou_metrics=['mIoU']),
        dict(type='BoundaryIoUMetric', band=3, prefix='band3')]
"""
from collections import OrderedDict
from typing import Dict, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmseg.registry import METRICS

from .per_class_iou import PerClassIoUMetric, percent, summary_percents


def boundary_band(label: torch.Tensor, band: int,
                  ignore_index: int = 255) -> torch.Tensor:
    """Pixels within ``band`` pixels of another labelled class.

    A pixel ``p`` is in the band if some pixel ``q`` with
    ``max(|p_y - q_y|, |p_x - q_x|) <= band`` inside the image has a label
    that is neither ``p``'s nor ``ignore_index``. Ignored pixels are never
    in the band and do not make a boundary.

    Args:
        label (Tensor): Label map [H, W] (integers).
        band (int): Half-width of the band in pixels (>= 1).
        ignore_index (int): Label of unlabelled pixels. Defaults to 255.

    Returns:
        Tensor: Bool [H, W].
    """
    if band < 1:
        raise ValueError(f'band must be >= 1, got {band}')
    valid = label != ignore_index
    # Window max / min over the labelled pixels only: an ignored pixel is
    # -1 for the max and +inf for the min, max_pool2d pads with -inf.
    values = label.to(torch.float64)[None, None]
    low = torch.where(valid, values, torch.full_like(values, -1.))
    high = torch.where(valid, -values, torch.full_like(values, -np.inf))
    size = 2 * band + 1
    window_max = F.max_pool2d(low, size, stride=1, padding=band)[0, 0]
    window_min = -F.max_pool2d(high, size, stride=1, padding=band)[0, 0]
    values = values[0, 0]
    return valid & ((window_max != values) | (window_min != values))


@METRICS.register_module()
class BoundaryIoUMetric(PerClassIoUMetric):
    """:class:`PerClassIoUMetric` plus the same metrics on the boundary band.

    Args:
        band (int): Half-width in pixels of the band around the ground
            truth's class boundaries (see :func:`boundary_band`). Defaults
            to 3 (about 2 % of the diagonal of a 128x128 image, the band of
            Boundary IoU, Cheng et al. 2021).
        **kwargs: :class:`mmseg.evaluation.IoUMetric`'s arguments.
    """

    def __init__(self, band: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        if int(band) != band or band < 1:
            raise ValueError(f'band must be an integer >= 1, got {band}')
        self.band = int(band)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Areas of the whole image (as mmseg) and of the boundary band.

        Each result is the 4 whole-image areas followed by the 4 band areas
        (intersection, union, prediction, label; one value per class).
        """
        start = len(self.results)
        super().process(data_batch, data_samples)
        if self.format_only:
            return
        num_classes = len(self.dataset_meta['classes'])
        for i, data_sample in enumerate(data_samples):
            pred = data_sample['pred_sem_seg']['data'].squeeze()
            label = data_sample['gt_sem_seg']['data'].squeeze().to(pred)
            in_band = boundary_band(label, self.band, self.ignore_index)
            band_label = torch.where(
                in_band, label, torch.full_like(label, self.ignore_index))
            self.results[start + i] = tuple(self.results[start + i]) + \
                tuple(self.intersect_and_union(pred, band_label, num_classes,
                                               self.ignore_index))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Whole-image metrics, then ``boundary_*`` ones and
        ``boundary_frac``."""
        if self.format_only or not results:
            return super().compute_metrics(results)
        metrics = super().compute_metrics([r[:4] for r in results])
        areas = tuple(sum(part) for part in zip(*results))
        band = self.total_area_to_metrics(*areas[4:], self.metrics,
                                          self.nan_to_num, self.beta)
        summary = OrderedDict(
            (f'boundary_{name}', value)
            for name, value in summary_percents(band).items())
        for name, value in zip(self.dataset_meta['classes'],
                               np.asarray(band.get('IoU', []))):
            summary[f'boundary_IoU.{name}'] = percent(value)
        labelled = float(areas[3].sum())
        summary['boundary_frac'] = (float(areas[7].sum()) / labelled
                                    if labelled else float('nan'))
        metrics.update(summary)
        return metrics
