"""Training hooks."""
from .collapse_monitor_hook import CollapseMonitorHook
from .dense_probe_hook import DenseProbeHook
from .divergence_guard_hook import (DivergenceGuardHook,
                                    TrainingDivergedError,
                                    ensure_divergence_guard)
from .depth_kind_check_hook import DepthKindCheckHook
from .pair_visualization_hook import PairVisualizationHook
from .run_summary_hook import RunSummaryHook
from .seg_overlay_hook import SegOverlayHook

__all__ = [
    'PairVisualizationHook', 'CollapseMonitorHook', 'RunSummaryHook',
    'DenseProbeHook', 'DepthKindCheckHook', 'DivergenceGuardHook',
    'TrainingDivergedError', 'ensure_divergence_guard', 'SegOverlayHook'
]
