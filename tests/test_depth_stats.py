"""Cell depth statistics (mean / median / centre) against brute-force loops,
and DepthPairFilter's ``pool`` argument."""
import math

import pytest
import torch

from projects.depth_pixpro.models.utils.depth_stats import (CELL_STATS,
                                                            adaptive_bins,
                                                            cell_depth,
                                                            center_depth,
                                                            median_pool_depth)


def _bin(i, length, bins):
    return (i * length) // bins, -((-(i + 1) * length) // bins)


def _brute_cells(depth, size, stat):
    """One value per adaptive-pool cell, from Python loops."""
    n, h, w = depth.shape
    out = torch.zeros(n, *size, dtype=torch.float64)
    for b in range(n):
        for i in range(size[0]):
            for j in range(size[1]):
                if stat == 'center':
                    r = math.floor((i + 0.5) * h / size[0])
                    c = math.floor((j + 0.5) * w / size[1])
                    out[b, i, j] = max(float(depth[b, r, c]), 0.)
                    continue
                r0, r1 = _bin(i, h, size[0])
                c0, c1 = _bin(j, w, size[1])
                values = sorted(
                    float(depth[b, r, c]) for r in range(r0, r1)
                    for c in range(c0, c1) if float(depth[b, r, c]) > 0)
                if not values:
                    continue
                if stat == 'median':  # lower median
                    out[b, i, j] = values[(len(values) - 1) // 2]
                else:
                    out[b, i, j] = sum(values) / len(values)
    return out


def _random_depth(n, h, w, holes=0.3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    depth = torch.rand(n, h, w, generator=gen, dtype=torch.float64) * 5 + 0.5
    depth[torch.rand(n, h, w, generator=gen) < holes] = 0.
    return depth


@pytest.mark.parametrize('stat', CELL_STATS)
@pytest.mark.parametrize('hw,size', [((12, 16), (3, 4)), ((13, 11), (4, 3)),
                                     ((7, 9), (7, 2)), ((5, 5), (2, 2))])
def test_cell_statistics_match_loops(stat, hw, size):
    depth = _random_depth(2, *hw, seed=hw[0] * 31 + size[0])
    depth[0, :, :] = 0.  # an image without depth: every cell invalid
    depth[1, :hw[0] // size[0] + 1, :hw[1] // size[1] + 1] = 0.  # a hole
    got = cell_depth(depth, size, stat).double()
    want = _brute_cells(depth, size, stat)
    assert got.shape == (2, *size)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    assert (got[0] == 0).all()


def test_adaptive_bins_are_those_of_adaptive_avg_pool():
    x = torch.arange(13.)[None, None, :, None].expand(1, 1, 13, 1)
    want = torch.nn.functional.adaptive_avg_pool2d(x, (4, 1))[0, 0, :, 0]
    index, inside = adaptive_bins(13, 4)
    got = (index.float() * inside).sum(1) / inside.sum(1)
    torch.testing.assert_close(got, want)


def test_median_and_center_stay_on_a_surface_the_mean_leaves():
    # A cell half at 1 m, half at 3 m: the mean (2 m) is on neither surface.
    depth = torch.ones(1, 4, 4)
    depth[:, :, 2:] = 3.
    depth[:, 0, 0] = 0.  # a hole does not drag the statistic towards 0
    assert float(cell_depth(depth, (1, 1), 'mean')) == pytest.approx(
        (1 * 7 + 3 * 8) / 15)
    assert float(median_pool_depth(depth, (1, 1))) == 3.  # 7 x 1, 8 x 3
    assert float(center_depth(depth, (1, 1))) == 3.  # pixel (2, 2)
    assert float(center_depth(depth, (2, 2))[0, 0, 0]) == 1.  # pixel (1, 1)


def test_nan_and_negative_depth_are_invalid():
    depth = torch.tensor([[[float('nan'), -1.], [2., 4.]]])
    assert float(median_pool_depth(depth, (1, 1))) == 2.
    assert float(center_depth(depth, (2, 2))[0, 0, 0]) == 0.
    with pytest.raises(ValueError, match='pool must be one of'):
        cell_depth(depth, (1, 1), 'max')


def test_depth_pair_filter_pool_argument():
    from projects.depth_pixpro.models.filters import DepthPairFilter
    depth = _random_depth(1, 6, 6).float()
    means = cell_depth(depth, (2, 2), 'mean')
    for pool in ('median', 'center'):  # the statistics differ here
        assert not torch.equal(cell_depth(depth, (2, 2), pool), means)
    coord = torch.tensor([[0., 0., 1., 1.]])
    for pool in CELL_STATS:
        filt = DepthPairFilter(thresh=0.1, pool=pool)
        cells = filt.on_grid(filt.per_view(depth, coord), (2, 2))[0]
        torch.testing.assert_close(cells, cell_depth(depth, (2, 2), pool))
    assert DepthPairFilter().pool == 'mean'
    with pytest.raises(ValueError, match='pool'):
        DepthPairFilter(pool='max')
