"""necks"""
from .pixel_projector import PixelProjector

__all__ = ['PixelProjector']
