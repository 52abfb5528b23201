"""necks"""
from .pixel_projector import PixelProjector
from .pooled_pixel_projector import PooledPixelProjector

__all__ = ['PixelProjector', 'PooledPixelProjector']
