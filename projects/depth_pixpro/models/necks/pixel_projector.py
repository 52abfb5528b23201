"""PixPro's pixel projector: a 1x1-conv MLP per feature level."""
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmpretrain.registry import MODELS
from ..utils.validation import check_channels


def _as_level_list(in_channels: Union[int, Sequence[int]]) -> List[int]:
    if isinstance(in_channels, int):
        return [in_channels]
    in_channels = list(in_channels)
    if not in_channels:
        raise ValueError('in_channels must be an int or a non-empty list of '
                         f'ints, got {in_channels!r}')
    return [check_channels(c, f'in_channels[{i}]')
            for i, c in enumerate(in_channels)]


@MODELS.register_module()
class PixelProjector(BaseModule):
    """1x1 conv -> norm -> ReLU -> 1x1 conv on every pixel (PixPro's MLP2d).

    Args:
        in_channels (int | Sequence[int]): Channels of each backbone level;
            a list builds one projector per level (e.g. C4 and C5).
        hid_channels (int): Hidden channels. Defaults to 4096 (PixPro).
        out_channels (int): Output channels. Defaults to 256 (PixPro).
        norm_cfg (dict): Normalisation between the convs. Defaults to BN;
            multi-GPU configs use SyncBN as PixPro.
        with_last_bn (bool): Normalise the output per channel over the batch
            (BN without affine parameters, as SimSiam's projector). Not in
            PixPro; it rules out the collapse to a constant output seen on
            small CPU runs. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 hid_channels: int = 4096,
                 out_channels: int = 256,
                 norm_cfg: dict = dict(type='BN'),
                 with_last_bn: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = _as_level_list(in_channels)
        check_channels(hid_channels, 'hid_channels')
        check_channels(out_channels, 'out_channels')
        self.out_channels = out_channels
        last_norm_cfg = dict(norm_cfg, affine=False)
        self.projectors = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(channels, hid_channels, 1),
                build_norm_layer(norm_cfg, hid_channels)[1],
                nn.ReLU(inplace=True),
                nn.Conv2d(hid_channels, out_channels, 1),
                *([build_norm_layer(last_norm_cfg, out_channels)[1]]
                  if with_last_bn else []))
            for channels in self.in_channels
        ])

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Project each level.

        Args:
            inputs (Sequence[Tensor]): Backbone feature maps, one per level
                in the order of ``in_channels``.

        Returns:
            tuple[Tensor]: Projected maps [N, out_channels, H_l, W_l].
        """
        if len(inputs) != len(self.projectors):
            raise ValueError(
                f'PixelProjector was built for {len(self.projectors)} '
                f'level(s) (in_channels={self.in_channels}) but got '
                f'{len(inputs)} feature map(s); match the backbone '
                'out_indices')
        return tuple(
            projector(feat)
            for projector, feat in zip(self.projectors, inputs))
