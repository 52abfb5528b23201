"""Dense-feature views: PCA to RGB and cosine-similarity maps."""
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def pca_rgb(feats: Tensor,
            clip: Tuple[float, float] = (1., 99.)) -> np.ndarray:
    """Project a dense feature map on its first 3 principal components.

    Each component is min-max scaled between the given percentiles, so one
    outlier pixel does not wash out the image.

    Args:
        feats (Tensor): ``C x H x W`` features of one image.
        clip (tuple[float, float]): Percentiles mapped to 0 and 1.

    Returns:
        np.ndarray: ``H x W x 3`` float32 in [0, 1].
    """
    if feats.dim() != 3:
        raise ValueError(f'feats must be C x H x W, got {tuple(feats.shape)}')
    channels, height, width = feats.shape
    x = feats.detach().float().reshape(channels, -1).t()  # [HW, C]
    x = x - x.mean(dim=0, keepdim=True)
    # right singular vectors = principal axes; pad if fewer than 3 exist
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    comps = x @ vh[:3].t()
    if comps.size(1) < 3:
        comps = F.pad(comps, (0, 3 - comps.size(1)))
    comps = comps.numpy()
    low = np.percentile(comps, clip[0], axis=0)
    high = np.percentile(comps, clip[1], axis=0)
    scaled = (comps - low) / np.maximum(high - low, 1e-8)
    return np.clip(scaled, 0, 1).reshape(height, width, 3).astype(np.float32)


def cosine_similarity_map(feats: Tensor, row: int, col: int) -> np.ndarray:
    """Cosine similarity of every pixel's feature to the one at (row, col).

    Args:
        feats (Tensor): ``C x H x W`` features.
        row (int): Row of the reference pixel on the feature grid.
        col (int): Column of the reference pixel.

    Returns:
        np.ndarray: ``H x W`` float32 in [-1, 1]; 1 at the reference.
    """
    if not (0 <= row < feats.shape[1] and 0 <= col < feats.shape[2]):
        raise ValueError(f'point ({col}, {row}) is outside the '
                         f'{feats.shape[2]}x{feats.shape[1]} feature grid')
    normed = F.normalize(feats.detach().float(), dim=0)
    ref = normed[:, row, col]
    return torch.einsum('chw,c->hw', normed, ref).numpy().astype(np.float32)
