"""Beyond the paper: positives must have similar surface orientation."""
import math
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmpretrain.registry import MODELS
from ...depth_kinds import SCALED_KINDS
from ..utils import (DepthMeta, depth_to_normals, normal_pair_difference,
                     pool_normals)
from ..utils.validation import check_number, check_positive
from .base_pair_filter import BasePairFilter


@MODELS.register_module()
class NormalPairFilter(BasePairFilter):
    """Drop pairs whose surface normals differ by ``max_angle_deg`` or more.

    Normals come from each view's depth at depth resolution, then a
    valid-aware mean over each feature bin, renormalised.

    Approximation: datasets give no intrinsics to the head, so the original
    image is treated as a pinhole camera with the principal point at its
    centre, square pixels, horizontal field of view ``fov_deg`` (default 60,
    close to NYUv2/ScanNet's ~58-63) and width/height ``aspect`` (4/3). Each
    view pixel is mapped back to the original image through its crop box, so
    normals of both views are in the original camera frame (crop and flip
    undone; a flipped view's x axis is un-flipped by its swapped coord). A
    wrong FOV bends normals smoothly and affects both views alike. Pixels at
    depth steps above ``max_rel_jump`` get no normal.

    Args:
        max_angle_deg (float): Largest angle between positives. Defaults to
            30 (ours). Per scale, ``normal_max_angle`` overrides it.
        fov_deg (float): Assumed horizontal FOV of the original images.
        aspect (float): Assumed width/height of the original images.
        max_rel_jump (float): Relative depth step treated as an edge.
        invalid (str): ``'pass'`` (default) or ``'reject'``.
    """

    scale_key = 'normal_max_angle'
    thresh_arg = 'max_angle_deg'
    # an unknown shift (affine depth) bends every surface
    depth_kinds = SCALED_KINDS
    kinds_reason = 'normals need depth known up to a scale:'

    def __init__(self,
                 max_angle_deg: float = 30.,
                 fov_deg: float = 60.,
                 aspect: float = 4. / 3.,
                 max_rel_jump: float = 0.1,
                 invalid: str = 'pass',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            thresh=max_angle_deg, invalid=invalid, init_cfg=init_cfg)
        self.fov_deg = check_number(fov_deg, 'fov_deg', low=0., high=180.,
                                    low_inclusive=False,
                                    high_inclusive=False)
        self.aspect = check_positive(aspect, 'aspect')
        self.max_rel_jump = check_positive(max_rel_jump, 'max_rel_jump',
                                           allow_inf=True)

    def check_thresh(self, value, key: str) -> float:
        """An angle in (0, 180] degrees, or ``inf`` (filter off): an
        angle of 0 or less would reject every pair."""
        return check_number(value, key, low=0., high=180.,
                            low_inclusive=False, allow_inf=True)

    def statistic_thresh(self, thresh: float) -> float:
        """Angle in degrees -> threshold on ``1 - cos``."""
        if self.is_disabled(thresh):
            return thresh
        return 1. - math.cos(math.radians(thresh))

    def per_view(self, depth: Tensor, coord: Tensor,
                 meta: Optional[DepthMeta] = None) -> Tuple[Tensor, Tensor]:
        """Per-pixel normals [N, 3, h, w] and validity [N, h, w].

        Inverse depth is inverted first (depth up to a scale: the normals
        do not depend on the scale)."""
        if meta is not None and 'inverse' in meta.kinds:
            inverse = torch.tensor([k == 'inverse' for k in meta.kinds],
                                   device=depth.device)[:, None, None]
            depth = torch.where(inverse & (depth > 0),
                                1. / depth.float().clamp(min=1e-12), depth)
        return depth_to_normals(depth, coord, self.fov_deg, self.aspect,
                                self.max_rel_jump)

    def on_grid(self, view: Tuple[Tensor, Tensor],
                size: Sequence[int]) -> Tuple[Tensor, Tensor]:
        """Pooled normals [N, HW, 3] and their validity [N, HW]."""
        return pool_normals(*view, size)

    def pair_statistic(self, grid_q: Tuple[Tensor, Tensor],
                       grid_k: Tuple[Tensor, Tensor]
                       ) -> Tuple[Tensor, Tensor]:
        """``1 - cos`` between normals and validity of every pair."""
        return normal_pair_difference(*grid_q, *grid_k)
