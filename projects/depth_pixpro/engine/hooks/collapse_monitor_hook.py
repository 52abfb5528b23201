"""Warn once when the pixel projections collapse to a constant."""
import logging
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

COLLAPSE_ADVICE = (
    'The projector is collapsing to a constant output: the loss still '
    'falls (towards its minimum) but the features stop carrying '
    'information. Likely causes: few pixels and images per batch (small '
    'batch, small feature grids), a learning rate too high for the batch, '
    'or a target that follows the online net too closely. Fix: '
    'batch-normalise the projector output '
    '(model.neck.with_last_bn=True, as the CPU configs do), lower the lr or '
    'raise the batch (docs/results.md, "Projector collapse").')


@HOOKS.register_module()
class CollapseMonitorHook(Hook):
    """Log one warning when ``feat_std`` stays low for a window of
    iterations.

    ``feat_std`` and ``feat_cos`` are computed by the model on the batch's
    projections (:func:`projection_spread`) and logged with the losses every
    logging interval; this hook only watches the per-iteration value of
    ``key`` in the train step's outputs and warns the first time it has been
    below ``threshold`` for ``window`` consecutive iterations. A model that
    logs no ``key`` is ignored.

    Args:
        threshold (float): ``feat_std`` under which an iteration counts as
            collapsed (1 = isotropic, 0 = constant). Defaults to 0.1.
        window (int): Consecutive collapsed iterations before the warning.
            Defaults to 20.
        key (str): The watched statistic. Defaults to ``'feat_std'``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 threshold: float = 0.1,
                 window: int = 20,
                 key: str = 'feat_std') -> None:
        if window < 1:
            raise ValueError(f'window must be >= 1, got {window}')
        self.threshold = float(threshold)
        self.window = int(window)
        self.key = key
        self.below = 0  # consecutive iterations under the threshold
        self.warned = False

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if self.warned or not outputs or self.key not in outputs:
            return
        value = float(outputs[self.key])
        self.below = self.below + 1 if value < self.threshold else 0
        if self.below < self.window:
            return
        self.warned = True
        cos = outputs.get('feat_cos')
        cos = '' if cos is None else f', feat_cos {float(cos):.3f}'
        print_log(
            f'{self.key} has stayed below {self.threshold:g} for '
            f'{self.window} iterations (iteration {runner.iter + 1}: '
            f'{value:.3f}{cos}; 1 = isotropic, 0 = constant). '
            f'{COLLAPSE_ADVICE}',
            logger='current',
            level=logging.WARNING)
