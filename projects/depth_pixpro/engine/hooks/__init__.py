"""Training hooks."""
from .collapse_monitor_hook import CollapseMonitorHook
from .dense_probe_hook import DenseProbeHook
from .depth_kind_check_hook import DepthKindCheckHook
from .pair_visualization_hook import PairVisualizationHook
from .run_summary_hook import RunSummaryHook

__all__ = [
    'PairVisualizationHook', 'CollapseMonitorHook',
    'RunSummaryHook', 'DenseProbeHook', 'DepthKindCheckHook'
]
