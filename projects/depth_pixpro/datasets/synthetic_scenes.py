"""Moved: the synthetic renderer is the package :mod:`projects.depth_pixpro.
synthetic`. This module re-exports its public names for old imports."""
from ..synthetic import *  # noqa: F401,F403
from ..synthetic import __all__  # noqa: F401
