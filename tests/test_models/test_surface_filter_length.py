"""SurfacePairFilter does not depend on the length of the segment: a
receding floor keeps its far pairs, a step is found on short and long
segments alike, and inverse depth is read as such."""
import pytest
import torch

from projects.depth_pixpro.models.filters import SurfacePairFilter
from projects.depth_pixpro.models.utils import DepthMeta, grid_centers

FULL = torch.tensor([[0., 0., 1., 1.]])
GRID = (7, 7)


def _floor(ratio, size=64):
    """A plane seen from above at a slant: inverse depth affine in the
    image row, depth from 1 (bottom row) to ``ratio`` (top row)."""
    row = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    inverse = 1. / ratio + (1. - 1. / ratio) * row
    return (1. / inverse)[:, None].expand(size, size)[None].float()


def _jump(depth, kinds=('metric', )):
    filt = SurfacePairFilter(thresh=0.05)
    meta = DepthMeta(has_depth=torch.ones(len(kinds), dtype=torch.bool),
                     kinds=tuple(kinds),
                     ranges=torch.full((len(kinds), 2), float('nan')),
                     paths=(None, ) * len(kinds))
    grid = filt.on_grid(filt.per_view(depth, FULL, meta), GRID)
    stat, valid = filt.pair_statistic(grid, grid)
    return stat[0], filt.keep(stat, valid, filt.thresh)[0]


@pytest.mark.parametrize('ratio', [2., 3., 5.])
def test_receding_floor_keeps_pairs_of_any_length(ratio):
    # with 16 plain neighbour ratios, tau 0.05 failed past a ratio of 2.16
    jump, keep = _jump(_floor(ratio))
    assert keep.all(), f'{(~keep).sum()} pairs on one plane dropped'
    assert float(jump.max()) < 0.05


def test_step_is_found_on_short_and_long_segments():
    depth = _floor(3.).clone()
    depth[:, :32] *= 1.15  # a 13 % step in depth at the middle row
    _, keep = _jump(depth)
    _, cy = grid_centers(FULL, GRID)
    upper = cy[0] < 0.5
    crossing = upper[:, None] != upper[None, :]
    rows = torch.arange(49) // 7
    gap = (rows[:, None] - rows[None, :]).abs()
    assert not keep[crossing].any()
    # short (neighbouring rows) and long (top to bottom) crossing pairs
    assert crossing[gap == 1].any() and crossing[gap == 6].any()
    assert keep[~crossing].all()


def test_inverse_depth_is_read_as_inverse_depth():
    # the floor stored as inverse depth (a disparity-like map): affine on
    # the plane itself
    depth = _floor(5.)
    _, keep = _jump(1. / depth, kinds=('inverse', ))
    assert keep.all()
    # read as depth, the same values bend: long pairs fail
    _, keep = _jump(1. / depth, kinds=('scale_free', ))
    assert not keep.all()
