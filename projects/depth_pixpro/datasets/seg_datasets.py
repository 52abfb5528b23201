"""Moved: the segmentation datasets are the package
:mod:`projects.depth_pixpro.datasets.segmentation` (one module per family,
label tables in ``label_tables``). This module re-exports them for old
imports."""
from .segmentation import *  # noqa: F401,F403
from .segmentation import __all__  # noqa: F401
from .segmentation.label_tables import \
    compose_label_map as _compose_label_map  # noqa: F401
