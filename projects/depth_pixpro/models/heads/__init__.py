"""heads"""
from .multi_scale_pixel_head import MultiScalePixelHead
from .pixel_propagation import PixelPropagation

__all__ = ['MultiScalePixelHead', 'PixelPropagation']
