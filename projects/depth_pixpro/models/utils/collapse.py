"""Collapse statistics of pixel projections (the collapse monitor's input).

A self-supervised projector can collapse to a constant output: the loss
then looks excellent while the features carry nothing. Two numbers on the
L2-normalised projections of a batch show it at no extra forward cost:

* ``feat_std``: per-channel standard deviation over all pixels of the
  batch, averaged over channels and scaled by ``sqrt(C)``. Unit vectors
  spread evenly over the sphere have a per-channel std of ``1/sqrt(C)``, so
  1 = isotropic and 0 = every pixel projects to the same vector.
* ``feat_cos``: mean cosine similarity between pixels of different images
  (pixels of one image, both views included, are not compared: they may
  rightly agree). About 0 for spread features, 1 when collapsed.
"""
import math
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def projection_spread(views: Sequence[Tensor]) -> Dict[str, Tensor]:
    """``feat_std`` and ``feat_cos`` of a batch's pixel projections.

    Args:
        views (Sequence[Tensor]): Per view, the projections [N, C, H, W] of
            the same N images (pixel vectors need not be normalised).

    Returns:
        dict[str, Tensor]: Detached float32 scalars ``feat_std`` (1 =
        isotropic, 0 = collapsed) and ``feat_cos`` (mean cosine between
        pixels of different images; NaN for a single image).
    """
    with torch.no_grad():
        # [N, P, C]: every pixel of every view of image n, unit length
        pixels = torch.cat([v.detach().float().flatten(2) for v in views],
                           dim=2).transpose(1, 2)
        pixels = F.normalize(pixels, dim=2)
        num_images, num_pixels, channels = pixels.shape
        flat = pixels.reshape(-1, channels)
        feat_std = flat.std(dim=0, unbiased=False).mean() * math.sqrt(
            channels)
        # sum over pairs of different images of z_ip . z_jq, from the
        # per-image sums s_i: |sum_i s_i|^2 - sum_i |s_i|^2
        per_image = pixels.sum(dim=1)
        cross = per_image.sum(dim=0).square().sum() - \
            per_image.square().sum()
        pairs = num_images * (num_images - 1) * num_pixels**2
        feat_cos = cross / pairs if pairs else torch.tensor(
            float('nan'), device=pixels.device)
    return dict(feat_std=feat_std, feat_cos=feat_cos)
