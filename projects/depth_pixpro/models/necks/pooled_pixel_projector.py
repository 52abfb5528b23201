"""PixPro's instance predictor: a per-pixel conv MLP, then average pooling."""
from typing import Sequence, Tuple

from torch import Tensor

from mmpretrain.registry import MODELS
from .pixel_projector import PixelProjector


@MODELS.register_module()
class PooledPixelProjector(PixelProjector):
    """:class:`PixelProjector` on every pixel, then global average pooling.

    PixPro's "+instance" branch (``contrast/models/PixPro.py``) predicts
    each pixel of the instance projection with a conv MLP (``MLP2d``: 1x1
    convs with biases, BN, ReLU) and only then average-pools the map to one
    vector per image; pooling first would give another function, since the
    MLP is not linear. Used as ``LatentPredictHead``'s predictor. Arguments
    as :class:`PixelProjector`.
    """

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Project each level per pixel, then average over the pixels.

        Args:
            inputs (Sequence[Tensor]): Maps [N, C_l, H_l, W_l], one per level.

        Returns:
            tuple[Tensor]: Pooled projections [N, out_channels].
        """
        return tuple(out.mean(dim=(2, 3)) for out in super().forward(inputs))
