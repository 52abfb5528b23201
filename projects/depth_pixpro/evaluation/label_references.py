"""Scores that need no features: what a readout must beat, and its ceiling.

* :func:`position_prior`: the majority class of every pixel position over a
  training set; it knows only *where* in the image a pixel is.
* :func:`cell_majority_oracle`: the true majority label of every
  ``stride x stride`` cell, the best any readout that predicts one label
  per cell of a stride-``stride`` feature grid can do.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from .pair_purity import cell_majority_labels


def position_prior(labels: Tensor, num_classes: int,
                   ignore_index: int = 255) -> Tensor:
    """Majority class of each pixel position.

    Args:
        labels (Tensor): [N, H, W] training label maps of one size.
        num_classes (int): K.
        ignore_index (int): Unlabelled pixels, not counted. Defaults to 255.

    Returns:
        Tensor: long [H, W]; ties go to the smallest class id, a position
        never labelled gets ``ignore_index``.
    """
    labels = labels.long()
    valid = (labels >= 0) & (labels < num_classes)
    counts = F.one_hot(torch.where(valid, labels, 0), num_classes)
    counts = (counts * valid[..., None]).sum(dim=0)  # [H, W, K]
    prior = counts.argmax(dim=-1)
    return torch.where(counts.sum(-1) > 0, prior,
                       torch.full_like(prior, ignore_index))


def cell_majority_oracle(labels: Tensor, stride: int, num_classes: int,
                         ignore_index: int = 255) -> Tensor:
    """Each pixel labelled with the true majority class of its cell.

    Args:
        labels (Tensor): [N, H, W] label maps; H and W divisible by
            ``stride``.
        stride (int): Cell size in pixels.
        num_classes (int): K.
        ignore_index (int): Label of unlabelled pixels (and of cells whose
            majority is unlabelled). Defaults to 255.

    Returns:
        Tensor: long [N, H, W].
    """
    n, height, width = labels.shape
    if stride < 1 or height % stride or width % stride:
        raise ValueError(f'stride {stride} must divide the label size '
                         f'{height}x{width}')
    grid = (height // stride, width // stride)
    cells = cell_majority_labels(labels, grid, num_classes).view(n, *grid)
    cells = torch.where(cells < 0, torch.full_like(cells, ignore_index),
                        cells)
    return cells.repeat_interleave(stride, 1).repeat_interleave(stride, 2)
