"""Optimizer-wrapper constructors and optimizers."""
from .exclude_1d_params_constructor import \
    Exclude1DParamsOptimWrapperConstructor
from .pixpro_lars import PixProLARS

__all__ = ['Exclude1DParamsOptimWrapperConstructor', 'PixProLARS']
