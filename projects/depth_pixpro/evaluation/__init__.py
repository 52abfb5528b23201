"""Evaluation: metrics (mmseg registry, laid out as mmseg's)."""
from .metrics import PerClassIoUMetric  # noqa: F401
