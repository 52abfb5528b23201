"""Log the positive pixel pairs of a training batch as an image."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...models.heads import positive_pair_masks
from ...models.utils import stack_depth
from ...visualization import (draw_pair_figure, pair_counts,
                              select_query_cell, to_display_rgb)


@HOOKS.register_module()
class PairVisualizationHook(Hook):
    """Every ``interval`` iterations, draw the pairs of the current batch.

    For up to ``max_samples`` samples of the batch, a query cell of view 1
    and its positive partners in view 2 under the spatial test alone and
    with each pair filter of the head (the masks the head trained on, from
    :func:`positive_pair_masks` at scale ``scale_index`` on the grid of the
    head's last loss, ``head.grid_sizes``) are drawn and sent to the
    runner's visualizer (``add_image``: ``LocalVisBackend`` writes
    ``<work_dir>/<timestamp>/vis_data/vis_image/pairs_<i>_<iter>.png``;
    TensorBoard/WandB when configured), with the pair counts as scalars
    ``pairs/<mask>``. Runs on rank 0 only; it costs no network pass, only
    the masks and a matplotlib drawing, so keep ``interval`` in the
    hundreds.

    Example::

        custom_hooks = [dict(type='PairVisualizationHook', interval=500)]

    Args:
        interval (int): Iterations between two drawings. Defaults to 500.
        max_samples (int): Samples drawn per time. Defaults to 1.
        scale_index (int): Which scale of the head to draw. Defaults to 0.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 500,
                 max_samples: int = 1,
                 scale_index: int = 0) -> None:
        if interval < 1 or max_samples < 1:
            raise ValueError('interval and max_samples must be >= 1, got '
                             f'{interval} and {max_samples}')
        self.interval = interval
        self.max_samples = max_samples
        self.scale_index = scale_index

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if data_batch is None or not is_main_process() or \
                not self.every_n_train_iters(runner, self.interval):
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        step = runner.iter + 1
        for name, image in self.draw_batch(model, data_batch).items():
            runner.visualizer.add_image(name, image, step=step)
        runner.visualizer.add_scalars(self._last_counts, step=step)

    @torch.no_grad()
    def draw_batch(self, model, data_batch: dict) -> Dict[str, object]:
        """Pair figures of the first samples of a collated batch.

        Args:
            model: The (unwrapped) DepthPixPro model.
            data_batch (dict): ``inputs`` = list of 2 view batches
                [N, 3, H, W], ``data_samples`` with ``coord`` (and
                ``depth``).

        Returns:
            dict[str, np.ndarray]: ``pairs_<i>`` -> RGB image.
        """
        views: Sequence[torch.Tensor] = data_batch['inputs']
        samples = data_batch['data_samples'][:self.max_samples]
        if len(views) != 2:
            raise ValueError('PairVisualizationHook needs 2 views per sample')
        coord = torch.stack([torch.as_tensor(s.coord).float().cpu()
                             for s in samples])
        depth, depth_meta = stack_depth(samples, 'cpu')
        head = model.head
        scale = head.scales[self.scale_index]
        size = head.grid_sizes.get(scale['level'])
        if size is None:
            raise RuntimeError(
                'PairVisualizationHook draws the batch the head has just '
                'trained on, but the head has not computed a loss yet '
                f'(no grid recorded for level {scale["level"]})')
        pairs = positive_pair_masks(coord, depth, size, scale, head.filters,
                                    depth_meta=depth_meta)

        images = {}
        totals = {name: 0 for name in pairs.names}
        for i in range(len(samples)):
            cell = select_query_cell(pairs, i)
            rgb = [to_display_rgb(views[v][i]) for v in range(2)]
            d = None if depth is None else depth[i].numpy()
            images[f'pairs_{i}'] = draw_pair_figure(
                rgb, d, pairs, cell, sample=i,
                title=f'sample {i}, grid {size[0]}x{size[1]}')
            for name, count in pair_counts(pairs, i).items():
                totals[name] += count
        self._last_counts = {
            f'pairs/{name}': count / len(samples)
            for name, count in totals.items()
        }
        return images
