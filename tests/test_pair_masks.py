"""The positive masks have one owner: the head, the visualisation and the
hook all get theirs from ``positive_pair_masks`` / ``PairTests``."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from projects.depth_pixpro.engine.hooks import PairVisualizationHook
from projects.depth_pixpro.models.heads import (multi_scale_pixel_head,
                                                positive_pair_masks,
                                                positive_pairs)
from projects.depth_pixpro.models.utils import (depth_positive_mask,
                                                masked_cosine_loss,
                                                pixel_cosine_similarity,
                                                pool_depth,
                                                spatial_positive_mask)
from projects.depth_pixpro.visualization import pair_counts

FILTERS = [dict(type='DepthPairFilter', thresh=0.2),
           dict(type='NormalPairFilter', max_angle_deg=40)]
SCALES = [dict(level=0, spatial_thresh=0.9),
          dict(level=1, spatial_thresh=0.7, weight=0.5, depth_thresh=0.1),
          dict(level=1, spatial_thresh=1.5, weight=2.,
               normal_max_angle=float('inf'))]
GRIDS = ((6, 6), (3, 3))


def two_level_batch(n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    proj = [[[torch.randn(n, 8, *grid, generator=gen) for grid in GRIDS]
             for _ in range(2)] for _ in range(2)]
    x0 = torch.rand(n, 2, generator=gen) * 0.4
    y0 = torch.rand(n, 2, generator=gen) * 0.4
    coord = torch.stack([x0, y0, x0 + 0.6, y0 + 0.6], dim=-1)
    coord[0, 1] = coord[0, 1, [2, 1, 0, 3]]  # a flipped view
    depth = 1 + 3 * torch.rand(n, 2, 24, 24, generator=gen)
    depth[1, 0, :6] = 0  # an invalid region
    return proj[0], proj[1], coord, depth


def build_head(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='MultiScalePixelHead', in_channels=8, levels=2,
               scales=SCALES, filters=FILTERS)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_loss_trains_on_the_public_masks():
    head = build_head()
    online, target, coord, depth = two_level_batch()
    losses = head.loss(online, target, coord, depth)
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
    head = build_head()
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
    head = build_head()
    for filt in head.filters:
        for name in ('per_view', 'on_grid', 'pair_statistic'):
            original = getattr(filt, name)

            def wrapper(*args, _name=name, _original=original, **kwargs):
                calls[_name] = calls.get(_name, 0) + 1
                return _original(*args, **kwargs)

            setattr(filt, name, wrapper)
    online, target, coord, depth = two_level_batch()
    head.loss(online, target, coord, depth)
    levels, views, filters = 2, 2, 2
    assert calls == {
        'normalized_center_distance': levels * 2,
        'pixel_cosine_similarity': levels * 2,
        'per_view': views * filters,
        'on_grid': levels * views * filters,
        'pair_statistic': levels * 2 * filters,
    }


class NoBackbone(nn.Module):
    """Stands for a backbone that must not run."""

    def forward(self, *args):
        raise AssertionError('the hook ran a backbone pass')


def collated_batch(coord, depth, hw=(48, 48)):
    samples = []
    for i in range(len(coord)):
        sample = DataSample()
        sample.set_field(coord[i], 'coord')
        sample.set_field(depth[i], 'depth')
        samples.append(sample)
    views = [torch.randint(0, 255, (len(coord), 3, *hw), dtype=torch.uint8)
             for _ in range(2)]
    return dict(inputs=views, data_samples=samples)


def test_hook_draws_the_head_masks_without_a_backbone_pass():
    model = nn.Module()
    model.backbone = NoBackbone()
    model.head = build_head()
    online, target, coord, depth = two_level_batch(n=2)
    hook = PairVisualizationHook(max_samples=2, scale_index=1)
    batch = collated_batch(coord, depth)
    with pytest.raises(RuntimeError, match='not computed a loss'):
        hook.draw_batch(model, batch)
    model.head.loss(online, target, coord, depth)
    images = hook.draw_batch(model, batch)
    assert sorted(images) == ['pairs_0', 'pairs_1']
    assert all(isinstance(img, np.ndarray) and img.ndim == 3
               and img.dtype == np.uint8 for img in images.values())
    # the counts it logs are those of the head's masks at its grid (3x3)
    pairs = positive_pair_masks(coord, depth, GRIDS[1], model.head.scales[1],
                                model.head.filters)
    expected = [pair_counts(pairs, i) for i in range(2)]
    assert hook._last_counts == {
        f'pairs/{name}': (expected[0][name] + expected[1][name]) / 2
        for name in pairs.names
    }
    assert hook._last_counts['pairs/final'] < \
        hook._last_counts['pairs/spatial']


def test_pixpro_scales_is_the_head_default():
    from projects.depth_pixpro.models.heads import PIXPRO_SCALES
    head = MODELS.build(dict(type='MultiScalePixelHead', in_channels=8))
    assert PIXPRO_SCALES == (dict(level=-1, spatial_thresh=0.7,
                                  weight=1.0), )
    assert head.scales == [dict(level=0, spatial_thresh=0.7, weight=1.0)]
