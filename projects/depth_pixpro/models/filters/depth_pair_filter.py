"""The paper's filter: positives must lie at a similar depth."""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmpretrain.registry import MODELS
from ...depth_kinds import AUTO_MODES, DEPTH_MODES, KIND_MODES
from ..utils import DEPTH_INVALID_POLICIES, DepthMeta, depth_pair_statistic
from ..utils.depth_stats import CELL_STATS, cell_depth
from .base_pair_filter import BasePairFilter


@MODELS.register_module()
class DepthPairFilter(BasePairFilter):
    """Drop pairs whose pooled depths differ by ``thresh`` or more.

    The default threshold (0.1 relative: 10 % of the larger depth) is ours;
    the paper does not publish its value. Per scale, ``depth_thresh`` in the
    scale dict overrides it.

    Which test each depth kind (``depth_kind`` of the sample) gets
    (``KIND_MODES`` in ``depth_kinds.py``): ``metric`` (and stereo
    disparity, converted to metres on load): relative, absolute,
    normalized; ``inverse``: relative (|1/a - 1/b| / max(1/a, 1/b) =
    |a - b| / max(a, b), exactly the metric test) or normalized;
    ``scale_free``: relative or normalized (absolute needs a unit);
    ``affine`` (unknown scale and shift, e.g. MiDaS / Depth Anything):
    normalized only. A sample whose kind does not allow ``mode`` is refused
    with an error naming it and the config line to change; ``mode='auto'``
    picks per sample (relative, or normalized for affine), so mixed kinds
    train in one batch. A sample without depth (``has_depth=False``) is
    never filtered.

    Args:
        thresh (float): tau. Defaults to 0.1.
        mode (str): ``'relative'`` (default), ``'absolute'`` (tau in depth
            units), ``'normalized'`` (min-max over the WHOLE image before
            cropping, from the sample's ``depth_range``: one scene point
            gets one value in every view) or ``'auto'``.
        invalid (str): Pairs with an invalid cell (no depth there):
            ``'pass'`` (default, decided by the other tests), ``'reject'``
            or ``'far'``: invalid depth is infinitely far, e.g. Cityscapes'
            sky and pixels beyond ``max_depth``: far-far pairs pass,
            far-vs-finite pairs fail. ``'far'`` is an option, not used by
            the Cityscapes config: no measurement supports it there yet.
        pool (str): Depth of a cell: ``'mean'`` (valid-aware mean, default),
            ``'median'`` or ``'center'`` (depth at the bin centre), see
            ``models/utils/depth_stats.py``.
    """

    scale_key = 'depth_thresh'
    invalid_policies = DEPTH_INVALID_POLICIES

    def __init__(self,
                 thresh: float = 0.1,
                 mode: str = 'relative',
                 invalid: str = 'pass',
                 init_cfg: Optional[dict] = None,
                 pool: str = 'mean') -> None:
        super().__init__(thresh=thresh, invalid=invalid, init_cfg=init_cfg)
        if mode not in DEPTH_MODES + ('auto', ):
            raise ValueError(f'mode must be one of {DEPTH_MODES} or '
                             f"'auto', got {mode!r}")
        if pool not in CELL_STATS:
            raise ValueError(
                f'pool must be one of {CELL_STATS}, got {pool!r}')
        self.mode = mode
        self.pool = pool

    def check_thresh(self, value, key: str) -> float:
        """tau > 0, or ``inf`` (filter off)."""
        return self.check_difference(value, key)

    def sample_modes(self, meta: DepthMeta) -> List[str]:
        """The test of each sample (``'auto'`` resolved by its kind)."""
        if self.mode != 'auto':
            return [self.mode] * len(meta)
        return [AUTO_MODES[kind] for kind in meta.kinds]

    def check_depth_kinds(self, meta: DepthMeta, config_key: str) -> None:
        """Refuse a sample whose depth kind does not allow ``mode``."""
        if self.mode == 'auto':
            return
        for index, kind in enumerate(meta.kinds):
            allowed = KIND_MODES[kind]
            if self.mode not in allowed and meta.has_depth[index]:
                raise ValueError(
                    f"{config_key}.mode='{self.mode}' cannot test the "
                    f'{kind!r} depth of {meta.sample_name(index)}: {kind} '
                    f'depth allows {allowed}. Set {config_key}.mode to one '
                    "of them, or to 'auto' (relative, or normalized for "
                    'affine depth, per sample).')

    def per_view(self, depth: Tensor, coord: Tensor,
                 meta: Optional[DepthMeta] = None) -> tuple:
        """The view's depth [N, h, w], each sample's test and the images'
        depth ranges [N, 2] (None unless a sample is tested
        ``'normalized'``)."""
        meta = DepthMeta.metric(len(depth)) if meta is None else meta
        modes = self.sample_modes(meta)
        ranges = None
        if 'normalized' in modes:
            normalized = torch.tensor([m == 'normalized' for m in modes])
            unknown = normalized & meta.has_depth.cpu() & \
                ~meta.ranges.cpu().isfinite().all(dim=1)
            if unknown.any():
                raise ValueError(
                    "mode 'normalized' needs the depth_range of "
                    f'{meta.sample_name(int(unknown.nonzero()[0]))} (min, '
                    'max of the whole image before cropping): pack it with '
                    'PackRGBDInputs after RGBDMultiView')
            ranges = meta.ranges.nan_to_num(0.)
        return depth, modes, ranges

    def on_grid(self, view: tuple, size: Sequence[int]) -> tuple:
        """Cell depth [N, H, W] of one view, with its tests and ranges."""
        depth, modes, ranges = view
        return cell_depth(depth, size, self.pool), modes, ranges

    def pair_statistic(self, grid_q: tuple,
                       grid_k: tuple) -> Tuple[Tensor, Tensor]:
        """:func:`depth_pair_statistic`: depth difference and validity of
        every pair (every pair has one under ``invalid='far'``); the
        inherited :meth:`keep` thresholds it, so pair_statistic + keep is
        :func:`depth_positive_mask`."""
        (depth_q, modes, ranges), (depth_k, _, _) = grid_q, grid_k
        return depth_pair_statistic(depth_q, depth_k, modes, self.invalid,
                                    ranges)
