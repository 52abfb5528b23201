"""mmpretrain's ``CosineEMA`` without host syncs: the momentum is computed
on the host, the average is updated by multi-tensor ops."""
import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from mmengine.logging import MessageHub

from mmpretrain.models.utils import CosineEMA


def cosine_momentum(base: float, end: float, steps: int,
                    max_iters: float) -> float:
    """CosineEMA's momentum after ``steps`` updates:
    end - (end - base) * (cos(pi * steps / max_iters) + 1) / 2."""
    annealing = (math.cos(math.pi * steps / float(max_iters)) + 1) / 2
    return end - (end - base) * annealing


class MultiTensorCosineEMA(CosineEMA):
    """``CosineEMA`` (same arguments, state dict and numbers) whose update
    never waits for the device.

    mmpretrain's ``CosineEMA`` computes ``cos(pi * steps / max_iters)`` from
    the ``steps`` buffer once per parameter, and mmengine tests
    ``steps == 0`` and ``steps % interval`` on it: 2 + (number of
    parameters) device-to-host copies per update (168 for ResNet-50 +
    projector on a GPU). Here the update count lives on the host as well
    (read once from the buffer after construction or a state-dict load), the
    momentum m is a Python float and the averaged floating-point tensors
    are updated by two multi-tensor ops, avg <- (1 - m) avg then
    avg <- avg + m src, the same arithmetic as CosineEMA's per-parameter
    ``mul_`` / ``add_``. ``max_iters`` is read from the message hub at every
    update, as CosineEMA does. The ``steps`` buffer is still advanced (on
    the device), so checkpoints stay those of CosineEMA.

    Args:
        model (nn.Module): The module to average (deep-copied).
        momentum (float): Start momentum m. Defaults to 0.004.
        end_momentum (float): End momentum. Defaults to 0.
        interval (int): Average every ``interval`` updates. Defaults to 1.
        update_buffers (bool): Average the floating-point buffers too
            instead of copying them. Defaults to False.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.004,
                 end_momentum: float = 0.,
                 interval: int = 1,
                 update_buffers: bool = False) -> None:
        # no ``device`` argument: the average stays on the model's device
        super().__init__(model, momentum, end_momentum, interval,
                         update_buffers=update_buffers)
        self._host_steps: Optional[int] = None
        self._register_load_state_dict_pre_hook(self._forget_host_steps)
        #: (source children ids, tensor lists) of the last update
        self._pairs: Optional[Tuple[tuple, dict]] = None

    def _forget_host_steps(self, *args, **kwargs) -> None:
        """A loaded ``steps`` buffer is read again at the next update."""
        self._host_steps = None

    def _apply(self, *args, **kwargs):
        self._pairs = None  # .to() / .cuda() may replace the buffers
        return super()._apply(*args, **kwargs)

    def _tensor_lists(self, model: nn.Module) -> Dict[str, List[Tensor]]:
        """The averaged tensors and their sources, in matching order:
        ``copied`` (all, for the first update), ``averaged`` / ``source``
        (the floating-point ones) and the ``buffers`` / ``source_buffers``
        to copy. Kept while ``model`` has the same children: walking the
        module tree is most of an update's Python work."""
        key = tuple(id(child) for child in model.children())
        if self._pairs is not None and self._pairs[0] == key:
            return self._pairs[1]
        # the modules' current tensors (mmengine's avg_parameters may hold
        # detached views of storage that a later .to() replaced)
        source, averaged = (
            (module.state_dict(keep_vars=True) for module in (model,
                                                              self.module))
            if self.update_buffers else
            (dict(module.named_parameters()) for module in (model,
                                                            self.module)))
        floating = [k for k, p in averaged.items()
                    if p.dtype.is_floating_point]
        lists = dict(
            copied=list(averaged.values()),
            copied_source=[source[k] for k in averaged],
            averaged=[averaged[k] for k in floating],
            source=[source[k] for k in floating],
            buffers=[] if self.update_buffers else list(self.module.buffers()),
            source_buffers=[] if self.update_buffers else list(
                model.buffers()))
        self._pairs = (key, lists)
        return lists

    @staticmethod
    def _max_iters() -> float:
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        if max_iters is None:
            raise RuntimeError(
                'MultiTensorCosineEMA needs "max_iters" in the message hub '
                '(the runner sets it; outside a runner call MessageHub.'
                'get_current_instance().update_info("max_iters", K))')
        return max_iters

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """One update from ``model`` (mmengine's rule: the first update
        copies, then every ``interval``-th update averages; buffers are
        copied unless ``update_buffers``)."""
        if self._host_steps is None:
            self._host_steps = int(self.steps)  # once per run / load
        steps = self._host_steps
        lists = self._tensor_lists(model)
        if steps == 0:
            torch._foreach_copy_(lists['copied'], lists['copied_source'])
        elif steps % self.interval == 0:
            momentum = cosine_momentum(self.momentum, self.end_momentum,
                                       steps, self._max_iters())
            torch._foreach_mul_(lists['averaged'], 1 - momentum)
            torch._foreach_add_(lists['averaged'], lists['source'],
                                alpha=momentum)
        if lists['buffers']:
            torch._foreach_copy_(lists['buffers'], lists['source_buffers'])
        self.steps.add_(1)
        self._host_steps = steps + 1
