"""The checkpoint hooks of every run.

* ``SafeCheckpointHook``: run checkpoints that load weights-only, and an
  error when a loaded checkpoint does not cover the model.
* ``AtomicCheckpointHook``: mmengine's ``CheckpointHook`` writing local files
  atomically.

``tools/train.py`` and ``tools/test.py`` set both up for every run
(:func:`ensure_checkpoint_hooks`); configs need not list them.
"""
import logging
from typing import Any

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import HistoryBuffer, print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import HOOKS

from ..utils.atomic import remove_stale_temp_files
from .matching import CheckpointMismatchError, compare_state_dicts
from .saving import ATOMIC_BACKEND, AtomicLocalBackend

__all__ = [
    'SafeCheckpointHook', 'AtomicCheckpointHook', 'encode_message_hub',
    'decode_message_hub', 'ensure_checkpoint_hooks'
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
    """Save checkpoints that need no unpickling; refuse incomplete loads.

    mmengine stores its ``MessageHub`` as ``HistoryBuffer`` objects and numpy
    arrays, which ``torch.load(weights_only=True)`` (the default since torch
    2.6) refuses. This hook converts them to tensors on save and back on load,
    so that resuming, testing and fine-tuning from this project's checkpoints
    never needs ``weights_only=False``.

    On load (``load_from``, resuming, ``tools/test.py``) it checks that the
    checkpoint covers every weight of the model with the right shape;
    mmengine's non-strict loading would only log the rest and run on random
    weights. It also drops ``meta['config']``, which mmengine's
    ``Runner.resume`` would execute as Python code.

    Args:
        allow_partial_load (bool): Only warn when the checkpoint misses model
            weights or has other shapes. Defaults to False (an error).
    """

    priority = 'VERY_LOW'

    def __init__(self, allow_partial_load: bool = False):
        self.allow_partial_load = allow_partial_load

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
        meta = checkpoint.get('meta')
        if isinstance(meta, dict) and 'config' in meta:
            meta.pop('config')
            print_log(
                'ignored meta["config"] of the checkpoint: config text from '
                'a file is never executed', logger='current', level=logging.WARNING)
        self._check_coverage(runner, checkpoint)

    def _check_coverage(self, runner, checkpoint: dict) -> None:
        """Raise unless the checkpoint's weights cover the whole model."""
        model = runner.model
        # As mmengine's load_state_dict: wrappers and TTA load their module.
        if is_model_wrapper(model) or isinstance(model, BaseTTAModel):
            model = model.module
        state = checkpoint.get('state_dict', checkpoint)
        match = compare_state_dicts(model.state_dict(), state)
        if match.complete:
            return
        if self.allow_partial_load:
            print_log(
                f'partial checkpoint load (allowed): {match.summary()}',
                logger='current', level=logging.WARNING)
            return
        raise CheckpointMismatchError(
            f'the checkpoint does not fit the model: {match.summary()}. '
            'Refusing to run on weights that were never loaded; pass '
            '--allow-partial-load (tools/train.py, tools/test.py) to accept '
            'a partial load.')


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook``, writing local checkpoints atomically.

    Checkpoints go to a temporary file that is renamed over the final name
    (file backend ``'atomic_local'``), so a kill while saving never leaves a
    half-written file; mmengine writes ``last_checkpoint`` only after the
    save returned, i.e. after the rename, and checkpoints beyond
    ``max_keep_ckpts`` are removed only after that too. Remote ``out_dir``
    and explicit ``backend_args`` are left as configured.

    Args:
        out_dir (str, optional): As ``CheckpointHook``.
        backend_args (dict, optional): As ``CheckpointHook``; defaults to the
            atomic local backend for local folders.
        file_client_args (dict, optional): Deprecated mmengine argument.
        **kwargs: The other ``CheckpointHook`` arguments.
    """

    def __init__(self,
                 *args,
                 out_dir=None,
                 backend_args=None,
                 file_client_args=None,
                 **kwargs):
        local = out_dir is None or '://' not in str(out_dir)
        if backend_args is None and file_client_args is None and local:
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().__init__(
            *args,
            out_dir=out_dir,
            backend_args=backend_args,
            file_client_args=file_client_args,
            **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        # A run killed while saving left its temporary file; this run owns
        # the folder now.
        if is_main_process() and isinstance(self.file_backend,
                                            AtomicLocalBackend):
            for path in remove_stale_temp_files(self.out_dir):
                runner.logger.info(f'removed {path} (an interrupted save)')

    def _save_checkpoint_with_step(self, runner, step, meta):
        """mmengine's save, with outdated checkpoints removed only after the
        new one is complete (mmengine removes them first: with
        ``max_keep_ckpts=1`` a kill while saving would leave none)."""
        outdated = []
        self.file_backend.remove = outdated.append  # defer, for this call
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        finally:
            del self.file_backend.remove  # the backend's own method again
        for path in outdated:
            self.file_backend.remove(path)


def ensure_checkpoint_hooks(cfg, allow_partial_load: bool = False) -> None:
    """Set up the checkpoint hooks of a run (the one place that does it).

    Adds :class:`SafeCheckpointHook` to ``cfg.custom_hooks`` once and makes
    the default checkpoint hook an :class:`AtomicCheckpointHook` (unless the
    config disables checkpointing or uses another hook type).

    Args:
        cfg (mmengine.Config): The run's config, changed in place.
        allow_partial_load (bool): Accept checkpoints that cover only part of
            the model (``SafeCheckpointHook(allow_partial_load=True)``).
    """
    hooks = list(cfg.get('custom_hooks', None) or [])
    safe = [h for h in hooks
            if h.get('type') in ('SafeCheckpointHook', SafeCheckpointHook)]
    if not safe:
        hooks.append(dict(type='SafeCheckpointHook'))
        safe = hooks[-1:]
    if allow_partial_load:
        for hook in safe:
            hook['allow_partial_load'] = True
    cfg.custom_hooks = hooks
    default_hooks = cfg.get('default_hooks', None)
    if default_hooks is None:
        cfg.default_hooks = dict()
        default_hooks = cfg.default_hooks  # the config's own (converted) copy
    if 'checkpoint' not in default_hooks:
        # mmengine's default checkpoint hook, atomic
        default_hooks['checkpoint'] = dict(
            type='AtomicCheckpointHook', interval=1)
    elif default_hooks['checkpoint'] is not None and default_hooks[
            'checkpoint'].get('type') in ('CheckpointHook', CheckpointHook):
        default_hooks['checkpoint']['type'] = 'AtomicCheckpointHook'
