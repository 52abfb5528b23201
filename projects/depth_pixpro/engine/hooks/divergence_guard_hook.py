"""Stop a run whose loss or weights stop being numbers, before it saves."""
import math
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import HOOKS

from ...checkpoint.values import largest_weight

__all__ = ['DivergenceGuardHook', 'TrainingDivergedError',
           'ensure_divergence_guard']

ADVICE = ('Lower the learning rate (optim_wrapper.optimizer.lr), add '
          'gradient clipping (optim_wrapper.clip_grad=dict(max_norm=...)) '
          'or check the data; resume from the last checkpoint, which was '
          'saved before this happened.')


class TrainingDivergedError(RuntimeError):
    """The loss or the weights of a run are no longer finite numbers."""


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Stop training on a non-finite loss or exploding weights, before a
    checkpoint is written.

    Without it a diverged run (lr 1e30: ``loss: nan`` from iteration 2) ends
    with exit code 0 and saves NaN checkpoints; with exploding weights (lr
    1e6: conv norms ~1e11, BN running variances ~1e28) the logged loss may
    even look normal.

    * Loss: every iteration, the ``loss`` that mmengine's ``RuntimeInfoHook``
      (priority VERY_HIGH, before this hook) has already turned into a
      Python float for the message hub. This costs no device-to-host
      synchronisation of its own; a check of the loss tensor here would
      add one per iteration on GPU. Under ``AmpOptimWrapper`` the dynamic
      loss scaler skips the step of a non-finite loss, so only
      ``amp_patience`` consecutive ones stop the run; otherwise the first
      one does (its step already wrote NaN into the weights).
    * Weights: the largest absolute value of every floating-point weight and
      buffer (BN statistics too) against ``max_abs_weight``, every
      ``interval`` iterations (one multi-tensor norm and one synchronisation
      per check) and in every checkpoint about to be written (its CPU copy:
      no synchronisation).

    Priority ABOVE_NORMAL: after ``RuntimeInfoHook`` and before
    ``CheckpointHook`` (VERY_LOW) in ``after_train_iter``, so the iteration
    that diverged saves nothing. ``tools/train.py`` adds it to every run
    (:func:`ensure_divergence_guard`).

    Args:
        interval (int): Iterations between weight checks. Defaults to 50.
        max_abs_weight (float): Largest plausible absolute value of a
            weight or buffer. Defaults to 1e8.
        amp_patience (int): Consecutive non-finite losses accepted under
            ``AmpOptimWrapper``. Defaults to 10.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 interval: int = 50,
                 max_abs_weight: float = 1e8,
                 amp_patience: int = 10) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if not max_abs_weight > 0:
            raise ValueError(
                f'max_abs_weight must be > 0, got {max_abs_weight}')
        self.interval = int(interval)
        self.max_abs_weight = float(max_abs_weight)
        self.amp_patience = int(amp_patience)
        self.nonfinite = 0  # consecutive non-finite losses

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        hub = runner.message_hub
        if 'train/loss' in hub.log_scalars:
            loss = hub.get_scalar('train/loss').current()
            self.nonfinite = 0 if math.isfinite(loss) else self.nonfinite + 1
            patience = self.amp_patience if isinstance(
                runner.optim_wrapper, AmpOptimWrapper) else 0
            if self.nonfinite > patience:
                parts = ', '.join(
                    f'{key[len("train/"):]} {hub.get_scalar(key).current()}'
                    for key in hub.log_scalars
                    if key.startswith('train/loss'))
                raise TrainingDivergedError(
                    f'iteration {runner.iter + 1}: the loss is not a finite '
                    f'number ({parts}); the run stops without saving a '
                    f'checkpoint of it. {ADVICE}')
        if self.every_n_train_iters(runner, self.interval):
            model = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            self._check_weights(model.state_dict(),
                                f'iteration {runner.iter + 1}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self._check_weights(
            checkpoint.get('state_dict', {}),
            f'checkpoint of iteration {checkpoint.get("meta", {}).get("iter")}'
        )

    def _check_weights(self, state: Dict[str, torch.Tensor],
                       when: str) -> None:
        name, value = largest_weight(state)
        if math.isfinite(value) and value <= self.max_abs_weight:
            return
        what = 'is not a finite number' if not math.isfinite(value) else (
            f'has |value| {value:.3g} > max_abs_weight '
            f'{self.max_abs_weight:g} (DivergenceGuardHook)')
        raise TrainingDivergedError(
            f'{when}: the weights exploded: {name} {what}; the run stops '
            f'without saving them. {ADVICE}')


def ensure_divergence_guard(cfg) -> None:
    """Add :class:`DivergenceGuardHook` to ``cfg.custom_hooks`` unless the
    config has one (then its arguments are kept)."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(isinstance(h, DivergenceGuardHook) or isinstance(h, dict) and
               h.get('type') in ('DivergenceGuardHook', DivergenceGuardHook)
               for h in hooks):
        hooks.append(dict(type='DivergenceGuardHook'))
    cfg.custom_hooks = hooks
