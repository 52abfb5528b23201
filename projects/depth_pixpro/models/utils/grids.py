"""Feature-grid geometry: bin centres of a crop and PixPro's spatial test.

A view is a crop ``coord = [x_ul, y_ul, x_lr, y_lr]`` of the original image,
normalised to [0, 1] (PixPro convention, a horizontal flip swaps x_ul and
x_lr). Its feature map of size (H, W) splits the crop into H x W bins; pixel
``h * W + w`` of the flattened map (``tensor.flatten(2)`` order) is bin (h, w).
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor


def _check_coord(coord: Tensor) -> None:
    if coord.dim() != 2 or coord.size(-1) != 4:
        raise ValueError('coord must be [N, 4] = [x_ul, y_ul, x_lr, y_lr], '
                         f'got shape {tuple(coord.shape)}')


def bin_sizes(coord: Tensor, size: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Signed width and height of one bin of each crop.

    Args:
        coord (Tensor): Crop boxes [N, 4].
        size (Sequence[int]): Grid size (H, W).

    Returns:
        tuple[Tensor, Tensor]: ``bw, bh``, each [N]; ``bw`` is negative for
        a flipped view.
    """
    _check_coord(coord)
    height, width = size
    coord = coord.float()
    bw = (coord[:, 2] - coord[:, 0]) / width
    bh = (coord[:, 3] - coord[:, 1]) / height
    return bw, bh


def grid_centers(coord: Tensor, size: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Centres of the bins of each crop in original-image coordinates.

    Args:
        coord (Tensor): Crop boxes [N, 4].
        size (Sequence[int]): Grid size (H, W).

    Returns:
        tuple[Tensor, Tensor]: ``cx, cy``, each [N, H*W] in h-major order.
    """
    height, width = size
    bw, bh = bin_sizes(coord, size)
    coord = coord.float()
    ws = torch.arange(width, device=coord.device, dtype=torch.float32) + 0.5
    hs = torch.arange(height, device=coord.device, dtype=torch.float32) + 0.5
    cx = ws[None, :] * bw[:, None] + coord[:, 0:1]  # [N, W]
    cy = hs[None, :] * bh[:, None] + coord[:, 1:2]  # [N, H]
    cx = cx[:, None, :].expand(-1, height, -1).reshape(coord.size(0), -1)
    cy = cy[:, :, None].expand(-1, -1, width).reshape(coord.size(0), -1)
    return cx, cy


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
