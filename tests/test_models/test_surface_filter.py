"""Same-surface test (SurfacePairFilter) against a brute-force loop, and on
the two scenes it exists for: a slanted floor and a small step."""
import math

import pytest
import torch

from pair_cases import head_losses
from projects.depth_pixpro.models.filters import (DepthPairFilter,
                                                  SurfacePairFilter)
from projects.depth_pixpro.models.heads.positive_pairs import (
    PositivePairs, positive_pair_masks)
from projects.depth_pixpro.models.utils import (grid_centers,
                                                max_relative_jump,
                                                segment_depth_jump)


def _lookup(depth, coord, x, y, clamp=False):
    """Depth of a view at an original-image point; None outside its crop
    unless ``clamp`` (then the nearest pixel of the view)."""
    h, w = depth.shape
    u = (x - coord[0]) / (coord[2] - coord[0])
    v = (y - coord[1]) / (coord[3] - coord[1])
    if not (0 <= u <= 1 and 0 <= v <= 1) and not clamp:
        return None
    col = min(max(math.floor(u * w), 0), w - 1)
    row = min(max(math.floor(v * h), 0), h - 1)
    return max(float(depth[row, col]), 0.)


def _canvas(depth_q, cq, depth_k, ck, size):
    """The union box of both crops on a size x size canvas, from loops."""
    xs, ys = [cq[0], cq[2], ck[0], ck[2]], [cq[1], cq[3], ck[1], ck[3]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    canvas = [[0.] * size for _ in range(size)]
    for r in range(size):
        for c in range(size):
            x = x0 + (c + 0.5) / size * (x1 - x0)
            y = y0 + (r + 0.5) / size * (y1 - y0)
            z = _lookup(depth_q, cq, x, y)
            if z is None:  # key view; nearest pixel if outside
                z = _lookup(depth_k, ck, x, y, clamp=True)
            canvas[r][c] = z
    return canvas, (x0, x1, y0, y1)


def _brute_jump(depth_q, coord_q, depth_k, coord_k, size, num_samples,
                canvas_size):
    n = depth_q.size(0)
    hw = size[0] * size[1]
    jump = torch.zeros(n, hw, hw, dtype=torch.float64)
    valid = torch.zeros(n, hw, hw, dtype=torch.bool)
    qx, qy = grid_centers(coord_q, size)
    kx, ky = grid_centers(coord_k, size)
    for b in range(n):
        canvas, (x0, x1, y0, y1) = _canvas(depth_q[b], coord_q[b].tolist(),
                                           depth_k[b], coord_k[b].tolist(),
                                           canvas_size)
        for i in range(hw):
            for j in range(hw):
                xa, ya = float(qx[b, i]), float(qy[b, i])
                xb, yb = float(kx[b, j]), float(ky[b, j])
                samples = []
                for s in range(num_samples):
                    t = s / (num_samples - 1)
                    x, y = xa + t * (xb - xa), ya + t * (yb - ya)
                    c = math.floor((x - x0) / (x1 - x0) * canvas_size)
                    r = math.floor((y - y0) / (y1 - y0) * canvas_size)
                    c = min(max(c, 0), canvas_size - 1)
                    r = min(max(r, 0), canvas_size - 1)
                    samples.append(canvas[r][c])
                valid[b, i, j] = samples[0] > 0 and samples[-1] > 0
                jump[b, i, j] = _trend_free_jump(samples)
    return jump, valid


def _trend_free_jump(samples, inverse=False):
    """Each step of inverse depth between neighbouring known samples
    (0 = unknown) against the trend of the rest of the segment (first to
    last known sample, without the step), relative to the larger depth;
    the largest (written out for one segment)."""
    known = [(i, z if inverse else 1. / z) for i, z in enumerate(samples)
             if z > 0]
    if len(known) < 2:
        return 0.
    (i0, q0), (i1, q1) = known[0], known[-1]
    change, length = q1 - q0, i1 - i0
    worst = 0.
    for (ia, qa), (ib, qb) in zip(known[:-1], known[1:]):
        dq, k, top = qb - qa, ib - ia, max(qa, qb)
        if length > k:
            trend = (change - dq) / (length - k)
            worst = max(worst, abs(dq - k * trend) / top)
        else:
            worst = max(worst, abs(dq) / top)
    return worst


def test_segment_jump_matches_loops():
    gen = torch.Generator().manual_seed(0)
    # Dyadic boxes and sample spacings keep every pixel lookup exact.
    coord_q = torch.tensor([[0., 0., 1., 1.], [0.75, 0.125, 0.25, 0.625]],
                           dtype=torch.float64)  # second: flipped
    coord_k = torch.tensor([[0.25, 0.25, 0.75, 0.75], [0., 0., 0.5, 1.]],
                           dtype=torch.float64)
    depth_q = torch.rand(2, 8, 16, generator=gen, dtype=torch.float64) + 1
    depth_k = torch.rand(2, 16, 8, generator=gen, dtype=torch.float64) + 1
    depth_q[torch.rand(2, 8, 16, generator=gen) < 0.2] = 0.
    depth_k[torch.rand(2, 16, 8, generator=gen) < 0.2] = 0.
    filled_q, filled_k = depth_q.clamp(min=0.5), depth_k.clamp(min=0.5)
    # with holes (skipped samples), and without (the log-depth fast path)
    for (dq,
         dk), size, samples, canvas in (((depth_q, depth_k), (4, 4), 9, 16),
                                        ((depth_q, depth_k), (2, 4), 5, 32),
                                        ((filled_q, filled_k), (4, 4), 9, 16)):
        got, got_valid = segment_depth_jump(dq, coord_q, dk, coord_k, size,
                                            samples, canvas)
        want, want_valid = _brute_jump(dq, coord_q, dk, coord_k, size, samples,
                                       canvas)
        assert torch.equal(got_valid, want_valid)
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)
        assert got_valid.any()
        assert got_valid.all() == (dq is filled_q)


