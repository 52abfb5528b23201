"""Depth statistic of each feature-grid cell: mean, median or centre.

The depth test compares one depth per cell. ``'mean'`` is
:func:`pool_depth` (valid-aware mean, the paper's pooling); a cell that
straddles a depth edge then gets a depth that lies on neither surface.
``'median'`` (valid-aware lower median over the cell) and ``'center'``
(the depth at the cell's centre, the point whose coordinates define the
pair in the spatial test) stay on one of the surfaces.

Cells are the bins of ``F.adaptive_avg_pool2d`` for every statistic:
rows ``floor(i * h / H)`` to ``ceil((i + 1) * h / H)`` (exclusive). Depth 0,
NaN or negative is invalid; a cell without a valid value is 0 (invalid).
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from .depth import pool_depth

#: Cell statistics of :func:`cell_depth`.
CELL_STATS = ('mean', 'median', 'center')


def _sanitize(depth: Tensor) -> Tensor:
    if depth.dim() != 3:
        raise ValueError(f'depth must be [N, h, w], got {tuple(depth.shape)}')
    depth = torch.nan_to_num(depth.float(), nan=0., posinf=0., neginf=0.)
    return depth.clamp(min=0.)


def adaptive_bins(length: int,
                  bins: int,
                  device=None) -> Tuple[Tensor, Tensor]:
    """Indices of the adaptive-pooling bins along one axis, padded.

    Args:
        length (int): Input size along the axis.
        bins (int): Output size (number of bins).
        device: Device of the returned tensors.

    Returns:
        tuple[Tensor, Tensor]: ``index`` long [bins, k] (clamped into
        range) and ``inside`` bool [bins, k] (whether the index belongs to
        the bin), ``k`` the largest bin.
    """
    i = torch.arange(bins, device=device)
    start = torch.div(i * length, bins, rounding_mode='floor')
    end = -torch.div(-(i + 1) * length, bins, rounding_mode='floor')  # ceil
    k = int((end - start).max())
    index = start[:, None] + torch.arange(k, device=device)[None]
    inside = index < end[:, None]
    return index.clamp(max=length - 1), inside


def median_pool_depth(depth: Tensor, size: Sequence[int]) -> Tensor:
    """Valid-aware median depth of each cell.

    For an even number of valid values the lower of the two middle values
    (``torch.median``'s convention), so the result is always a measured
    depth.

    Args:
        depth (Tensor): Depth maps [N, h, w], 0 = invalid.
        size (Sequence[int]): Grid size (H, W).

    Returns:
        Tensor: float32 [N, H, W], 0 where a cell has no valid depth.
    """
    depth = _sanitize(depth)
    height, width = (int(s) for s in size)
    rows, rows_in = adaptive_bins(depth.size(1), height, depth.device)
    cols, cols_in = adaptive_bins(depth.size(2), width, depth.device)
    # [N, H, kh, W, kw]: every cell's pixels, padded to the largest cell
    cells = depth[:, rows][:, :, :, cols]
    inside = rows_in[:, :, None, None] & cols_in[None, None]
    cells = torch.where(inside[None] & (cells > 0), cells,
                        torch.full_like(cells, float('nan')))
    cells = cells.permute(0, 1, 3, 2, 4).flatten(3)  # [N, H, W, kh * kw]
    median = cells.nanmedian(dim=-1).values
    return torch.nan_to_num(median, nan=0.)


def center_depth(depth: Tensor, size: Sequence[int]) -> Tensor:
    """Depth at each cell's centre.

    The centre of cell (i, j) is the point ``((j + 0.5) * w / W,
    (i + 0.5) * h / H)`` in pixel-edge units (the bin centre of
    :func:`grid_centers`); its depth is that of the pixel containing it
    (nearest: never blended across an edge).

    Args:
        depth (Tensor): Depth maps [N, h, w], 0 = invalid.
        size (Sequence[int]): Grid size (H, W).

    Returns:
        Tensor: float32 [N, H, W], 0 where the centre pixel is invalid.
    """
    depth = _sanitize(depth)
    height, width = (int(s) for s in size)
    h, w = depth.shape[1:]
    rows = ((torch.arange(height, device=depth.device) + 0.5) * h /
            height).floor().long().clamp(max=h - 1)
    cols = ((torch.arange(width, device=depth.device) + 0.5) * w /
            width).floor().long().clamp(max=w - 1)
    return depth[:, rows][:, :, cols]


def cell_depth(depth: Tensor,
               size: Sequence[int],
               pool: str = 'mean') -> Tensor:
    """One depth per cell of an (H, W) grid.

    Args:
        depth (Tensor): Depth maps [N, h, w], 0 = invalid.
        size (Sequence[int]): Grid size (H, W).
        pool (str): ``'mean'`` (:func:`pool_depth`), ``'median'``
            (:func:`median_pool_depth`) or ``'center'``
            (:func:`center_depth`).

    Returns:
        Tensor: float32 [N, H, W], 0 = invalid.
    """
    if pool == 'mean':
        return pool_depth(depth, size)
    if pool == 'median':
        return median_pool_depth(depth, size)
    if pool == 'center':
        return center_depth(depth, size)
    raise ValueError(f'pool must be one of {CELL_STATS}, got {pool!r}')
