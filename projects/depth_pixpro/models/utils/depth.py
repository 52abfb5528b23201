"""Depth on the feature grid and the depth test on pixel pairs.

Depth is in any unit with 0 meaning invalid (no measurement). It never enters
the network: it is pooled to each feature grid and only decides which pixel
pairs may be positives.
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from ...depth_kinds import DEPTH_MODES

#: What a filter does with a pair that has no statistic (missing depth).
INVALID_POLICIES = ('pass', 'reject')
#: The depth test also offers ``'far'``: invalid depth is infinitely far.
DEPTH_INVALID_POLICIES = INVALID_POLICIES + ('far', )


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


def normalize_depth(depth: Tensor,
                    depth_range: Optional[Tensor] = None) -> Tensor:
    """Min-max normalisation of each image's valid depth to [0, 1].

    For depth whose scale and shift are unknown. Normalise with the range of
    the WHOLE image (``depth_range``, measured before cropping), never of a
    crop: two crops of one image must give one scene point one value.
    Invalid entries stay 0 -- callers track validity separately (see
    :func:`depth_pair_difference`).

    Args:
        depth (Tensor): [N, ...] depth, 0 = invalid.
        depth_range (Tensor, optional): [N, 2] (min, max) of each image's
            valid depth. None: the range of ``depth`` itself (right only
            when ``depth`` is the whole image). An image whose range is
            empty (max <= min) maps its valid entries to 0.

    Returns:
        Tensor: float32 of the same shape.
    """
    flat = depth.float().flatten(1)
    valid = flat > 0
    if depth_range is None:
        inf = torch.full_like(flat, math.inf)
        low = torch.where(valid, flat, inf).amin(dim=1, keepdim=True)
        high = torch.where(valid, flat, -inf).amax(dim=1, keepdim=True)
    else:
        depth_range = torch.as_tensor(depth_range).float().to(flat.device)
        if depth_range.shape != (flat.size(0), 2):
            raise ValueError('depth_range must be [N, 2] with N = '
                             f'{flat.size(0)}, got '
                             f'{tuple(depth_range.shape)}')
        if not torch.isfinite(depth_range).all():
            raise ValueError('depth_range must be finite (the min and max of '
                             'each whole image\'s valid depth)')
        low, high = depth_range[:, :1], depth_range[:, 1:]
    span = (high - low).clamp(min=1e-12)
    normed = torch.where(valid, (flat - low) / span, torch.zeros_like(flat))
    return normed.view_as(depth)


def _per_sample_modes(mode: Union[str, Sequence[str]], num: int) -> List[str]:
    modes = [mode] * num if isinstance(mode, str) else list(mode)
    if len(modes) != num:
        raise ValueError(f'mode must be a str or one per image ({num}), got '
                         f'{len(modes)}')
    for m in modes:
        if m not in DEPTH_MODES:
            raise ValueError(f'mode must be one of {DEPTH_MODES}, got {m!r}')
    return modes


def depth_pair_difference(depth_q: Tensor,
                          depth_k: Tensor,
                          mode: Union[str, Sequence[str]] = 'relative',
                          depth_range: Optional[Tensor] = None
                          ) -> Tuple[Tensor, Tensor]:
    """Depth difference of every (query bin, key bin) pair and its validity.

    Computed once per feature level; each scale then thresholds it.

    Args:
        depth_q (Tensor): Pooled query depth [N, H, W] or [N, H*W].
        depth_k (Tensor): Pooled key depth, same shape.
        mode (str | Sequence[str]): One for all images or one per image:
            ``'relative'``: |zi - zj| / max(zi, zj);
            ``'absolute'``: |zi - zj| (depth units);
            ``'normalized'``: |zi - zj| after min-max normalisation with
            the image's range (``depth_range``, required).
        depth_range (Tensor, optional): [N, 2] (min, max) of each WHOLE
            image's valid depth, before cropping; rows of images not tested
            ``'normalized'`` are not read.

    Returns:
        tuple[Tensor, Tensor]: ``diff`` float32 [N, HW, HW] (0 where
        invalid) and ``valid`` bool [N, HW, HW] (both depths > 0).
    """
    zq = _flatten_grid(depth_q).float()
    zk = _flatten_grid(depth_k).float()
    if zq.shape != zk.shape:
        raise ValueError('depth_q and depth_k must be on the same grid, got '
                         f'{tuple(depth_q.shape)} and {tuple(depth_k.shape)}')
    modes = _per_sample_modes(mode, zq.size(0))
    valid = (zq > 0)[:, :, None] & (zk > 0)[:, None, :]
    diff = None
    present = [m for m in DEPTH_MODES if m in modes]
    for name in present:
        # the images tested this way (None: all of them)
        rows = None if len(present) == 1 else torch.tensor(
            [m == name for m in modes], device=zq.device)
        a, b = zq, zk
        if name == 'normalized':
            if depth_range is None:
                raise ValueError(
                    "mode='normalized' needs depth_range: the (min, max) of "
                    'each whole image before cropping (normalising a crop '
                    'by its own range gives one scene point different '
                    'values in two views)')
            depth_range = torch.as_tensor(depth_range).float().to(zq.device)
            if rows is not None:  # other rows may have no range
                depth_range = torch.where(rows[:, None], depth_range,
                                          torch.zeros_like(depth_range))
            a = normalize_depth(zq, depth_range)
            b = normalize_depth(zk, depth_range)
        out = (a[:, :, None] - b[:, None, :]).abs()
        if name == 'relative':
            largest = torch.maximum(a[:, :, None], b[:, None, :])
            out = out / largest.clamp(min=1e-12)
        diff = out if diff is None else torch.where(rows[:, None, None],
                                                    out, diff)
    diff = torch.where(valid, diff, torch.zeros_like(diff))
    return diff, valid


def invalid_as_far(diff: Tensor, depth_q: Tensor,
                   depth_k: Tensor) -> Tuple[Tensor, Tensor]:
    """Treat invalid depth as infinitely far (e.g. sky, beyond max depth).

    A pair of two far cells is alike (difference 0); a far cell and a cell
    with a finite depth differ infinitely (the pair fails every finite
    threshold). Afterwards every pair has a statistic.

    Args:
        diff (Tensor): [N, HW, HW] difference of the valid pairs.
        depth_q (Tensor): Pooled query depth [N, H, W] or [N, H*W].
        depth_k (Tensor): Pooled key depth, same shape.

    Returns:
        tuple[Tensor, Tensor]: ``diff`` float32 [N, HW, HW] and ``valid``
        (all True).
    """
    far_q = ~(_flatten_grid(depth_q) > 0)[:, :, None]
    far_k = ~(_flatten_grid(depth_k) > 0)[:, None, :]
    diff = torch.where(far_q ^ far_k, torch.full_like(diff, math.inf), diff)
    diff = torch.where(far_q & far_k, torch.zeros_like(diff), diff)
    return diff, torch.ones_like(diff, dtype=torch.bool)


def threshold_pair_statistic(stat: Tensor, valid: Tensor, thresh: float,
                             invalid: str = 'pass') -> Tensor:
    """Keep pairs whose statistic is below ``thresh``.

    The last step of every pair filter (``BasePairFilter.keep``) and of
    :func:`depth_positive_mask`.

    Args:
        stat (Tensor): Pair statistic [N, HW, HW] (smaller = more alike).
        valid (Tensor): bool [N, HW, HW], pairs where the statistic exists.
        thresh (float): Threshold; ``inf`` keeps every pair (filter off).
        invalid (str): ``'pass'``: an invalid pair is kept (falls back on
            the other tests); ``'reject'``: it is dropped; ``'far'`` (the
            depth test's, see :func:`depth_pair_statistic`): every pair has
            a statistic, an invalid one would be dropped.

    Returns:
        Tensor: bool [N, HW, HW].
    """
    if invalid not in DEPTH_INVALID_POLICIES:
        raise ValueError(
            f'invalid must be one of {DEPTH_INVALID_POLICIES}, got '
            f'{invalid!r}')
    if math.isinf(thresh) and thresh > 0:
        return torch.ones_like(valid)
    keep = stat < thresh
    return keep | ~valid if invalid == 'pass' else keep & valid


def depth_pair_statistic(depth_q: Tensor,
                         depth_k: Tensor,
                         mode: Union[str, Sequence[str]] = 'relative',
                         invalid: str = 'pass',
                         depth_range: Optional[Tensor] = None
                         ) -> Tuple[Tensor, Tensor]:
    """The depth test's statistic of every pair: what ``DepthPairFilter``
    computes once per view order and grid, and :func:`depth_positive_mask`
    thresholds.

    Args:
        depth_q (Tensor): Pooled query depth [N, H, W] or [N, H*W], 0 =
            invalid.
        depth_k (Tensor): Pooled key depth, same shape.
        mode (str | Sequence[str]): See :func:`depth_pair_difference`.
        invalid (str): ``'pass'``, ``'reject'`` or ``'far'`` (invalid =
            infinitely far: every pair gets a statistic, see
            :func:`invalid_as_far`).
        depth_range (Tensor, optional): [N, 2] whole-image depth ranges,
            required by ``'normalized'``.

    Returns:
        tuple[Tensor, Tensor]: ``diff`` float32 [N, HW, HW] and ``valid``
        bool [N, HW, HW].
    """
    if invalid not in DEPTH_INVALID_POLICIES:
        raise ValueError(f'invalid must be one of {DEPTH_INVALID_POLICIES}, '
                         f'got {invalid!r}')
    diff, valid = depth_pair_difference(depth_q, depth_k, mode, depth_range)
    if invalid == 'far':
        diff, valid = invalid_as_far(diff, depth_q, depth_k)
    return diff, valid


def depth_positive_mask(depth_q: Tensor,
                        depth_k: Tensor,
                        thresh: float,
                        mode: Union[str, Sequence[str]] = 'relative',
                        invalid: str = 'pass',
                        depth_range: Optional[Tensor] = None) -> Tensor:
    """Depth test on every (query bin, key bin) pair.

    :func:`threshold_pair_statistic` of :func:`depth_pair_statistic`: the
    two steps ``DepthPairFilter`` trains with (``pair_statistic``, then
    ``keep`` per scale).

    Args:
        depth_q (Tensor): Pooled query depth [N, H, W] or [N, H*W], 0 =
            invalid.
        depth_k (Tensor): Pooled key depth, same shape.
        thresh (float): tau; ``inf`` makes every pair pass (PixPro).
        mode (str | Sequence[str]): ``'relative'``, ``'absolute'`` or
            ``'normalized'`` (or one per image), see
            :func:`depth_pair_difference`.
        invalid (str): Pairs with an invalid depth: ``'pass'`` (kept if the
            other tests pass), ``'reject'`` (dropped) or ``'far'`` (invalid
            = infinitely far, see :func:`invalid_as_far`).
        depth_range (Tensor, optional): [N, 2] whole-image depth ranges,
            required by ``'normalized'``.

    Returns:
        Tensor: bool [N, H*W, H*W].
    """
    diff, valid = depth_pair_statistic(depth_q, depth_k, mode, invalid,
                                       depth_range)
    return threshold_pair_statistic(diff, valid, thresh, invalid)
