"""A quiet, informative start-up: one line for the frozen target parameters
instead of one warning each, and one summary line of the run."""
import logging
from typing import Optional, Sequence

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import MMLogger, print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...utils.threads import describe_threads

#: What mmengine's optimizer constructor logs once per frozen parameter.
FROZEN_PARAM_MESSAGE = 'is skipped since its requires_grad=False'


class FrozenParamWarningFilter(logging.Filter):
    """Drops (and counts) the optimizer constructor's per-parameter
    "skipped since its requires_grad=False" warnings."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if FROZEN_PARAM_MESSAGE in record.getMessage():
            self.count += 1
            return False
        return True


def describe_filter(pair_filter) -> str:
    """``Name(thresh=..., mode=...)`` of a pair filter module."""
    args = [f'{name}={getattr(pair_filter, name)!r}'
            for name in ('thresh', 'mode', 'pool')
            if hasattr(pair_filter, name)]
    return f'{type(pair_filter).__name__}({", ".join(args)})'


def run_summary(num_images: int, max_iters: int, batch_size: int,
                world_size: int, pos_spatial: Optional[float] = None,
                pos_final: Optional[float] = None,
                filters: Sequence[str] = (),
                scales: Sequence[dict] = (),
                threads: Optional[str] = None) -> str:
    """One line that says what a pretraining run does.

    Args:
        num_images (int): Images of the training set.
        max_iters (int): Training iterations.
        batch_size (int): Images per process and iteration.
        world_size (int): Processes.
        pos_spatial (float, optional): Positive pairs per image of the
            spatial test alone (first scale, one batch).
        pos_final (float, optional): The same after the filters.
        filters (Sequence[str]): Descriptions of the pair filters.
        scales (Sequence[dict]): The head's scales (``spatial_thresh``,
            ``level``, ``weight``).
        threads (str, optional): The threads of the run
            (:func:`~projects.depth_pixpro.utils.threads.describe_threads`).

    Returns:
        str: The summary.
    """
    batch = batch_size * world_size
    epochs = max_iters * batch / max(num_images, 1)
    parts = [f'run: {num_images} images, {max_iters} iterations of '
             f'{batch_size} images x {world_size} process'
             f'{"es" if world_size > 1 else ""} ({epochs:.2f} epochs)']
    if pos_spatial is not None and pos_final is not None:
        parts.append(f'positive pairs per image {pos_spatial:.1f} spatial, '
                     f'{pos_final:.1f} after filters (first batch, first '
                     'scale)')
    parts.append('filters: ' + (', '.join(filters) or 'none (PixPro)'))
    if scales:
        parts.append('scales: ' + ', '.join(_describe_scale(s)
                                            for s in scales))
    if threads:
        parts.append(threads)
    return '; '.join(parts)


def _describe_scale(scale: dict) -> str:
    """``T=0.7 (level 0, weight 1)`` plus any per-scale filter override."""
    words = [f"level {scale['level']}", f"weight {scale['weight']:.3g}"]
    words += [f'{k}={v:g}' for k, v in scale.items()
              if k not in ('spatial_thresh', 'level', 'weight')]
    return f"T={scale['spatial_thresh']:g} ({', '.join(words)})"


@HOOKS.register_module()
class RunSummaryHook(Hook):
    """Replaces the ~60 "skipped since requires_grad=False" warnings of the
    momentum target's parameters by one line, and logs :func:`run_summary`
    after the first iteration (when the positive-pair counts are known).

    The filter goes on the current :class:`MMLogger` when the hook is built,
    i.e. with the runner, before :meth:`Runner.train` builds the optimizer;
    it is removed in ``before_run``.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.warning_filter = FrozenParamWarningFilter()
        self.logger = None
        if MMLogger._instance_dict:  # the runner has built its logger
            self.logger = MMLogger.get_current_instance()
            self.logger.addFilter(self.warning_filter)
        self.summarised = False

    def _remove_filter(self) -> None:
        if self.logger is not None:
            self.logger.removeFilter(self.warning_filter)
            self.logger = None

    def before_run(self, runner) -> None:
        self._remove_filter()
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        frozen = [(name, p.numel()) for name, p in model.named_parameters()
                  if not p.requires_grad]
        if frozen:
            owners = sorted({name.split('.')[0] for name, _ in frozen})
            why = ' (the momentum target is updated by EMA)' if owners == [
                'target_net'] else ''
            silenced = (f'; {self.warning_filter.count} per-parameter '
                        'warnings silenced' if self.warning_filter.count
                        else '')
            print_log(
                f'{len(frozen)} parameters ({sum(n for _, n in frozen)} '
                f'values, in {", ".join(owners)}) have requires_grad=False: '
                f'not optimised{why}{silenced}',
                logger='current')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if self.summarised:
            return
        self.summarised = True
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'head', None)
        outputs = outputs or {}
        loader = runner.train_dataloader
        print_log(
            run_summary(
                num_images=len(loader.dataset),
                max_iters=runner.max_iters,
                batch_size=loader.batch_size,
                world_size=get_world_size(),
                pos_spatial=_as_float(outputs.get('pos_spatial')),
                pos_final=_as_float(outputs.get('pos_final')),
                filters=[describe_filter(f)
                         for f in getattr(head, 'filters', [])],
                scales=getattr(head, 'scales', []),
                threads=describe_threads(loader.num_workers)),
            logger='current')


def _as_float(value) -> Optional[float]:
    return None if value is None else float(value)
