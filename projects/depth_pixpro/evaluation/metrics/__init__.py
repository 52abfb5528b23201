"""Metrics (mmseg ``METRICS``)."""
from .boundary_iou import BoundaryIoUMetric, boundary_band  # noqa: F401
from .per_class_iou import PerClassIoUMetric  # noqa: F401
