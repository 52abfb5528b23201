"""PixPro's pixel head with exogenous pair filters and a multi-scale loss."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpretrain.registry import MODELS
from ..filters import BasePairFilter
from ..utils import DepthMeta, masked_cosine_loss, pixel_cosine_similarity
from ..utils.validation import check_channels, check_number, check_positive
from .positive_pairs import PairMasks, PositivePairs

#: PixPro's single scale: spatial threshold 0.7 on the last level, weight 1.
PIXPRO_SCALES = (dict(level=-1, spatial_thresh=0.7, weight=1.0), )


@MODELS.register_module()
class MultiScalePixelHead(BaseModule):
    """Pixel propagation + masked pixel consistency loss over several scales.

    A scale is a spatial threshold (plus optional per-filter thresholds) on
    one feature level; its loss is PixPro's loss of a view order, with
    positives = spatial test AND every filter. The algorithm owns the view
    orders: it builds the batch's :meth:`positive_pairs` once, calls
    :meth:`loss` once per (query view, key view) and sums (PixPro, like
    mmpretrain's BYOL, sums both orders). Per level there is one propagation
    module, and per view order ONE centre-distance matrix, ONE cosine matrix
    and one statistic per filter, shared by all scales.

    Without depth in the batch, or with every filter threshold infinite,
    this is exactly PixPro.

    Default scales and filter thresholds are ours: the paper does not
    publish them. Logged outputs: ``loss_s{i}`` = w_i * L_i (mmengine sums
    them into the logged ``loss``), and detached statistics at the first
    scale (:meth:`pair_statistics`): ``pos_spatial`` / ``pos_final``
    (positive pairs per image before / after the filters, mean over images
    and view orders), ``removed_by_filters`` (fraction of spatial positives
    removed) and ``imgs_no_pos`` (images with no positive pair in any view
    order). :attr:`grid_sizes` records each level's grid of the last call.

    Args:
        in_channels (int | Sequence[int]): Channels of each level's projected
            features (an int is shared by all levels).
        levels (int): Number of feature levels the neck outputs.
        scales (Sequence[dict]): Each ``dict(level=-1, spatial_thresh=0.7,
            weight=1.0)`` plus optional filter overrides, e.g.
            ``depth_thresh=0.05`` or ``normal_max_angle=45``.
        filters (Sequence[dict]): Pair filter configs, e.g.
            ``dict(type='DepthPairFilter', thresh=0.1)``.
        ppm (dict): Arguments of :class:`PixelPropagation` (besides
            channels). Defaults to PixPro's: 1 transform layer, gamma 2.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 levels: int = 1,
                 scales: Sequence[dict] = PIXPRO_SCALES,
                 filters: Sequence[dict] = (),
                 ppm: dict = dict(transform_layers=1, gamma=2.),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_channels(levels, 'levels')
        if isinstance(in_channels, int):
            in_channels = [in_channels] * levels
        if len(in_channels) != levels:
            raise ValueError(f'in_channels {in_channels} must give one '
                             f'value per level (levels={levels})')
        for index, channels in enumerate(in_channels):
            check_channels(channels, f'in_channels[{index}]')
        self.levels = levels
        self.filters = nn.ModuleList(
            [self._build_filter(f, i) for i, f in enumerate(filters)])
        self.scales = self._parse_scales(scales)
        self.used_levels = sorted({s['level'] for s in self.scales})
        self.propagations = nn.ModuleDict({
            str(level): MODELS.build(
                dict(type='PixelPropagation', channels=in_channels[level],
                     **ppm))
            for level in self.used_levels
        })
        #: level -> feature grid (H, W) of the last :meth:`loss` call, e.g.
        #: for drawing that batch's positives without a backbone pass.
        self.grid_sizes: Dict[int, Tuple[int, int]] = {}

    @staticmethod
    def _build_filter(cfg: Union[dict, nn.Module],
                      index: int) -> BasePairFilter:
        """A pair filter from its config (ValueError naming the entry for
        anything else, e.g. a backbone)."""
        built = cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)
        if not isinstance(built, BasePairFilter):
            raise ValueError(
                f'head filters[{index}] is a {type(built).__name__}, not a '
                'pair filter (a BasePairFilter: DepthPairFilter, '
                'NormalPairFilter, SurfacePairFilter)')
        return built

    def _parse_scales(self, scales: Sequence[dict]) -> List[dict]:
        if not scales:
            raise ValueError('scales must hold at least one scale dict')
        allowed = {'level', 'spatial_thresh', 'weight'}
        allowed |= {f.scale_key for f in self.filters}
        parsed = []
        for index, scale in enumerate(scales):
            scale = copy.deepcopy(dict(scale))
            unknown = set(scale) - allowed
            if unknown:
                raise ValueError(
                    f'scale {index} has unknown key(s) {sorted(unknown)}; '
                    f'allowed: {sorted(allowed)}')
            level = scale.get('level', -1)
            if isinstance(level, bool) or not isinstance(level, int):
                raise ValueError(f'scales[{index}].level must be an int, got '
                                 f'{level!r}')
            if not -self.levels <= level < self.levels:
                raise ValueError(f'scale {index} level {level} is out of '
                                 f'range for {self.levels} level(s)')
            scale['level'] = level % self.levels
            key = f'scales[{index}].'
            scale['spatial_thresh'] = check_positive(
                scale.get('spatial_thresh', 0.7), key + 'spatial_thresh')
            scale['weight'] = check_number(
                scale.get('weight', 1.0), key + 'weight', low=0.)
            for f in self.filters:
                if scale.get(f.scale_key) is not None:
                    scale[f.scale_key] = f.check_thresh(
                        scale[f.scale_key], key + f.scale_key)
            parsed.append(scale)
        return parsed

    def positive_pairs(self,
                       coord: Tensor,
                       depth: Optional[Tensor] = None,
                       depth_meta: Optional[DepthMeta] = None
                       ) -> PositivePairs:
        """The positive pairs of a batch under this head's filters: build
        them once per batch and pass them to :meth:`loss` of each view order
        and to :meth:`pair_statistics`.

        Args:
            coord (Tensor): [N, V, 4] crop boxes of the views.
            depth (Tensor, optional): [N, V, h, w] view depths, 0 = invalid.
                None: no filter applies (PixPro).
            depth_meta (DepthMeta, optional): Per sample: has depth, kind,
                whole-image range (:func:`stack_depth`). None: every sample
                has metric depth.
        """
        return PositivePairs(coord, depth, self.filters, depth_meta)

    def loss(self, proj_online: Sequence[Tensor],
             proj_target: Sequence[Tensor], pairs: PositivePairs,
             views: Tuple[int, int]) -> Dict[str, Tensor]:
        """Multi-scale loss of one view order.

        The positives of each scale are ``pairs.tests(views, grid)`` (the
        owner of the masks, :mod:`.positive_pairs`); per level one cosine
        matrix serves every scale of the level, so the loss of a scale is
        ``pixel_consistency_loss(ppm(online), target, mask)`` computed with
        the level's shared matrices.

        Args:
            proj_online (Sequence[Tensor]): Per level, the query view's
                online projections [N, C, H_l, W_l].
            proj_target (Sequence[Tensor]): Per level, the key view's target
                projections (detached here).
            pairs (PositivePairs): The batch's pairs (:meth:`positive_pairs`).
            views (tuple[int, int]): (query view, key view) of ``pairs``.

        Returns:
            dict[str, Tensor]: ``loss_s{i}`` = w_i * L_i of this order.
        """
        self._check_levels(proj_online, proj_target)
        losses = {}
        for level in self.used_levels:
            pred = self.propagations[str(level)](proj_online[level])
            size = tuple(pred.shape[-2:])
            self.grid_sizes[level] = size
            tests = pairs.tests(views, size)
            cos = pixel_cosine_similarity(pred, proj_target[level].detach())
            for index, scale in enumerate(self.scales):
                if scale['level'] == level:
                    losses[index] = scale['weight'] * masked_cosine_loss(
                        cos, tests.masks(scale).final)
        return {f'loss_s{i}': losses[i] for i in range(len(self.scales))}

    def pair_statistics(self, pairs: PositivePairs) -> Dict[str, Tensor]:
        """Positive-pair counts of the first scale over the view orders
        :meth:`loss` ran on ``pairs``, detached float32 (see the class
        doc)."""
        scale = self.scales[0]
        size = self.grid_sizes[scale['level']]
        return self._pair_statistics(
            [pairs.tests(views, size).masks(scale)
             for views in pairs.view_orders])

    def _check_levels(self, proj_online: Sequence[Tensor],
                      proj_target: Sequence[Tensor]) -> None:
        if len(proj_online) != self.levels or \
                len(proj_target) != self.levels:
            raise ValueError(
                'MultiScalePixelHead needs one projection per level '
                f'({self.levels}) of the query view and of the key view, '
                f'got {len(proj_online)} and {len(proj_target)}')

    @staticmethod
    def _pair_statistics(masks: List[PairMasks]) -> Dict[str, Tensor]:
        """Positive-pair counts of the first scale, detached float32."""
        with torch.no_grad():
            spatial = torch.stack([m.spatial.sum(dim=(1, 2)) for m in masks])
            final = torch.stack([m.final.sum(dim=(1, 2)) for m in masks])
            spatial, final = spatial.float(), final.float()
            removed = (spatial.sum() - final.sum()) / \
                spatial.sum().clamp(min=1.)
            return dict(
                pos_spatial=spatial.mean(),
                pos_final=final.mean(),
                removed_by_filters=removed,
                imgs_no_pos=(final == 0).all(dim=0).sum().float())
