"""Optimizer-wrapper constructors."""
from .exclude_1d_params_constructor import \
    Exclude1DParamsOptimWrapperConstructor

__all__ = ['Exclude1DParamsOptimWrapperConstructor']
