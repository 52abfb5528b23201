"""A quiet, informative start-up: one line for the frozen target parameters
instead of one warning each, and one summary line of the run."""
import logging
from typing import List, Optional, Sequence, Tuple

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
                depth_counts: Optional[Tuple[int, int]] = None,
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
        depth_counts (tuple[int, int], optional): Images without valid
            depth, and images, of the first batch.
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
    if filters and depth_counts is not None:
        missing, seen = depth_counts
        parts.append(f'valid depth in {seen - missing} of {seen} images '
                     '(first batch; without it an image trains as PixPro)')
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


def depth_presence(data_batch) -> List[Tuple[bool, str]]:
    """``(has valid depth, image path)`` of each sample of a collated batch
    that says (``has_depth``, set by ``RGBDMultiView``: False for an image
    without a depth map or whose depth has no valid pixel, i.e. all zero,
    NaN, inf or negative). Metadata only: nothing leaves the device."""
    samples = data_batch.get('data_samples') if isinstance(
        data_batch, dict) else None
    found = []
    for sample in samples or ():
        has_depth = getattr(sample, 'has_depth', None)
        if has_depth is not None:
            found.append((bool(has_depth),
                          str(getattr(sample, 'img_path', '') or '')))
    return found


@HOOKS.register_module()
class RunSummaryHook(Hook):
    """Replaces the ~60 "skipped since requires_grad=False" warnings of the
    momentum target's parameters by one line, logs :func:`run_summary`
    after the first iteration (when the positive-pair counts are known), and
    counts the training images without valid depth.

    An image without valid depth (no depth map, or one that is all zero,
    NaN, inf or negative) gets no pair filter: it trains as PixPro, which
    the loss and ``removed_by_filters`` do not show. When the model has pair
    filters, the hook says how many such images the first batch holds (in
    the summary line), warns once when their share reaches
    ``no_depth_warn_share`` after at least ``min_images`` images, and logs
    the count of the whole run at its end.

    The filter goes on the current :class:`MMLogger` when the hook is built,
    i.e. with the runner, before :meth:`Runner.train` builds the optimizer;
    it is removed in ``before_run``.

    Args:
        no_depth_warn_share (float): Share of images without valid depth
            that warns. Defaults to 0.25.
        min_images (int): Images counted before the share is judged.
            Defaults to 16.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 no_depth_warn_share: float = 0.25,
                 min_images: int = 16) -> None:
        if not 0 < no_depth_warn_share <= 1:
            raise ValueError('no_depth_warn_share must be in (0, 1], got '
                             f'{no_depth_warn_share!r}')
        self.no_depth_warn_share = float(no_depth_warn_share)
        self.min_images = int(min_images)
        self.warning_filter = FrozenParamWarningFilter()
        self.logger = None
        if MMLogger._instance_dict:  # the runner has built its logger
            self.logger = MMLogger.get_current_instance()
            self.logger.addFilter(self.warning_filter)
        self.summarised = False
        self.images = 0  # training images seen that say whether they have
        self.no_depth = 0  # depth, and those without valid depth
        self.no_depth_examples: List[str] = []
        self.warned_no_depth = False

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
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'head', None)
        # without a pair filter depth is not used: nothing to count
        presence = depth_presence(data_batch) if getattr(
            head, 'filters', None) else []
        self.images += len(presence)
        missing = [path for has_depth, path in presence if not has_depth]
        self.no_depth += len(missing)
        self.no_depth_examples += missing[:3 - len(self.no_depth_examples)]
        if not self.summarised:
            self.summarised = True
            self._summarise(runner, head, outputs or {},
                            (len(missing), len(presence)) if presence
                            else None)
        if presence and not self.warned_no_depth and self.images >= self.min_images and \
                self.no_depth >= self.no_depth_warn_share * self.images:
            self.warned_no_depth = True
            print_log(
                f'{self._no_depth_text()} so far: the pair filters leave '
                'their pairs untested, so they train as PixPro. Check the '
                'depth files (format, depth_scale) or list images without '
                'depth on purpose (RunSummaryHook(no_depth_warn_share=...) '
                'sets when this warns).',
                logger='current', level=logging.WARNING)

    def after_train(self, runner) -> None:
        if self.no_depth:
            share = self.no_depth / max(self.images, 1)
            print_log(
                f'{self._no_depth_text()} in this run: they trained as '
                'PixPro (no pair filter applied)', logger='current',
                level=logging.WARNING
                if share >= self.no_depth_warn_share else logging.INFO)

    def _no_depth_text(self) -> str:
        examples = ', '.join(p for p in self.no_depth_examples if p)
        return (f'{self.no_depth} of {self.images} training images '
                f'({100 * self.no_depth / max(self.images, 1):.0f}%) had no '
                'valid depth (no depth map, or all zero, NaN, inf or '
                'negative)' + (f', e.g. {examples}' if examples else ''))

    def _summarise(self, runner, head, outputs: dict,
                   depth_counts: Optional[Tuple[int, int]]) -> None:
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
                depth_counts=depth_counts,
                threads=describe_threads(loader.num_workers)),
            logger='current')


def _as_float(value) -> Optional[float]:
    return None if value is None else float(value)
