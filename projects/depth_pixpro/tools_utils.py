"""Old import path of the helpers of ``tools/train.py`` / ``tools/test.py``.

Launch and runner building live in :mod:`projects.depth_pixpro.device`, the
checkpoint hook in :mod:`projects.depth_pixpro.checkpoint`.
"""
from .checkpoint import ensure_checkpoint_hooks as add_safe_checkpoint_hook
from .device import build_runner, setup_launch

__all__ = ['setup_launch', 'add_safe_checkpoint_hook', 'build_runner']
