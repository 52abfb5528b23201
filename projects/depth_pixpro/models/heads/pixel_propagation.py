"""PixPro's pixel propagation module (PPM)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmpretrain.registry import MODELS
from ..utils.validation import check_channels, check_number, check_positive


@MODELS.register_module()
class PixelPropagation(BaseModule):
    """Smooth each pixel's feature with those of similar pixels.

    v = normalize(g(x)); A_ij = clamp(cos(x_i, x_j), clamp_min) ** gamma;
    y_i = normalize(sum_j A_ij v_j).

    Args:
        channels (int): Feature channels (input = output).
        transform_layers (int): g: 0 identity, 1 a 1x1 conv (PixPro's
            default), 2 conv-norm-ReLU-conv.
        gamma (float): Sharpness exponent of the similarity. Defaults to 2.
        clamp_min (float): Lower clamp of the cosine. Defaults to 0.
        norm_cfg (dict): Norm of the 2-layer transform. Defaults to BN.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 channels: int,
                 transform_layers: int = 1,
                 gamma: float = 2.,
                 clamp_min: float = 0.,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_channels(channels, 'channels')
        if transform_layers == 0:
            self.value_transform = nn.Identity()
        elif transform_layers == 1:
            self.value_transform = nn.Conv2d(channels, channels, 1)
        elif transform_layers == 2:
            self.value_transform = nn.Sequential(
                nn.Conv2d(channels, channels, 1),
                build_norm_layer(norm_cfg, channels)[1],
                nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1))
        else:
            raise ValueError(
                f'transform_layers must be 0, 1 or 2, got {transform_layers}')
        self.gamma = check_positive(gamma, 'gamma')
        self.clamp_min = check_number(clamp_min, 'clamp_min', low=-1.,
                                      high=1., high_inclusive=False)

    def forward(self, feat: Tensor) -> Tensor:
        """Propagate.

        Args:
            feat (Tensor): [N, C, H, W] projected features.

        Returns:
            Tensor: [N, C, H, W] unit-norm propagated features.
        """
        n, c, h, w = feat.shape
        value = F.normalize(self.value_transform(feat), dim=1).flatten(2)
        key = F.normalize(feat, dim=1).flatten(2)
        affinity = torch.bmm(key.transpose(1, 2), key)
        affinity = affinity.clamp(min=self.clamp_min)
        if self.gamma < 1.:
            # pow with exponent < 1 has an infinite gradient at 0.
            affinity = affinity + 1e-6
        affinity = affinity**self.gamma
        out = torch.bmm(value, affinity.transpose(1, 2))
        return F.normalize(out, dim=1).view(n, c, h, w)
