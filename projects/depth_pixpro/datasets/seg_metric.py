"""Moved: ``PerClassIoUMetric`` lives in
:mod:`projects.depth_pixpro.evaluation.metrics`; re-exported here for old
imports."""
from ..evaluation.metrics import PerClassIoUMetric  # noqa: F401
