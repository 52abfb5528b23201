"""Evaluation: metrics (mmseg registry, laid out as mmseg's) and analyses of
what the method does without training (e.g. pair purity)."""
from .metrics import (BoundaryIoUMetric, PerClassIoUMetric,  # noqa: F401
                      boundary_band)
from .pair_purity import (FilterSetting, PurityCounts, PurityResult,
                          ScaleSpec, cell_majority_labels, count_view_pair,
                          default_settings, markdown_table, pair_agreement,
                          plot_purity_recall, sample_labelled_views)

__all__ = [
    'BoundaryIoUMetric', 'PerClassIoUMetric', 'boundary_band',
    'FilterSetting', 'PurityCounts', 'PurityResult', 'ScaleSpec',
    'cell_majority_labels', 'count_view_pair', 'default_settings',
    'markdown_table', 'pair_agreement', 'plot_purity_recall',
    'sample_labelled_views'
]
