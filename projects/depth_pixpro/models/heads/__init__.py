"""heads"""
from .multi_scale_pixel_head import PIXPRO_SCALES, MultiScalePixelHead
from .pixel_propagation import PixelPropagation
from .positive_pairs import (PairMasks, PairTests, active_filters,
                             positive_pair_masks)

__all__ = [
    'MultiScalePixelHead', 'PixelPropagation', 'PIXPRO_SCALES', 'PairMasks',
    'PairTests', 'active_filters', 'positive_pair_masks'
]
