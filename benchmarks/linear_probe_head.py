"""Moved: ``LinearProbeHead`` lives in
``projects/depth_pixpro/models/heads/linear_probe_head.py`` and registers
with ``projects.depth_pixpro``; this module keeps configs that still list
``benchmarks.linear_probe_head`` in ``custom_imports`` working."""
from projects.depth_pixpro.models.heads.linear_probe_head import \
    LinearProbeHead  # noqa: F401
