"""Beyond the paper: positives must lie on one surface (no depth edge
between them)."""
from typing import Optional, Sequence, Tuple

from torch import Tensor

from mmpretrain.registry import MODELS
from ..utils.surface import segment_depth_jump
from .base_pair_filter import BasePairFilter


@MODELS.register_module()
class SurfacePairFilter(BasePairFilter):
    """Drop pairs separated by a depth discontinuity in the original image.

    Depth is sampled at ``num_samples`` points on the segment between the
    two bin centres (read through both views' depth maps, see
    ``models/utils/surface.py``); the pair is kept if no two neighbouring
    samples differ by ``thresh`` or more relative to the larger. Unlike the
    relative depth test it keeps pairs far apart on one slanted floor or
    wall and rejects pairs across a small step. Per scale,
    ``surface_thresh`` in the scale dict overrides ``thresh``.

    Args:
        thresh (float): Largest relative jump between neighbouring samples.
            Defaults to 0.1 (ours).
        num_samples (int): Samples per segment, both centres included.
            Defaults to 16.
        invalid (str): ``'pass'`` (default): a pair whose centre has no
            depth falls back on the other tests; ``'reject'``: dropped.
    """

    scale_key = 'surface_thresh'

    def __init__(self,
                 thresh: float = 0.1,
                 num_samples: int = 16,
                 invalid: str = 'pass',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(thresh=thresh, invalid=invalid, init_cfg=init_cfg)
        if num_samples < 2:
            raise ValueError(f'num_samples must be >= 2, got {num_samples}')
        self.num_samples = int(num_samples)

    def check_depth_kinds(self, meta, config_key: str) -> None:
        """A relative jump needs depth up to a scale (metric, inverse: the
        same relative jump, scale_free); refuse ``'affine'`` depth, whose
        unknown shift changes every ratio."""
        for index, kind in enumerate(meta.kinds):
            if kind == 'affine' and meta.has_depth[index]:
                raise ValueError(
                    f'{config_key} (SurfacePairFilter) cannot use the '
                    f'{kind!r} depth of {meta.sample_name(index)}: a '
                    'relative jump needs depth known up to a scale. Remove '
                    f'{config_key} from the config or give depth of another '
                    'kind.')

    def per_view(self, depth: Tensor, coord: Tensor,
                 meta=None) -> Tuple[Tensor, Tensor]:
        """The view's depth [N, h, w] and crop box [N, 4] (``meta``, the
        batch's ``DepthMeta``, is not needed: see
        :meth:`check_depth_kinds`)."""
        return depth, coord

    def on_grid(self, view: Tuple[Tensor, Tensor],
                size: Sequence[int]) -> Tuple[Tensor, Tensor, tuple]:
        """Depth, crop box and the grid (the samples depend on both
        views, so the work happens in :meth:`pair_statistic`)."""
        depth, coord = view
        return depth, coord, tuple(int(s) for s in size)

    def pair_statistic(self, grid_q: Tuple[Tensor, Tensor, tuple],
                       grid_k: Tuple[Tensor, Tensor, tuple]
                       ) -> Tuple[Tensor, Tensor]:
        """Largest relative jump on each pair's segment and its validity."""
        depth_q, coord_q, size = grid_q
        depth_k, coord_k, _ = grid_k
        return segment_depth_jump(depth_q, coord_q, depth_k, coord_k, size,
                                  self.num_samples)
