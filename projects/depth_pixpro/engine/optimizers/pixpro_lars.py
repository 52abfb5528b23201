"""LARS with official PixPro's trust ratio (contrast/lars.py)."""
from typing import Callable, Iterable, Optional

import torch
from torch import Tensor

from mmpretrain.registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class PixProLARS(torch.optim.SGD):
    """SGD whose gradients are first rescaled by LARS, as official PixPro.

    Per parameter p with gradient g, in each group:

    1. g <- g + wd * p (the group's ``weight_decay``, every group);
    2. unless the group has ``lars_exclude=True`` (set by
       ``Exclude1DParamsOptimWrapperConstructor`` on 1-D parameters):
       g <- g * eta * ||p|| / (||g|| + eps), where ||g|| is taken AFTER the
       weight decay was added; the factor is 1 when ||p|| or ||g|| is 0;
    3. a torch SGD step on g without weight decay: buf <- momentum * buf + g
       (buf = g at the first step), p <- p - lr * buf.

    mmpretrain's ``LARS`` differs in step 2 (trust ratio eta ||p|| /
    (||g|| + wd ||p|| + eps) on the raw gradient: up to 25 % smaller steps
    when ||g|| nears wd ||p||) and in step 3 (it scales by the lr before the
    momentum buffer, so a changing lr acts differently). Here every norm and
    factor stays on the device (no host sync) and the group's parameters
    are handled by multi-tensor ops.

    The gradients are rescaled in place (``p.grad`` holds the LARS gradient
    after :meth:`step`, as in the official code).

    Args:
        params (Iterable): Parameters or parameter groups.
        lr (float): Learning rate.
        momentum (float): Momentum. Defaults to 0.
        weight_decay (float): Weight decay, added to the gradient before the
            trust ratio. Defaults to 0.
        eta (float): Trust coefficient. Defaults to 1e-3 (PixPro's
            ``trust_coef``).
        eps (float): Added to the gradient norm. Defaults to 1e-8.
        dampening (float): SGD dampening. Defaults to 0.
        nesterov (bool): Nesterov momentum. Defaults to False.
    """

    def __init__(self,
                 params: Iterable,
                 lr: float,
                 momentum: float = 0.,
                 weight_decay: float = 0.,
                 eta: float = 1e-3,
                 eps: float = 1e-8,
                 dampening: float = 0.,
                 nesterov: bool = False) -> None:
        if eta < 0:
            raise ValueError(f'PixProLARS: eta must be >= 0, got {eta}')
        if eps < 0:
            raise ValueError(f'PixProLARS: eps must be >= 0, got {eps}')
        super().__init__(params, lr=lr, momentum=momentum,
                         dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov)
        self.eta = eta
        self.eps = eps

    @torch.no_grad()
    def _rescale_gradients(self) -> None:
        """Steps 1 and 2 of the class docstring, in place on ``p.grad``."""
        for group in self.param_groups:
            params = [p for p in group['params'] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            if group['weight_decay'] != 0:
                torch._foreach_add_(grads, params,
                                    alpha=group['weight_decay'])
            if group.get('lars_exclude', False):
                continue
            param_norms = torch.stack(torch._foreach_norm(params))
            grad_norms = torch.stack(torch._foreach_norm(grads))
            trust = torch.where(
                (param_norms > 0) & (grad_norms > 0),
                self.eta * param_norms / (grad_norms + self.eps),
                torch.ones_like(param_norms))
            torch._foreach_mul_(grads, trust.to(grads[0].dtype).unbind(0))

    @torch.no_grad()
    def step(self, closure: Optional[Callable] = None) -> Optional[Tensor]:
        """One LARS step (see the class docstring)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._rescale_gradients()
        decays = [group['weight_decay'] for group in self.param_groups]
        for group in self.param_groups:
            group['weight_decay'] = 0.  # already in the gradient
        try:
            super().step()
        finally:
            for group, decay in zip(self.param_groups, decays):
                group['weight_decay'] = decay
        return loss
