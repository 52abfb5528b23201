"""Evaluation: metrics (mmseg registry, laid out as mmseg's) and counts of
what the method does without training (pair purity).

What is counted here is drawn by :mod:`projects.depth_pixpro.visualization`
and loaded by :mod:`projects.depth_pixpro.datasets` (labelled frames).
"""
from .metrics import (BoundaryIoUMetric, PerClassIoUMetric,  # noqa: F401
                      boundary_band)
from .pair_purity import (FilterSetting, PurityCounts, PurityResult,
                          ScaleSpec, cell_majority_labels, count_view_pair,
                          default_settings, pair_agreement,
                          sample_labelled_views)

__all__ = [
    'BoundaryIoUMetric', 'PerClassIoUMetric', 'boundary_band',
    'FilterSetting', 'PurityCounts', 'PurityResult', 'ScaleSpec',
    'cell_majority_labels', 'count_view_pair', 'default_settings',
    'pair_agreement', 'sample_labelled_views'
]
