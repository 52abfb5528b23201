"""heads"""
from .multi_scale_pixel_head import PIXPRO_SCALES, MultiScalePixelHead
from .pixel_propagation import PixelPropagation
from .positive_pairs import (PairMasks, PairTests, PositivePairs,
                             check_depth_kinds, positive_pair_masks)

__all__ = [
    'MultiScalePixelHead', 'PixelPropagation',
    'PIXPRO_SCALES', 'PairMasks', 'PairTests', 'PositivePairs',
    'check_depth_kinds', 'positive_pair_masks'
]