def test_surface_jump_with_holes_matches_a_loop():
    from projects.depth_pixpro.models.utils import (log_depth,
                                                    max_surface_jump)
    gen = torch.Generator().manual_seed(3)
    depth = torch.rand(6, 9, 7, generator=gen, dtype=torch.float64) + 0.5
    depth[torch.rand(6, 9, 7, generator=gen) < 0.3] = 0.  # holes
    # a plane: inverse depth affine along the segment, depth 5 m -> 1.67 m
    depth[0, :, 0] = 1. / (0.2 + 0.05 * torch.arange(9.))
    inverse = torch.tensor([False, True] * 3)
    for flags in (None, inverse):
        jump, valid = max_surface_jump(
            log_depth(depth), dim=1,
            inverse=None if flags is None else flags[:, None])
        for n in range(6):
            for c in range(7):
                samples = depth[n, :, c].tolist()
                want = _trend_free_jump(
                    samples, flags is not None and bool(flags[n]))
                assert jump[n, c].item() == pytest.approx(want, abs=1e-12)
                assert bool(valid[n, c]) == (samples[0] > 0 and
                                             samples[-1] > 0)
    assert jump[0, 0] < 1e-6 < jump.max()  # (float32 inputs)


def test_walk_equals_the_fast_path_without_holes():
    """The walk (used off the CPU, or with holes) and the CPU fast path
    give the same jumps on the same hole-free segments."""
    from projects.depth_pixpro.models.utils import (log_depth,
                                                    max_surface_jump)
    gen = torch.Generator().manual_seed(3)
    samples = log_depth(torch.rand(2, 5, 7, generator=gen) + 0.5)
    for flags in (None, torch.tensor([[True], [False]])):
        fast = max_surface_jump(samples, dim=1, inverse=flags)
        # one more segment without any depth sends all of them on the walk
        walk = max_surface_jump(torch.cat(
            [samples, samples.new_full((2, 5, 1), -float('inf'))], dim=2),
                                dim=1, inverse=flags)
        torch.testing.assert_close(walk[0][:, :7], fast[0])
        assert torch.equal(walk[1][:, :7], fast[1])
        assert not walk[1][:, 7].any() and not walk[0][:, 7].any()


def test_max_relative_jump_skips_unknown_samples():
    samples = torch.tensor([[2., 0., 0., 3.], [0., 2., 2., 2.],
                            [4., 4., 4., 0.], [0., 0., 0., 0.]])
    jump, valid = max_relative_jump(samples)
    torch.testing.assert_close(jump, torch.tensor([1. / 3, 0., 0., 0.]))
    assert valid.tolist() == [True, False, False, False]


def _view_depth(coord, hw, surface):
    """A view's depth: ``surface(x, y)`` at each pixel centre."""
    h, w = hw
    u = (torch.arange(w, dtype=torch.float64) + 0.5) / w
    v = (torch.arange(h, dtype=torch.float64) + 0.5) / h
    x = coord[0] + u * (coord[2] - coord[0])
    y = coord[1] + v * (coord[3] - coord[1])
    return surface(x[None, :], y[:, None])


def _two_views(surface, hw=(16, 16)):
    coord = torch.tensor([[[0., 0., 1., 1.], [0.75, 0.25, 0.25, 0.75]]],
                         dtype=torch.float64)  # view 2 flipped
    depth = torch.stack([_view_depth(c, hw, surface) for c in coord[0]])
    return coord.float(), depth[None].float()


def test_slanted_floor_keeps_every_spatial_pair():
    # One plane, depth 2 m at the top to 4 m at the bottom: no edge (3 %
    # per pixel of the 32-pixel views, 7 % per sample on the longest
    # segment).
    coord, depth = _two_views(lambda x, y: 2. + 2. * y + 0. * x, (32, 32))
    scale = dict(spatial_thresh=2.8, surface_thresh=0.1, depth_thresh=0.1)
    surface = positive_pair_masks(coord, depth, (4, 4), scale,
                                  [SurfacePairFilter()])
    relative = positive_pair_masks(coord, depth, (4, 4), scale,
                                   [DepthPairFilter()])
    assert surface.spatial.sum() > 0
    assert torch.equal(surface.final, surface.spatial)
    # the relative test wrongly drops pairs of this one surface
    assert relative.final.sum() < relative.spatial.sum()


