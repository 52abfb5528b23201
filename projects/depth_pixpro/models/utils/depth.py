"""Depth on the feature grid and the depth test on pixel pairs.

Depth is in any unit with 0 meaning invalid (no measurement). It never enters
the network: it is pooled to each feature grid and only decides which pixel
pairs may be positives.
"""
import math
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

DEPTH_MODES = ('relative', 'absolute', 'normalized')
INVALID_POLICIES = ('pass', 'reject')


def pool_depth(depth: Tensor, size: Sequence[int]) -> Tensor:
    """Valid-aware mean of the depth over each bin of an (H, W) grid.

    Bins are those of ``F.adaptive_avg_pool2d``; invalid (0, NaN, negative)
    pixels are left out of the mean so that holes never drag depth towards
    0, and a bin without any valid pixel stays 0 (invalid).

    Args:
        depth (Tensor): Depth maps [N, h, w].
        size (Sequence[int]): Grid size (H, W).

    Returns:
        Tensor: float32 [N, H, W].
    """
    if depth.dim() != 3:
        raise ValueError(f'depth must be [N, h, w], got {tuple(depth.shape)}')
    depth = torch.nan_to_num(depth.float(), nan=0., posinf=0., neginf=0.)
    valid = (depth > 0).float()
    depth = depth * valid
    size = tuple(int(s) for s in size)
    depth_sum = F.adaptive_avg_pool2d(depth[:, None], size)[:, 0]
    valid_sum = F.adaptive_avg_pool2d(valid[:, None], size)[:, 0]
    pooled = depth_sum / valid_sum.clamp(min=1e-12)
    return torch.where(valid_sum > 0, pooled, torch.zeros_like(pooled))


def _flatten_grid(depth: Tensor) -> Tensor:
    if depth.dim() == 3:
        return depth.flatten(1)
    if depth.dim() == 2:
        return depth
    raise ValueError('pooled depth must be [N, H, W] or [N, H*W], got '
                     f'{tuple(depth.shape)}')


def normalize_depth(depth: Tensor) -> Tensor:
    """Per-image min-max normalisation over the valid entries.

    For relative or inverse depth from a monocular network, whose scale and
    shift are unknown. Invalid entries stay 0 -- callers must track validity
    separately (see :func:`depth_pair_difference`). An image whose valid
    entries are all equal maps them to 0.

    Args:
        depth (Tensor): [N, ...] depth, 0 = invalid.

    Returns:
        Tensor: float32 of the same shape, valid entries in [0, 1].
    """
    flat = depth.float().flatten(1)
    valid = flat > 0
    inf = torch.full_like(flat, math.inf)
    low = torch.where(valid, flat, inf).amin(dim=1, keepdim=True)
    high = torch.where(valid, flat, -inf).amax(dim=1, keepdim=True)
    span = (high - low).clamp(min=1e-12)
    normed = torch.where(valid, (flat - low) / span, torch.zeros_like(flat))
    return normed.view_as(depth)


def depth_pair_difference(depth_q: Tensor,
                          depth_k: Tensor,
                          mode: str = 'relative') -> Tuple[Tensor, Tensor]:
    """Depth difference of every (query bin, key bin) pair and its validity.

    Computed once per feature level; each scale then thresholds it.

    Args:
        depth_q (Tensor): Pooled query depth [N, H, W] or [N, H*W].
        depth_k (Tensor): Pooled key depth, same shape.
        mode (str): ``'relative'``: |zi - zj| / max(zi, zj);
            ``'absolute'``: |zi - zj| (depth units);
            ``'normalized'``: |zi - zj| after per-image min-max
            normalisation of each view.

    Returns:
        tuple[Tensor, Tensor]: ``diff`` float32 [N, HW, HW] (0 where
        invalid) and ``valid`` bool [N, HW, HW] (both depths > 0).
    """
    if mode not in DEPTH_MODES:
        raise ValueError(f'mode must be one of {DEPTH_MODES}, got {mode!r}')
    zq = _flatten_grid(depth_q).float()
    zk = _flatten_grid(depth_k).float()
    if zq.shape != zk.shape:
        raise ValueError('depth_q and depth_k must be on the same grid, got '
                         f'{tuple(depth_q.shape)} and {tuple(depth_k.shape)}')
    valid = (zq > 0)[:, :, None] & (zk > 0)[:, None, :]
    if mode == 'normalized':
        zq, zk = normalize_depth(zq), normalize_depth(zk)
    diff = (zq[:, :, None] - zk[:, None, :]).abs()
    if mode == 'relative':
        largest = torch.maximum(zq[:, :, None], zk[:, None, :])
        diff = diff / largest.clamp(min=1e-12)
    diff = torch.where(valid, diff, torch.zeros_like(diff))
    return diff, valid


def threshold_pair_statistic(stat: Tensor, valid: Tensor, thresh: float,
                             invalid: str = 'pass') -> Tensor:
    """Keep pairs whose statistic is below ``thresh``.

    Args:
        stat (Tensor): Pair statistic [N, HW, HW] (smaller = more alike).
        valid (Tensor): bool [N, HW, HW], pairs where the statistic exists.
        thresh (float): Threshold; ``inf`` keeps every pair (filter off).
        invalid (str): ``'pass'``: an invalid pair is kept (falls back on
            the other tests); ``'reject'``: it is dropped.

    Returns:
        Tensor: bool [N, HW, HW].
    """
    if invalid not in INVALID_POLICIES:
        raise ValueError(
            f'invalid must be one of {INVALID_POLICIES}, got {invalid!r}')
    if math.isinf(thresh) and thresh > 0:
        return torch.ones_like(valid)
    keep = stat < thresh
    return keep | ~valid if invalid == 'pass' else keep & valid


def depth_positive_mask(depth_q: Tensor,
                        depth_k: Tensor,
                        thresh: float,
                        mode: str = 'relative',
                        invalid: str = 'pass') -> Tensor:
    """Depth test on every (query bin, key bin) pair.

    Args:
        depth_q (Tensor): Pooled query depth [N, H, W] or [N, H*W], 0 =
            invalid.
        depth_k (Tensor): Pooled key depth, same shape.
        thresh (float): tau; ``inf`` makes every pair pass (PixPro).
        mode (str): ``'relative'``, ``'absolute'`` or ``'normalized'``, see
            :func:`depth_pair_difference`.
        invalid (str): ``'pass'`` or ``'reject'`` for pairs with an invalid
            depth.

    Returns:
        Tensor: bool [N, H*W, H*W].
    """
    diff, valid = depth_pair_difference(depth_q, depth_k, mode)
    return threshold_pair_statistic(diff, valid, thresh, invalid)
