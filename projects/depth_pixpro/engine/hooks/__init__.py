"""Training hooks."""
from .collapse_monitor_hook import CollapseMonitorHook
from .dense_probe_hook import DenseProbeHook
from .depth_kind_check_hook import DepthKindCheckHook
from .pair_visualization_hook import PairVisualizationHook
from .run_summary_hook import RunSummaryHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'SafeCheckpointHook', 'PairVisualizationHook', 'CollapseMonitorHook',
    'RunSummaryHook', 'DenseProbeHook', 'DepthKindCheckHook'
]
