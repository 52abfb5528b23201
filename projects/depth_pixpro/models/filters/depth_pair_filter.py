"""The paper's filter: positives must lie at a similar depth."""
from typing import Optional, Sequence, Tuple

from torch import Tensor

from mmpretrain.registry import MODELS
from ..utils import DEPTH_MODES, depth_pair_difference, pool_depth
from .base_pair_filter import BasePairFilter


@MODELS.register_module()
class DepthPairFilter(BasePairFilter):
    """Drop pairs whose pooled depths differ by ``thresh`` or more.

    The default threshold (0.1 relative: 10 % of the larger depth) is ours;
    the paper does not publish its value. Per scale, ``depth_thresh`` in the
    scale dict overrides it.

    Args:
        thresh (float): tau. Defaults to 0.1.
        mode (str): ``'relative'`` (metric depth, default), ``'absolute'``
            (tau in depth units) or ``'normalized'`` (per-image min-max, for
            relative/inverse depth from a monocular network).
        invalid (str): ``'pass'`` (default) or ``'reject'``.
    """

    scale_key = 'depth_thresh'

    def __init__(self,
                 thresh: float = 0.1,
                 mode: str = 'relative',
                 invalid: str = 'pass',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(thresh=thresh, invalid=invalid, init_cfg=init_cfg)
        if mode not in DEPTH_MODES:
            raise ValueError(
                f'mode must be one of {DEPTH_MODES}, got {mode!r}')
        self.mode = mode

    def on_grid(self, view: Tensor, size: Sequence[int]) -> Tensor:
        """Pooled depth [N, H, W] of one view's depth [N, h, w]."""
        return pool_depth(view, size)

    def pair_statistic(self, grid_q: Tensor,
                       grid_k: Tensor) -> Tuple[Tensor, Tensor]:
        """Depth difference and validity of every pair."""
        return depth_pair_difference(grid_q, grid_k, self.mode)
