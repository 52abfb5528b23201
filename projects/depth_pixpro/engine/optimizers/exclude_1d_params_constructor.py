"""PixPro's parameter groups: no weight decay, no LARS adaptation on 1-D."""
from typing import List, Optional, Union

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor

from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class Exclude1DParamsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Every 1-D parameter gets ``weight_decay=0`` and ``lars_exclude=True``.

    PixPro (``contrast/lars.py``, ``add_weight_decay``) excludes each
    parameter with ``len(param.shape) == 1`` (biases and the scales and
    shifts of every norm layer, wherever they sit: a BN inside an
    ``nn.Sequential`` has no telling name) from weight decay and from the
    LARS trust ratio (mmpretrain's ``LARS`` reads ``lars_exclude``). The rule
    is applied after mmengine's ``paramwise_cfg`` (``custom_keys``, ...),
    which still sets the learning rate and the decay of the other
    parameters. Optimizers other than LARS ignore ``lars_exclude``.

    Args:
        optim_wrapper_cfg (dict): The optimizer-wrapper config, as for
            :class:`DefaultOptimWrapperConstructor`.
        paramwise_cfg (dict, optional): mmengine's parameter-wise options.
            Defaults to None.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        # a non-empty paramwise_cfg makes mmengine build one group per
        # parameter (add_params) instead of passing model.parameters()
        paramwise_cfg.setdefault('custom_keys', {})
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[Union[int, float]] = None) -> None:
        """Add the parameter groups of ``module``, then exclude the 1-D ones.

        Args:
            params (list[dict]): Parameter groups, extended in place.
            module (nn.Module): The module to add.
            prefix (str): Its name prefix; ``''`` for the model itself.
            is_dcn_module (int | float, optional): See mmengine.
        """
        super().add_params(params, module, prefix, is_dcn_module)
        if prefix:
            return  # a recursive call: the root call sees every group
        for group in params:
            if all(param.ndim == 1 for param in group['params']):
                group['weight_decay'] = 0.
                group['lars_exclude'] = True
