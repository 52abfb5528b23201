"""DepthPixPro: PixPro whose positive pixel pairs also pass a depth test."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from ..utils.collapse import projection_spread
from ... import structures as K
from ..utils.depth_meta import stack_depth, stack_field
from ..utils.multi_tensor_ema import MultiTensorCosineEMA
from ..utils.validation import check_number

#: Both view orders (query view, key view): PixPro, like BYOL, sums the
#: losses of both, for the pixel head and the instance branch alike.
VIEW_ORDERS = ((0, 1), (1, 0))


def pixel_losses(head, proj_online: Sequence[Sequence[Tensor]],
                 proj_target: Sequence[Sequence[Tensor]],
                 pairs) -> Dict[str, Tensor]:
    """The pixel head's losses summed over :data:`VIEW_ORDERS`, and its
    pair statistics.

    Args:
        head (MultiScalePixelHead): The pixel head.
        proj_online (Sequence[Sequence[Tensor]]): Per view, per level,
            online projections [N, C, H_l, W_l].
        proj_target (Sequence[Sequence[Tensor]]): Same for the target.
        pairs (PositivePairs): The batch's pairs,
            ``head.positive_pairs(coord, depth, depth_meta)``.

    Returns:
        dict[str, Tensor]: ``loss_s{i}`` and the head's statistics.
    """
    losses = {}
    for q, k in VIEW_ORDERS:
        for name, value in head.loss(proj_online[q], proj_target[k], pairs,
                                     (q, k)).items():
            losses[name] = losses[name] + value if name in losses else value
    losses.update(head.pair_statistics(pairs))
    return losses


@MODELS.register_module()
class DepthPixPro(BaseSelfSupervisor):
    """Depth-aware PixPro (Ben Saad et al., WACV 2023).

    Online: backbone -> neck (:class:`PixelProjector`) -> head (pixel
    propagation + loss). Target: a momentum copy of backbone and neck
    (:class:`MultiTensorCosineEMA`: mmpretrain's ``CosineEMA`` without host
    syncs, momentum m_k = m * (cos(pi k / K) + 1) / 2, i.e. the
    target keeps tau_k = 1 - m_k of itself: 0.99 -> 1 for m = 0.01; K is
    ``max_iters`` of the message hub). The target is updated BEFORE it
    computes its features, as in mmpretrain's BYOL.

    Target BN: the target runs in training mode, so its BN layers normalise
    with the current batch's statistics, as PixPro's. By default
    (``target_update_buffers=False``) its running estimates are copied from
    the online net at each update instead of being its own (PixPro); they
    are never used in training and the target is not exported, so the loss
    is the same. ``target_update_buffers=True`` averages them as well.

    Depth never enters the network: each data sample's ``depth`` (Tensor
    [V, H, W], 0 = invalid) is pooled by the head to each feature grid;
    ``has_depth``, ``depth_kind`` and ``depth_range`` say whether the sample
    has depth, what its values are and their range over the whole image
    (:func:`stack_depth`). Each sample's ``coord`` (Tensor [V, 4]) is its
    views' crop boxes.

    Args:
        backbone (dict): Backbone config (e.g. mmpretrain ResNet with
            ``out_indices=(3, )`` or ``(2, 3)``).
        neck (dict): :class:`PixelProjector` config, one projector per level.
        head (dict): :class:`MultiScalePixelHead` config.
        base_momentum (float): Start momentum m of the target. Defaults to
            0.01 (PixPro's 0.99).
        end_momentum (float): End momentum. Defaults to 0 (target frozen).
        target_update_buffers (bool): See above. Defaults to False.
        instance_neck (dict, optional): PixPro "+instance" branch projector
            on the last level, e.g. mmpretrain ``NonLinearNeck`` with
            ``with_avg_pool=True``.
        instance_head (dict, optional): Its head, e.g. mmpretrain
            ``LatentPredictHead`` (predictor + ``CosineSimilarityLoss``).
        instance_loss_weight (float): Weight of the instance loss (logged
            as ``loss_instance``). Defaults to 1.
        compile_step (bool | dict): Compile the networks of the step with
            ``torch.compile`` (True: its defaults; a dict: its keyword
            arguments, e.g. ``dict(mode='reduce-overhead')`` for CUDA
            graphs): the online and target backbone and neck and the
            head's propagation modules, in place (same state dict). The
            first steps pay the compilation. Defaults to False (eager).
        pretrained (str, optional): Pretrained checkpoint path.
        data_preprocessor (dict, optional): Defaults to
            ``SelfSupDataPreprocessor``.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float = 0.01,
                 end_momentum: float = 0.,
                 target_update_buffers: bool = False,
                 instance_neck: Optional[dict] = None,
                 instance_head: Optional[dict] = None,
                 instance_loss_weight: float = 1.,
                 compile_step: Union[bool, dict] = False,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if (instance_neck is None) != (instance_head is None):
            raise ValueError('instance_neck and instance_head must be given '
                             'together (PixPro "+instance" branch) or not at '
                             'all')
        self.instance_neck = None if instance_neck is None else \
            MODELS.build(instance_neck)
        self.instance_head = None if instance_head is None else \
            MODELS.build(instance_head)
        self.instance_loss_weight = check_number(
            instance_loss_weight, 'instance_loss_weight', low=0.)
        self._check_some_loss_weighted()
        # the target moves by m (0 < m < 1: CosineEMA's range); 0 = frozen
        check_number(base_momentum, 'base_momentum', low=0., high=1.,
                     low_inclusive=False, high_inclusive=False)
        check_number(end_momentum, 'end_momentum', low=0., high=1.)
        self.target_net = MultiTensorCosineEMA(
            self._online_encoder(),
            momentum=base_momentum,
            end_momentum=end_momentum,
            update_buffers=target_update_buffers)
        if compile_step is True or isinstance(compile_step, dict):
            self._compile_networks({} if compile_step is True else
                                   dict(compile_step))
        elif compile_step not in (False, None):
            raise TypeError('compile_step must be a bool or a dict of '
                            f'torch.compile arguments, got {compile_step!r}')

    def _compile_networks(self, options: dict) -> None:
        """``torch.compile`` (in place, :meth:`nn.Module.compile`) every
        network the step runs: most of its kernel launches and host work.
        The EMA update, the data handling and the masks stay eager."""
        target = self.target_net.module
        networks = [self.backbone, self.neck, target[0], target[1],
                    *getattr(self.head, 'propagations', {}).values()]
        if self.instance_neck is not None:
            networks += [self.instance_neck, target[2]]
        for network in networks:
            network.compile(**options)

    def _check_some_loss_weighted(self) -> None:
        """Refuse a model whose every loss term has weight 0: its loss is 0
        at every iteration and nothing is learned."""
        scales = getattr(self.head, 'scales', None)
        if not scales or any(s['weight'] > 0 for s in scales):
            return
        if self.instance_head is not None and self.instance_loss_weight > 0:
            return
        raise ValueError(
            'every loss term has weight 0 (head.scales[i].weight = '
            f'{[s["weight"] for s in scales]}'
            + (', instance_loss_weight = 0' if self.instance_head is not None
               else '') +
            '): the loss would be 0 at every iteration and nothing learned; '
            'give at least one scale a weight > 0')

    def _online_encoder(self) -> nn.Sequential:
        """The modules the target tracks, in ``target_net.module`` order:
        0 backbone, 1 neck, [2 instance neck]."""
        modules = [self.backbone, self.neck]
        if self.instance_neck is not None:
            modules.append(self.instance_neck)
        return nn.Sequential(*modules)

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        """Losses and pair statistics of a batch.

        Args:
            inputs (list[Tensor]): The 2 views, each [N, 3, H, W].
            data_samples (list[DataSample]): With ``coord`` [2, 4] and
                optionally ``depth`` [2, H, W] with ``has_depth``,
                ``depth_kind`` and ``depth_range`` (see
                :func:`stack_depth`).

        Returns:
            dict[str, Tensor]: ``loss_s{i}`` per scale (weighted),
            ``loss_instance`` if enabled, and detached statistics: the
            head's pair counts and ``feat_std`` / ``feat_cos``
            (:func:`projection_spread`).
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError('DepthPixPro needs inputs = [view1, view2]')
        device = inputs[0].device
        coord = stack_field(data_samples, K.COORD, device)
        if coord is None:
            raise ValueError('data samples carry no "coord" (crop boxes); '
                             'use RGBDMultiView + PackRGBDInputs')
        depth, depth_meta = stack_depth(data_samples, device)

        feats = [self.backbone(view) for view in inputs]
        proj_online = [self.neck(feat) for feat in feats]
        with torch.no_grad():
            self.target_net.update_parameters(self._online_encoder())
            target_backbone, target_neck = self.target_net.module[:2]
            target_feats = [target_backbone(view) for view in inputs]
            proj_target = [target_neck(feat) for feat in target_feats]

        losses = pixel_losses(
            self.head, proj_online, proj_target,
            self.head.positive_pairs(coord, depth, depth_meta))
        # collapse monitor: spread of the last level's online projections
        losses.update(projection_spread([p[-1] for p in proj_online]))
        if self.instance_neck is not None:
            losses['loss_instance'] = self.instance_loss_weight * \
                self._instance_loss(feats, target_feats)
        return losses

    def _instance_loss(self, feats: List[tuple],
                       target_feats: List[tuple]) -> Tensor:
        """BYOL-style loss of the last level, both view orders.

        PixPro's order: ``instance_neck`` projects every pixel and the
        head's predictor predicts every pixel, then pools
        (:class:`PooledPixelProjector`); the target's projection is
        average-pooled here. A pooling neck (``NonLinearNeck`` with
        ``with_avg_pool=True``) gives vectors, which pass unchanged.
        """
        online = [self.instance_neck([feat[-1]])[0] for feat in feats]
        with torch.no_grad():
            target_neck = self.target_net.module[2]
            target = [
                _average_pool(target_neck([feat[-1]])[0])
                for feat in target_feats
            ]
        return sum(self.instance_head.loss(online[q], target[k])
                   for q, k in VIEW_ORDERS)


def _average_pool(feat: Tensor) -> Tensor:
    """[N, C, H, W] -> [N, C] (global average); [N, C] unchanged."""
    return feat.mean(dim=(2, 3)) if feat.dim() == 4 else feat
