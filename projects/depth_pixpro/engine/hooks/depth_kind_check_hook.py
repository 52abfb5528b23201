"""Refuse, before the first iteration, depth the filters cannot test."""
from typing import Dict, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ... import structures as K
from ...models.heads import check_depth_kinds
from ...models.utils import DepthMeta


def dataset_depth_kinds(dataset) -> Dict[str, Tuple[str, str]]:
    """Depth kinds of a dataset's items with depth, with one example each.

    Walks mmengine's dataset wrappers (``ConcatDataset.datasets``,
    ``RepeatDataset.dataset``, ...). An item without a depth file
    (``depth_map_path`` None) has no kind; an item without a
    ``depth_kind`` takes its dataset's (``'metric'`` if none).

    Returns:
        dict: kind -> (dataset class name, example image path or '').
    """
    found = {}
    children = getattr(dataset, 'datasets', None)
    if children is None and hasattr(dataset, 'dataset'):
        children = [dataset.dataset]
    if children is not None:
        for child in children:
            for kind, where in dataset_depth_kinds(child).items():
                found.setdefault(kind, where)
        return found
    name = type(dataset).__name__
    default = getattr(dataset, 'depth_kind', None) or 'metric'
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    items = getattr(dataset, 'data_list', None)
    if not items:  # e.g. rendered on the fly: the dataset's own kind
        return {default: (name, '')}
    for item in items:
        if K.DEPTH_PATH in item and item[K.DEPTH_PATH] is None:
            continue  # no depth: trained as PixPro
        kind = item.get(K.DEPTH_KIND) or default
        found.setdefault(kind, (name, str(item.get(K.IMG_PATH, ''))))
    return found


@HOOKS.register_module()
class DepthKindCheckHook(Hook):
    """Before training, check the train dataset's depth kinds against the
    head's pair filters (``check_depth_kinds``), so that an incompatible
    (kind, mode) stops the run at start -- with the dataset, an example
    file, the kind and the config line to change -- instead of at the
    first batch holding such a sample, possibly hours in.

    Example::

        default_hooks = dict(depth_kind_check=dict(type='DepthKindCheckHook'))
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        filters = getattr(getattr(model, 'head', None), 'filters', None)
        if not filters:
            return
        kinds = dataset_depth_kinds(runner.train_dataloader.dataset)
        if not kinds:
            return
        names = tuple(f'{name}: {path}' if path else name
                      for name, path in kinds.values())
        meta = DepthMeta(
            has_depth=torch.ones(len(kinds), dtype=torch.bool),
            kinds=tuple(kinds),
            ranges=torch.full((len(kinds), 2), float('nan')),
            paths=names)
        check_depth_kinds(filters, meta)
