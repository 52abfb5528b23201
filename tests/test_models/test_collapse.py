"""The collapse statistics (``feat_std`` / ``feat_cos``,
models/utils/collapse.py) on hand-made projections and against brute
force."""
import math

import pytest
import torch
import torch.nn.functional as F

from projects.depth_pixpro.models.utils.collapse import projection_spread


def _pixels(vectors):
    """[N, C] vectors -> one view of N images with one pixel each."""
    return [torch.tensor(vectors, dtype=torch.float32)[:, :, None, None]]


# --------------------------------------------------------------- statistics
def test_spread_hand_case_two_orthogonal_pixels():
    # channel 0 holds (1, 0), channel 1 (0, 1): std 0.5 each, x sqrt(2)
    out = projection_spread(_pixels([[1., 0.], [0., 1.]]))
    assert out['feat_std'].item() == pytest.approx(0.5 * math.sqrt(2))
    assert out['feat_cos'].item() == pytest.approx(0.)
    # the statistics see directions only: scaled inputs give the same
    scaled = projection_spread(_pixels([[3., 0.], [0., 5.]]))
    assert scaled['feat_std'].item() == pytest.approx(0.5 * math.sqrt(2))
    # cos 60 degrees between the two images
    out = projection_spread(_pixels([[1., 0.], [0.5, math.sqrt(3) / 2]]))
    assert out['feat_cos'].item() == pytest.approx(0.5)


def test_spread_collapsed_is_zero_std_and_unit_cos():
    vector = torch.randn(32)
    views = [vector[None, :, None, None].expand(6, 32, 3, 3) * 2.5
             for _ in range(2)]
    out = projection_spread(views)
    assert out['feat_std'].item() == pytest.approx(0., abs=1e-6)
    assert out['feat_cos'].item() == pytest.approx(1., abs=1e-6)


def test_spread_isotropic_is_about_one():
    torch.manual_seed(0)
    views = [torch.randn(32, 16, 8, 8) for _ in range(2)]
    out = projection_spread(views)
    assert out['feat_std'].item() == pytest.approx(1., abs=0.02)
    assert out['feat_cos'].item() == pytest.approx(0., abs=0.01)


def test_spread_equals_brute_force():
    torch.manual_seed(1)
    views = [torch.randn(3, 4, 2, 2) + 0.5, torch.randn(3, 4, 1, 2) - 0.2]
    out = projection_spread(views)
    # pixels of image n: both views (grids may differ)
    images = [[F.normalize(v[n, :, i, j], dim=0) for v in views
               for i in range(v.shape[2]) for j in range(v.shape[3])]
              for n in range(3)]
    cosines = [float(a @ b) for n in range(3) for m in range(3) if n != m
               for a in images[n] for b in images[m]]
    assert out['feat_cos'].item() == pytest.approx(
        sum(cosines) / len(cosines), abs=1e-6)
    flat = torch.stack([p for image in images for p in image]).double()
    mean = flat.mean(dim=0)
    std = ((flat - mean)**2).mean(dim=0).sqrt()
    assert out['feat_std'].item() == pytest.approx(
        std.mean().item() * 2, abs=1e-6)  # sqrt(C) = 2
    assert not out['feat_std'].requires_grad
    assert out['feat_std'].dtype == torch.float32


def test_spread_single_image_has_no_cross_cosine():
    out = projection_spread([torch.randn(1, 8, 2, 2)])
    assert math.isnan(out['feat_cos'].item())
    assert out['feat_std'].item() > 0