def test_small_step_removes_exactly_the_straddling_pairs():
    # Two fronto-parallel planes, 2.0 m left of x = 0.5 and 2.2 m right of
    # it: a 9 % step, under the relative test's 10 %.
    coord, depth = _two_views(
        lambda x, y: torch.where(x >= 0.5, 2.2, 2.0) + 0. * y)
    scale = dict(spatial_thresh=2.8, surface_thresh=0.05, depth_thresh=0.1)
    surface = positive_pair_masks(coord, depth, (4, 4), scale,
                                  [SurfacePairFilter(num_samples=8)])
    relative = positive_pair_masks(coord, depth, (4, 4), scale,
                                   [DepthPairFilter()])
    qx, _ = grid_centers(coord[:, 0], (4, 4))
    kx, _ = grid_centers(coord[:, 1], (4, 4))
    same_side = (qx[:, :, None] >= 0.5) == (kx[:, None, :] >= 0.5)
    spatial = surface.spatial
    assert (spatial & ~same_side).sum() > 0 and (spatial & same_side).sum()
    assert torch.equal(surface.final, spatial & same_side)
    assert torch.equal(relative.final, spatial)  # the step goes unseen


def test_invalid_centres_follow_the_policy_and_thresholds():
    coord, depth = _two_views(lambda x, y: 2. + 0. * x + 0. * y)
    depth[:, 0] = 0.  # no depth in view 1
    scale = dict(spatial_thresh=2.8, surface_thresh=0.05)
    passed = positive_pair_masks(coord, depth, (4, 4), scale,
                                 [SurfacePairFilter(invalid='pass')])
    rejected = positive_pair_masks(coord, depth, (4, 4), scale,
                                   [SurfacePairFilter(invalid='reject')])
    assert torch.equal(passed.final, passed.spatial)
    assert rejected.final.sum() == 0
    with pytest.raises(ValueError, match='num_samples'):
        SurfacePairFilter(num_samples=1)
    for bad in (0., -0.1, float('nan')):
        with pytest.raises(ValueError, match='thresh'):
            SurfacePairFilter(thresh=bad)
    assert passed.names == ['spatial', 'spatial+surface']


def test_second_view_order_reuses_the_transposed_statistic():
    """The batch's pairs compute the symmetric test once per pair of views;
    the filter itself keeps no state: each direct call computes afresh."""
    coord, depth = _two_views(lambda x, y: torch.where(x >= 0.5, 2.2, 2.0) + y)
    other = depth.flip(-1)
    filt = SurfacePairFilter()
    assert filt.symmetric
    pairs = PositivePairs(coord, depth, [filt])
    first = pairs.statistic(0, (0, 1), (4, 4))
    second = pairs.statistic(0, (1, 0), (4, 4))
    assert torch.equal(second[0], first[0].transpose(1, 2))
    assert torch.equal(second[1], first[1].transpose(1, 2))
    grids = [
        filt.on_grid(filt.per_view(d, coord[:, v]), (4, 4))
        for v, d in ((0, depth[:, 0]), (1, depth[:, 1]), (0, other[:, 0]))
    ]
    direct = filt.pair_statistic(grids[1], grids[0])
    want = segment_depth_jump(depth[:, 1], coord[:, 1], depth[:, 0],
                              coord[:, 0], (4, 4), filt.num_samples)
    assert torch.equal(direct[0], want[0])
    # (the canvas reads the query view first: the direct second order is
    # not exactly the transpose, so the reuse above is a choice, not a no-op)
    assert not torch.equal(direct[0], second[0])
    fresh = filt.pair_statistic(grids[2], grids[1])
    want = segment_depth_jump(other[:, 0], coord[:, 0], depth[:, 1],
                              coord[:, 1], (4, 4), filt.num_samples)
    assert torch.equal(fresh[0], want[0])
    assert not torch.equal(fresh[0], first[0])


def test_head_trains_with_the_surface_filter():
    from mmpretrain.registry import MODELS
    head = MODELS.build(
        dict(type='MultiScalePixelHead',
             in_channels=8,
             scales=[
                 dict(spatial_thresh=0.7, surface_thresh=0.05),
                 dict(spatial_thresh=2.8)
             ],
             filters=[dict(type='SurfacePairFilter', thresh=0.1)]))
    coord, depth = _two_views(
        lambda x, y: torch.where(x >= 0.5, 2.2, 2.0) + 0. * y)
    gen = torch.Generator().manual_seed(0)
    online = [[torch.randn(1, 8, 4, 4, generator=gen, requires_grad=True)]
              for _ in range(2)]
    target = [[torch.randn(1, 8, 4, 4, generator=gen)] for _ in range(2)]
    losses = head_losses(head, online, target, coord, depth)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert torch.isfinite(losses['loss_s0'])
    assert 0 < float(losses['removed_by_filters']) < 1
