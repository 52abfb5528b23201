"""Metrics (mmseg ``METRICS``)."""
from .per_class_iou import PerClassIoUMetric  # noqa: F401
