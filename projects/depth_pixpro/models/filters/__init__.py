"""Exogenous filters on positive pixel pairs."""
from .base_pair_filter import BasePairFilter
from .depth_pair_filter import DepthPairFilter
from .normal_pair_filter import NormalPairFilter
from .surface_pair_filter import SurfacePairFilter

__all__ = ['BasePairFilter', 'DepthPairFilter', 'NormalPairFilter',
           'SurfacePairFilter']
