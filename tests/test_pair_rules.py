"""Exact edge cases of the positive-pair rules: ties with the spatial
threshold and the ``imgs_no_pos`` statistic over both view orders."""
import pytest
import torch

from mmpretrain.registry import MODELS
from projects.depth_pixpro.models.filters import BasePairFilter
from projects.depth_pixpro.models.utils import (pool_depth,
                                                spatial_positive_mask)

FULL = torch.tensor([[0., 0., 1., 1.]])


def tie_case():
    """Two identical full-image views on a 4x4 grid, T = 1.

    Bins are 0.25 wide, so every centre is exact in float32; a diagonal
    neighbour is sqrt(0.25^2 + 0.25^2) away, computed with the same float
    operations as the bin diagonal sqrt(0.25^2 + 0.25^2): the ratio is 1.0
    exactly, i.e. tied with T. Positives are then the bin itself and its 4
    edge neighbours (ratio 0 and 0.707), never the diagonals.
    """
    expected = torch.zeros(16, 16, dtype=torch.bool)
    for i in range(16):
        for j in range(16):
            dh, dw = i // 4 - j // 4, i % 4 - j % 4
            expected[i, j] = dh * dh + dw * dw < 2
    return expected


def test_spatial_mask_excludes_a_pair_tied_with_the_threshold():
    expected = tie_case()
    mask = spatial_positive_mask(FULL, FULL, (4, 4), 1.0)[0]
    assert torch.equal(mask, expected)
    assert int(mask.sum()) == 16 + 24 + 24  # self, horizontal, vertical


def test_head_excludes_a_pair_tied_with_the_threshold():
    head = MODELS.build(dict(type='MultiScalePixelHead', in_channels=4,
                             scales=[dict(spatial_thresh=1.0)]))
    gen = torch.Generator().manual_seed(0)
    feats = [[torch.randn(1, 4, 4, 4, generator=gen)] for _ in range(2)]
    coord = torch.stack([FULL, FULL], dim=1)  # [1, 2, 4]
    out = head.loss(feats, feats, coord)
    assert out['pos_spatial'].item() == 64
    assert out['pos_final'].item() == 64


class NearerQueryFilter(BasePairFilter):
    """Test-only, order-dependent filter: keep a pair when the query bin is
    nearer than the key bin (signed depth difference < thresh = 0)."""

    def on_grid(self, view, size):
        return pool_depth(view, size)

    prepare = on_grid  # the hook's name before the filters' renaming

    def pair_statistic(self, prepared_q, prepared_k):
        zq, zk = prepared_q.flatten(1), prepared_k.flatten(1)
        stat = zq[:, :, None] - zk[:, None, :]
        return stat, torch.ones_like(stat, dtype=torch.bool)


def test_imgs_no_pos_counts_images_without_positives_in_both_orders():
    """Image 0 has positives only in the order (view 0 -> view 1), image 1
    in neither order (views do not overlap), image 2 in both."""
    head = MODELS.build(dict(type='MultiScalePixelHead', in_channels=4,
                             filters=[NearerQueryFilter(thresh=0.)]))
    gen = torch.Generator().manual_seed(1)
    feats = [[torch.randn(3, 4, 2, 2, generator=gen)] for _ in range(2)]
    coord = torch.tensor([
        [[0., 0., 1., 1.], [0., 0., 1., 1.]],
        [[0., 0., 0.4, 0.4], [0.6, 0.6, 1., 1.]],
        [[0., 0., 1., 1.], [0., 0., 1., 1.]],
    ])
    depth = torch.ones(3, 2, 2, 2)
    depth[0, 1] = 2.  # view 1 farther: only query = view 0 keeps pairs
    depth[2, 0, :, 0] = 2.  # left column of view 0 farther than view 1
    depth[2, 1, :, 1] = 3.  # right column of view 1 farther than view 0
    out = head.loss(feats, feats, coord, depth)
    # per (order, image) final positives: order (0, 1): 4, 0, 2; (1, 0): 0,
    # 0, 2 (the same-bin pairs where the query is the nearer one)
    assert out['pos_final'].item() == pytest.approx((4 + 0 + 2 + 0 + 0 + 2)
                                                    / 6)
    assert out['imgs_no_pos'].item() == 1


def test_a_filter_threshold_is_overridden_per_scale_by_its_scale_key():
    """BasePairFilter's per-scale key is ``thresh``: a scale with
    ``thresh=inf`` turns the (order-dependent) filter off for that scale."""
    head = MODELS.build(dict(
        type='MultiScalePixelHead', in_channels=4,
        filters=[NearerQueryFilter(thresh=0.)],
        scales=[dict(spatial_thresh=0.7),
                dict(spatial_thresh=0.7, thresh=float('inf'))]))
    gen = torch.Generator().manual_seed(2)
    feats = [[torch.randn(1, 4, 2, 2, generator=gen)] for _ in range(2)]
    coord = torch.tensor([[[0., 0., 1., 1.], [0., 0., 1., 1.]]])
    depth = torch.ones(1, 2, 2, 2)
    depth[0, 1] = 2.  # the filter keeps only the order (view 0, view 1)
    out = head.loss(feats, feats, coord, depth)
    plain = MODELS.build(dict(type='MultiScalePixelHead', in_channels=4))
    plain.load_state_dict(head.state_dict(), strict=False)
    expected = plain.loss(feats, feats, coord)['loss_s0']
    torch.testing.assert_close(out['loss_s1'], expected)
    assert not torch.allclose(out['loss_s0'], expected)
