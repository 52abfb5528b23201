"""The positive masks have one owner (models/heads/positive_pairs.py):
the head trains on them, the visualisation draws them; ties, per-scale
thresholds and the ``imgs_no_pos`` statistic over both view orders."""
import pytest
import torch

from mmpretrain.registry import MODELS
from pair_cases import (FULL, GRIDS, build_two_level_head, head_losses,
                        two_level_batch)
from projects.depth_pixpro.models.filters import BasePairFilter
from projects.depth_pixpro.models.heads import (multi_scale_pixel_head,
                                                positive_pair_masks,
                                                positive_pairs)
from projects.depth_pixpro.models.utils import (depth_positive_mask,
                                                masked_cosine_loss,
                                                pixel_cosine_similarity,
                                                pool_depth,
                                                spatial_positive_mask)


def test_loss_trains_on_the_public_masks():
    head = build_two_level_head()
    online, target, coord, depth = two_level_batch()
    losses = head_losses(head, online, target, coord, depth)
    assert head.grid_sizes == {0: GRIDS[0], 1: GRIDS[1]}
    spatial_counts, final_counts = [], []
    for index, scale in enumerate(head.scales):
        level = scale['level']
        ppm = head.propagations[str(level)]
        expected = 0.
        for q, k in ((0, 1), (1, 0)):
            pairs = positive_pair_masks(coord, depth, GRIDS[level], scale,
                                        head.filters, views=(q, k))
            cos = pixel_cosine_similarity(ppm(online[q][level]),
                                          target[k][level])
            expected = expected + masked_cosine_loss(cos, pairs.final)
            if index == 0:
                spatial_counts.append(pairs.spatial.sum((1, 2)).float())
                final_counts.append(pairs.final.sum((1, 2)).float())
        torch.testing.assert_close(losses[f'loss_s{index}'],
                                   scale['weight'] * expected)
    assert losses['pos_spatial'].item() == pytest.approx(
        torch.stack(spatial_counts).mean().item())
    assert losses['pos_final'].item() == pytest.approx(
        torch.stack(final_counts).mean().item())
    assert losses['pos_final'] < losses['pos_spatial']  # filters bite


def test_public_masks_are_the_contract_functions():
    """Independent of PairTests: spatial AND pooled-depth test, by hand."""
    head = build_two_level_head()
    _, _, coord, depth = two_level_batch()
    scale = head.scales[1]  # depth 0.1, normals 40 degrees
    pairs = positive_pair_masks(coord, depth, (3, 3), scale, head.filters[:1])
    spatial = spatial_positive_mask(coord[:, 0], coord[:, 1], (3, 3), 0.7)
    depth_ok = depth_positive_mask(pool_depth(depth[:, 0], (3, 3)),
                                   pool_depth(depth[:, 1], (3, 3)), 0.1)
    assert pairs.names == ['spatial', 'spatial+depth']
    assert torch.equal(pairs.spatial, spatial)
    assert torch.equal(pairs.final, spatial & depth_ok)
    both = positive_pair_masks(coord, depth, (3, 3), scale, head.filters)
    assert both.names == ['spatial', 'spatial+depth', 'spatial+normal',
                          'final']
    assert torch.equal(both.masks['spatial+depth'], spatial & depth_ok)
    assert torch.equal(both.final, both.masks['spatial+depth']
                       & both.masks['spatial+normal'])
    # no depth: PixPro
    assert positive_pair_masks(coord, None, (3, 3), scale,
                               head.filters).names == ['spatial']


def test_head_shares_the_expensive_work(monkeypatch):
    """Per level and view order one distance and one cosine matrix and one
    statistic per filter; per view one level-independent pass."""
    calls = {}

    def counting(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(positive_pairs, 'normalized_center_distance')
    counting(multi_scale_pixel_head, 'pixel_cosine_similarity')
    head = build_two_level_head()
    for filt in head.filters:
        for name in ('per_view', 'on_grid', 'pair_statistic'):
            original = getattr(filt, name)

            def wrapper(*args, _name=name, _original=original, **kwargs):
                calls[_name] = calls.get(_name, 0) + 1
                return _original(*args, **kwargs)

            setattr(filt, name, wrapper)
    online, target, coord, depth = two_level_batch()
    head_losses(head, online, target, coord, depth)
    levels, views, filters = 2, 2, 2
    assert calls == {
        'normalized_center_distance': levels * 2,
        'pixel_cosine_similarity': levels * 2,
        'per_view': views * filters,
        'on_grid': levels * views * filters,
        'pair_statistic': levels * 2 * filters,
    }


def test_pixpro_scales_is_the_head_default():
    from projects.depth_pixpro.models.heads import PIXPRO_SCALES
    head = MODELS.build(dict(type='MultiScalePixelHead', in_channels=8))
    assert PIXPRO_SCALES == (dict(level=-1, spatial_thresh=0.7,
                                  weight=1.0), )
    assert head.scales == [dict(level=0, spatial_thresh=0.7, weight=1.0)]


def test_head_excludes_a_pair_tied_with_the_threshold():
    head = MODELS.build(dict(type='MultiScalePixelHead', in_channels=4,
                             scales=[dict(spatial_thresh=1.0)]))
    gen = torch.Generator().manual_seed(0)
    feats = [[torch.randn(1, 4, 4, 4, generator=gen)] for _ in range(2)]
    coord = torch.stack([FULL, FULL], dim=1)  # [1, 2, 4]
    out = head_losses(head, feats, feats, coord)
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
    out = head_losses(head, feats, feats, coord, depth)
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
    out = head_losses(head, feats, feats, coord, depth)
    plain = MODELS.build(dict(type='MultiScalePixelHead', in_channels=4))
    plain.load_state_dict(head.state_dict(), strict=False)
    expected = head_losses(plain, feats, feats, coord)['loss_s0']
    torch.testing.assert_close(out['loss_s1'], expected)
    assert not torch.allclose(out['loss_s0'], expected)
