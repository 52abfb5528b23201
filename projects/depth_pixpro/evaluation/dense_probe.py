"""Linear dense probe: a closed-form linear pixel classifier on frozen
features and its mIoU (the online probe of :class:`DenseProbeHook`).

The classifier is ridge regression onto one-hot labels on standardised
features: linear, deterministic and solved in one step, so a probe costs
a feature pass and a C x C solve, not a training run.
"""
from typing import NamedTuple

import torch
import torch.nn.functional as F
from mmseg.evaluation.metrics import IoUMetric
from torch import Tensor


class LinearPixelClassifier(NamedTuple):
    """``logits = ((x - mean) / std) @ weight + bias`` per pixel.

    Attributes:
        mean (Tensor): [C] feature means of the training pixels.
        std (Tensor): [C] feature standard deviations (floored).
        weight (Tensor): [C, K].
        bias (Tensor): [K].
    """
    mean: Tensor
    std: Tensor
    weight: Tensor
    bias: Tensor

    def logits(self, feats: Tensor) -> Tensor:
        """Class scores of feature maps.

        Args:
            feats (Tensor): [N, C, h, w].

        Returns:
            Tensor: [N, K, h, w].
        """
        x = (feats.movedim(1, -1).double() - self.mean) / self.std
        return (x @ self.weight + self.bias).movedim(-1, 1).float()


def labels_on_grid(labels: Tensor, size) -> Tensor:
    """Nearest-neighbour labels of each feature cell.

    Args:
        labels (Tensor): [N, H, W] integer labels.
        size (tuple[int, int]): Feature grid ``(h, w)``.

    Returns:
        Tensor: [N, h, w] int64 labels.
    """
    return F.interpolate(labels[:, None].float(), size=tuple(size),
                         mode='nearest')[:, 0].long()


def fit_linear_classifier(feats: Tensor, labels: Tensor, num_classes: int,
                          ignore_index: int = 255,
                          ridge: float = 1e-2) -> LinearPixelClassifier:
    """Ridge regression of one-hot labels on standardised pixel features.

    Args:
        feats (Tensor): [N, C, h, w] features.
        labels (Tensor): [N, h, w] labels on the same grid; ``ignore_index``
            pixels are left out.
        num_classes (int): K.
        ignore_index (int): Label of unlabelled pixels. Defaults to 255.
        ridge (float): L2 penalty per pixel (the system is
            ``X^T X + ridge * M * I`` for M pixels). Defaults to 1e-2.

    Returns:
        LinearPixelClassifier: The fitted classifier (float64).

    Raises:
        ValueError: No labelled pixel.
    """
    x = feats.movedim(1, -1).reshape(-1, feats.shape[1]).double()
    y = labels.reshape(-1)
    keep = (y != ignore_index) & (y >= 0) & (y < num_classes)
    if not keep.any():
        raise ValueError('no labelled pixel to fit the probe on')
    x, y = x[keep], y[keep]
    mean = x.mean(dim=0)
    std = x.std(dim=0, unbiased=False).clamp(min=1e-6)
    x = (x - mean) / std
    targets = F.one_hot(y, num_classes).double()
    bias = targets.mean(dim=0)
    gram = x.T @ x + ridge * len(x) * torch.eye(
        x.shape[1], dtype=x.dtype, device=x.device)
    weight = torch.linalg.solve(gram, x.T @ (targets - bias))
    return LinearPixelClassifier(mean, std, weight, bias)


def per_class_iou(pred: Tensor, labels: Tensor, num_classes: int,
                  ignore_index: int = 255) -> Tensor:
    """IoU of every class over a set of label maps, as mmseg's
    ``IoUMetric`` accumulates it (areas summed over images).

    Args:
        pred (Tensor): [N, H, W] predicted labels.
        labels (Tensor): [N, H, W] ground truth.
        num_classes (int): K.
        ignore_index (int): Defaults to 255.

    Returns:
        Tensor: float64 [K], in [0, 1]; NaN for a class absent from both
        the predictions and the labels.
    """
    inter = torch.zeros(num_classes, dtype=torch.float64)
    union = torch.zeros(num_classes, dtype=torch.float64)
    for p, t in zip(pred.cpu(), labels.cpu()):
        area_inter, area_union, _, _ = IoUMetric.intersect_and_union(
            p, t, num_classes, ignore_index)
        inter += area_inter
        union += area_union
    return inter / union


def segmentation_miou(pred: Tensor, labels: Tensor, num_classes: int,
                      ignore_index: int = 255) -> float:
    """mIoU (%) of predicted label maps, as mmseg's ``IoUMetric`` computes
    it (classes absent from prediction and labels are left out).

    Args:
        pred (Tensor): [N, H, W] predicted labels.
        labels (Tensor): [N, H, W] ground truth.
        num_classes (int): K.
        ignore_index (int): Defaults to 255.

    Returns:
        float: Mean IoU in percent.
    """
    iou = per_class_iou(pred, labels, num_classes, ignore_index)
    return float(iou[~iou.isnan()].mean() * 100)

