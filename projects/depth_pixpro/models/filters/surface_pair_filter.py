"""Beyond the paper: positives must lie on one surface (no depth edge
between them)."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmpretrain.registry import MODELS
from ...depth_kinds import SCALED_KINDS
from ..utils.surface import segment_depth_jump
from .base_pair_filter import BasePairFilter


@MODELS.register_module()
class SurfacePairFilter(BasePairFilter):
    """Drop pairs separated by a depth discontinuity in the original image.

    Depth is sampled at ``num_samples`` points on the segment between the
    two bin centres, on the original image's depth rebuilt from both views'
    depth maps (``models/utils/surface.py``); the pair is kept if no step
    between neighbouring samples departs from the segment's own (planar)
    trend by ``thresh`` or more relative to the larger depth. Unlike the
    relative depth test it keeps pairs far apart on one slanted floor or
    wall, at any segment length, and rejects pairs across a small step.
    Per scale, ``surface_thresh`` in the scale dict overrides ``thresh``.
    Inverse depth (kind ``'inverse'``) is read as such (it is the quantity
    that is affine on a plane).

    Cost: per pair of views one [N, num_samples, HW, HW] int64 index and
    gather (40 MB at batch 128 on a 7x7 grid, 630 MB on a 14x14 one) and
    the steps with their median over the samples (a few more tensors of
    that size).

    Args:
        thresh (float): Largest relative jump between neighbouring samples,
            beyond the segment's trend. Defaults to 0.1 (ours).
        num_samples (int): Samples per segment, both centres included.
            Defaults to 16.
        canvas_size (int): Side of the canvas on which the original
            image's depth over both crops is rebuilt. Defaults to 128.
        invalid (str): ``'pass'`` (default): a pair whose centre has no
            depth falls back on the other tests; ``'reject'``: dropped.
    """

    scale_key = 'surface_thresh'
    # the jump between two centres does not depend on which is the query
    symmetric = True
    # an unknown shift (affine depth) changes every ratio of two depths
    depth_kinds = SCALED_KINDS
    kinds_reason = 'a relative jump needs depth known up to a scale:'

    def __init__(self,
                 thresh: float = 0.1,
                 num_samples: int = 16,
                 canvas_size: int = 128,
                 invalid: str = 'pass',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(thresh=thresh, invalid=invalid, init_cfg=init_cfg)
        if num_samples < 2:
            raise ValueError(f'num_samples must be >= 2, got {num_samples}')
        if canvas_size < 1:
            raise ValueError(f'canvas_size must be >= 1, got {canvas_size}')
        self.num_samples = int(num_samples)
        self.canvas_size = int(canvas_size)

    def check_thresh(self, value, key: str) -> float:
        """tau > 0, or ``inf`` (filter off)."""
        return self.check_difference(value, key)

    def per_view(self,
                 depth: Tensor,
                 coord: Tensor,
                 meta=None) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """The view's depth [N, h, w], crop box [N, 4] and which samples
        hold inverse depth (bool [N], from the batch's ``DepthMeta``; None
        without meta or inverse depth)."""
        inverse = None
        if meta is not None and 'inverse' in meta.kinds:
            inverse = torch.tensor([kind == 'inverse' for kind in meta.kinds])
        return depth, coord, inverse

    def on_grid(self, view: Tuple[Tensor, Tensor, Optional[Tensor]],
                size: Sequence[int]) -> tuple:
        """The view and the grid (the samples depend on both views, so the
        work happens in :meth:`pair_statistic`)."""
        return (*view, tuple(int(s) for s in size))

    def pair_statistic(self, grid_q: tuple,
                       grid_k: tuple) -> Tuple[Tensor, Tensor]:
        """Largest relative jump on each pair's segment beyond its trend,
        and its validity (symmetric: the other view order is this one
        transposed)."""
        depth_q, coord_q, inverse, size = grid_q
        depth_k, coord_k = grid_k[:2]
        return segment_depth_jump(depth_q, coord_q, depth_k, coord_k, size,
                                  self.num_samples, self.canvas_size,
                                  inverse)
