"""Training hooks."""
from .pair_visualization_hook import PairVisualizationHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['SafeCheckpointHook', 'PairVisualizationHook']
