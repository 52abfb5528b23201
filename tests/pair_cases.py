"""Heads and batches shared by the tests of the positive pairs, the head
and the hooks that draw or check them."""
import torch

from mmpretrain.registry import MODELS
from projects.depth_pixpro.models.algorithms import pixel_losses

#: The crop box of a whole, unflipped image, as a batch of one.
FULL = torch.tensor([[0., 0., 1., 1.]])

#: A depth and a normal filter, and three scales on two levels with
#: per-scale overrides (one turning the normal filter off).
FILTERS = [dict(type='DepthPairFilter', thresh=0.2),
           dict(type='NormalPairFilter', max_angle_deg=40)]
SCALES = [dict(level=0, spatial_thresh=0.9),
          dict(level=1, spatial_thresh=0.7, weight=0.5, depth_thresh=0.1),
          dict(level=1, spatial_thresh=1.5, weight=2.,
               normal_max_angle=float('inf'))]
GRIDS = ((6, 6), (3, 3))


def two_level_batch(n=3, seed=0):
    """Online and target projections on :data:`GRIDS`, crop boxes (one
    flipped view) and depth with an invalid region."""
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


def build_two_level_head(**kwargs):
    """A head with :data:`FILTERS` and :data:`SCALES` on 8 channels."""
    torch.manual_seed(0)
    cfg = dict(type='MultiScalePixelHead', in_channels=8, levels=2,
               scales=SCALES, filters=FILTERS)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def build_filter_head(filters, **kwargs):
    """A one-level head with ``filters`` and one scale at T = 1."""
    torch.manual_seed(0)
    cfg = dict(type='MultiScalePixelHead', in_channels=8, filters=filters,
               scales=[dict(spatial_thresh=1.0)])
    cfg.update(kwargs)
    return MODELS.build(cfg)


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


def head_losses(head, online, target, coord, depth=None, depth_meta=None):
    """What ``DepthPixPro.loss`` takes from its pixel head: the losses of
    both view orders summed, and the pair statistics."""
    return pixel_losses(head, online, target,
                        head.positive_pairs(coord, depth, depth_meta))
