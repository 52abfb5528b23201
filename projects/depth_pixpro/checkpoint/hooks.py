"""``SafeCheckpointHook``: run checkpoints that load weights-only.

``tools/train.py`` and ``tools/test.py`` add it to every run
(:func:`ensure_safe_checkpoint_hook`); configs need not list it.
"""
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.registry import HOOKS

__all__ = [
    'SafeCheckpointHook', 'encode_message_hub', 'decode_message_hub',
    'ensure_safe_checkpoint_hook'
]

_TAG = '__history_buffer__'


def _to_plain(value: Any) -> Any:
    """Numpy scalars/arrays -> python numbers/tensors, recursively."""
    if isinstance(value, dict):
        return type(value)((k, _to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_to_plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, np.generic):
        return value.item()
    return value


def encode_message_hub(state: dict) -> dict:
    """Replace ``HistoryBuffer`` objects (which pickle bound methods through
    ``getattr``) by tagged dicts of tensors."""
    scalars = {}
    for key, buf in state['log_scalars'].items():
        log, count = buf.data
        scalars[key] = {
            _TAG: True,
            'max_length': int(buf.max_length),
            'log_history': torch.from_numpy(np.asarray(log, np.float64)),
            'count_history': torch.from_numpy(np.asarray(count, np.float64)),
        }
    return dict(
        state,
        log_scalars=scalars,
        runtime_info=_to_plain(state['runtime_info']))


def decode_message_hub(state: dict) -> dict:
    """Inverse of :func:`encode_message_hub`; leaves old-style states as is."""
    scalars = {}
    for key, value in state['log_scalars'].items():
        if isinstance(value, dict) and value.get(_TAG):
            value = HistoryBuffer(value['log_history'].tolist(),
                                  value['count_history'].tolist(),
                                  value['max_length'])
        scalars[key] = value
    return dict(state, log_scalars=scalars)


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Save checkpoints that need no unpickling of Python objects.

    mmengine stores its ``MessageHub`` as ``HistoryBuffer`` objects and numpy
    arrays, which ``torch.load(weights_only=True)`` (the default since torch
    2.6) refuses. This hook converts them to tensors on save and back on load,
    so that resuming, testing and fine-tuning from this project's checkpoints
    never needs ``weights_only=False``.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = encode_message_hub(
                checkpoint['message_hub'])
        if 'meta' in checkpoint:
            checkpoint['meta'] = _to_plain(checkpoint['meta'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = decode_message_hub(
                checkpoint['message_hub'])


def ensure_safe_checkpoint_hook(cfg) -> None:
    """Add :class:`SafeCheckpointHook` to ``cfg.custom_hooks`` once.

    Args:
        cfg (mmengine.Config): The run's config, changed in place.
    """
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(h.get('type') == 'SafeCheckpointHook' for h in hooks):
        hooks.append(dict(type='SafeCheckpointHook'))
    cfg.custom_hooks = hooks
