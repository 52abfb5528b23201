"""Linear pixel-probe decode head (an mmseg head: registered in mmseg's
MODELS when ``projects.depth_pixpro`` is imported), used by the frozen-backbone
probe of ``benchmarks/configs/linear_probe_r18_synthetic.py``."""
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


@MODELS.register_module()
class LinearProbeHead(BaseDecodeHead):
    """A 1x1 conv classifier on one frozen feature map, preceded by a
    parameter-free BatchNorm (MAE's linear-probe recipe).

    The BatchNorm only standardises the features (no affine weights), so the
    probe stays linear in the backbone's features while one learning rate
    fits backbones whose features differ in scale by orders of magnitude
    (random init against pretrained).

    Args:
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels``,
            ``channels`` must equal ``in_channels``, ``num_classes``,
            ``in_index``, ``dropout_ratio``, ``loss_decode``, ...).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.in_channels != self.channels:
            raise ValueError(
                'LinearProbeHead classifies the features directly: set '
                f'channels={self.in_channels} (= in_channels), got '
                f'{self.channels}')
        self.feature_norm = nn.BatchNorm2d(self.in_channels, affine=False)

    def forward(self, inputs):
        """Per-pixel class logits of the selected feature map.

        Args:
            inputs (list[Tensor]): Backbone feature maps.

        Returns:
            Tensor: Logits [N, num_classes, h, w] at the feature resolution.
        """
        return self.cls_seg(self.feature_norm(self._transform_inputs(inputs)))
