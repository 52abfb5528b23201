"""Dense-feature views: PCA to RGB and cosine-similarity maps by hand."""
import numpy as np
import pytest
import torch

from projects.depth_pixpro.visualization import (cosine_similarity_map,
                                                 pca_rgb)


# ---------------------------------------------------- visualize_features
def test_pca_and_cosine_hand_cases():
    feats = torch.zeros(4, 2, 3)
    feats[0, :, :2] = 1.  # left columns: e0
    feats[1, :, 2] = 2.  # right column: e1
    sim = cosine_similarity_map(feats, 0, 0)
    assert np.allclose(sim[:, :2], 1) and np.allclose(sim[:, 2], 0)
    rgb = pca_rgb(feats)
    assert rgb.shape == (2, 3, 3) and rgb.min() >= 0 and rgb.max() <= 1
    # first component separates the two groups, constant within each
    assert np.allclose(rgb[:, :2, 0], rgb[0, 0, 0])
    assert abs(rgb[0, 0, 0] - rgb[0, 2, 0]) > 0.9
    with pytest.raises(ValueError, match='outside'):
        cosine_similarity_map(feats, 2, 0)
