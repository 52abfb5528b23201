"""The pair figures draw the head's masks: masks equal to the contract,
several filters, counts, the telling query cell, and partners drawn where
the masks say."""
import numpy as np
import pytest
import torch

from pair_cases import head_losses
from projects.depth_pixpro.models.filters import (DepthPairFilter,
                                                  NormalPairFilter)
from projects.depth_pixpro.models.heads import MultiScalePixelHead
from projects.depth_pixpro.models.utils import (depth_positive_mask,
                                                pool_depth,
                                                spatial_positive_mask)
from projects.depth_pixpro.visualization import (build_pair_figure,
                                                 compute_pair_masks,
                                                 draw_pair_figure,
                                                 select_query_cell)


# ------------------------------------------------------------ pair masks
def _random_batch(n=3, size=(4, 5), seed=0):
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.rand(n, 2, generator=gen) * 0.4
    y0 = torch.rand(n, 2, generator=gen) * 0.4
    coord = torch.stack([x0, y0, x0 + 0.5, y0 + 0.6], dim=-1)  # [n, 2, 4]
    coord[0, 1] = coord[0, 1, [2, 1, 0, 3]]  # one flipped view
    depth = 1 + 3 * torch.rand(n, 2, 16, 20, generator=gen)
    depth[1, 0, :8] = 0  # invalid region
    return coord, depth


def test_pair_masks_equal_contract():
    coord, depth = _random_batch()
    size = (4, 5)
    pairs = compute_pair_masks(coord, depth, size, 0.9,
                               [DepthPairFilter(thresh=0.2)])
    assert pairs.names == ['spatial', 'spatial+depth']
    spatial = spatial_positive_mask(coord[:, 0], coord[:, 1], size, 0.9)
    depth_ok = depth_positive_mask(
        pool_depth(depth[:, 0], size), pool_depth(depth[:, 1], size), 0.2,
        mode='relative', invalid='pass')
    assert torch.equal(pairs.masks['spatial'], spatial)
    assert torch.equal(pairs.masks['spatial+depth'], spatial & depth_ok)
    # the depth test really removes pairs here (non-vacuous comparison)
    assert pairs.masks['spatial+depth'].sum() < spatial.sum()
    # reverse view order = transposed masks
    back = compute_pair_masks(coord, depth, size, 0.9,
                              [DepthPairFilter(thresh=0.2)], views=(1, 0))
    assert torch.equal(back.masks['spatial+depth'],
                       pairs.masks['spatial+depth'].transpose(1, 2))


def test_pair_masks_several_filters_and_no_depth():
    coord, depth = _random_batch()
    filters = [DepthPairFilter(thresh=0.2), NormalPairFilter(30.)]
    pairs = compute_pair_masks(coord, depth, (4, 5), 1.4, filters)
    assert pairs.names == ['spatial', 'spatial+depth', 'spatial+normal',
                           'final']
    assert torch.equal(
        pairs.masks['final'],
        pairs.masks['spatial+depth'] & pairs.masks['spatial+normal'])
    # per-scale override disables the depth filter (inf), like the head
    off = compute_pair_masks(coord, depth, (4, 5), 1.4, filters,
                             scale=dict(depth_thresh=float('inf')))
    assert off.names == ['spatial', 'spatial+normal']
    # without depth the filters do not apply (PixPro)
    assert compute_pair_masks(coord, None, (4, 5), 1.4,
                              filters).names == ['spatial']


def test_pair_counts_match_head_statistics():
    """The tool's masks are the head's positives: same pair counts."""
    coord, depth = _random_batch(n=2, size=(4, 4), seed=3)
    depth = depth[..., :16, :16]
    head = MultiScalePixelHead(
        in_channels=8,
        scales=[dict(spatial_thresh=1.0, depth_thresh=0.15)],
        filters=[dict(type='DepthPairFilter', thresh=0.3)])
    proj = [[torch.randn(2, 8, 4, 4)] for _ in range(2)]
    stats = head_losses(head, proj, proj, coord, depth)
    spatial, final = [], []
    for views in ((0, 1), (1, 0)):
        pairs = compute_pair_masks(coord, depth, (4, 4), 1.0, head.filters,
                                   head.scales[0], views=views)
        spatial.append(pairs.masks['spatial'].sum((1, 2)).float())
        final.append(pairs.final.sum((1, 2)).float())
    assert torch.stack(spatial).mean() == pytest.approx(
        float(stats['pos_spatial']))
    assert torch.stack(final).mean() == pytest.approx(
        float(stats['pos_final']))
    assert float(stats['pos_final']) < float(stats['pos_spatial'])


def test_select_query_cell_hand_case():
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 1, :3] = True  # cell 1: 3 spatial partners
    mask[0, 2, :2] = True  # cell 2: 2 spatial partners, filter removes 2
    final = mask.clone()
    final[0, 2] = False
    from projects.depth_pixpro.models.heads import PairMasks
    pairs = PairMasks({'spatial': mask, 'spatial+depth': final}, (2, 2))
    assert select_query_cell(pairs) == (1, 0)  # index 2 = row 1, col 0
    pairs = PairMasks({'spatial': mask, 'spatial+depth': mask}, (2, 2))
    assert select_query_cell(pairs) == (0, 1)  # most spatial partners
    empty = torch.zeros_like(mask)
    assert select_query_cell(PairMasks({'spatial': empty}, (2, 2))) == (1, 1)


def _drawn_partners(fig, column, n_cols, img_hw, size):
    """Grid cells of the green partner patches of one panel."""
    ax = fig.axes[column]
    cells = set()
    for patch in ax.patches:
        if patch.get_facecolor()[:3] == (0., 1., 0.):  # lime
            x, y = patch.get_xy()
            cells.add((round((y + 0.5) / (img_hw[0] / size[0])),
                       round((x + 0.5) / (img_hw[1] / size[1]))))
    return cells


def test_draw_pair_figure_partners_are_the_masks():
    coord, depth = _random_batch()
    size = (4, 5)
    pairs = compute_pair_masks(coord, depth, size, 0.9,
                               [DepthPairFilter(thresh=0.2)])
    images = [np.full((32, 40, 3), 128, np.uint8)] * 2
    for sample in range(3):
        cell = select_query_cell(pairs, sample)
        fig = build_pair_figure(images, depth[sample].numpy(), pairs, cell,
                                sample=sample)
        query = cell[0] * size[1] + cell[1]
        for column, name in enumerate(pairs.names, start=1):
            expected = {divmod(int(i), size[1]) for i in torch.nonzero(
                pairs.masks[name][sample, query]).flatten()}
            assert _drawn_partners(fig, column, 3, (32, 40), size) == \
                expected
            # depth row: same overlay
            assert _drawn_partners(fig, 3 + column, 3, (32, 40), size) == \
                expected
    assert any(pairs.masks['spatial+depth'].flatten(1).any(1))
    drawn = draw_pair_figure(images, depth[0].numpy(), pairs, (0, 0),
                             dpi=50)
    assert drawn.shape == (265, 360, 3)
    drawn = draw_pair_figure(images, None, pairs, (0, 0), dpi=50)
    assert drawn.shape == (145, 360, 3)
    with pytest.raises(ValueError, match='outside'):
        draw_pair_figure(images, None, pairs, (4, 0))
