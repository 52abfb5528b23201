"""PixPro's spatial test on a feature grid: the distance between the bin
centres of two views (:func:`~projects.depth_pixpro.coord.grid_centers`,
the crop-box geometry) over the larger bin diagonal.
"""
from typing import Sequence

import torch
from torch import Tensor

from ...coord import bin_sizes, grid_centers


def normalized_center_distance(coord_q: Tensor, coord_k: Tensor,
                               size: Sequence[int]) -> Tensor:
    """Distance between bin centres of two views over the larger bin diagonal.

    This is the quantity PixPro thresholds; computing it once lets every
    scale of a level be a single comparison ``< T``.

    Args:
        coord_q (Tensor): Crop boxes of the query view [N, 4].
        coord_k (Tensor): Crop boxes of the key view [N, 4].
        size (Sequence[int]): Grid size (H, W) shared by both views.

    Returns:
        Tensor: float32 [N, H*W, H*W], entry (i, j) for query bin i and key
        bin j.
    """
    if coord_q.shape != coord_k.shape:
        raise ValueError('coord_q and coord_k must have the same shape, got '
                         f'{tuple(coord_q.shape)} and {tuple(coord_k.shape)}')
    qx, qy = grid_centers(coord_q, size)
    kx, ky = grid_centers(coord_k, size)
    dist = torch.sqrt((qx[:, :, None] - kx[:, None, :])**2 +
                      (qy[:, :, None] - ky[:, None, :])**2)
    bw_q, bh_q = bin_sizes(coord_q, size)
    bw_k, bh_k = bin_sizes(coord_k, size)
    diag = torch.maximum(
        torch.sqrt(bw_q**2 + bh_q**2), torch.sqrt(bw_k**2 + bh_k**2))
    return dist / diag[:, None, None]


def spatial_positive_mask(coord_q: Tensor, coord_k: Tensor,
                          size: Sequence[int], thresh: float) -> Tensor:
    """PixPro's positive pairs: bins closer than ``thresh`` bin diagonals.

    The spatial test of training: the positive pairs of a view order and
    grid compute :func:`normalized_center_distance` once and compare it
    with each scale's ``thresh`` exactly so.

    Args:
        coord_q (Tensor): Crop boxes of the query view [N, 4].
        coord_k (Tensor): Crop boxes of the key view [N, 4].
        size (Sequence[int]): Grid size (H, W).
        thresh (float): Threshold T on the normalised distance.

    Returns:
        Tensor: bool [N, H*W, H*W].
    """
    return normalized_center_distance(coord_q, coord_k, size) < thresh
