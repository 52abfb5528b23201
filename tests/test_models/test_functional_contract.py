"""The public functional contract (design.md, "The math") against
brute-force loops over pixel pairs, its exact edge cases (a pair tied with
the spatial threshold is not a positive), and training's loss as the
contract composed."""
import math

import pytest
import torch

from mmpretrain.registry import MODELS
from pair_cases import FULL
from pair_cases import GRIDS as TWO_LEVEL_GRIDS
from pair_cases import tie_case, two_level_batch
from projects.depth_pixpro.models.algorithms import pixel_losses
from projects.depth_pixpro.models.utils import (
    depth_positive_mask, grid_centers, masked_cosine_loss,
    normalized_center_distance, pixel_consistency_loss,
    pixel_cosine_similarity, pool_depth, spatial_positive_mask)


GRIDS = [(3, 3), (4, 6), (5, 2)]


# Second box of each pair is horizontally flipped (x_ul > x_lr).
COORDS_Q = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.10, 0.20, 0.70, 0.90],
                         [0.60, 0.10, 0.05, 0.80]])


COORDS_K = torch.tensor([[0.25, 0.25, 0.75, 0.75], [0.90, 0.00, 0.30, 0.50],
                         [0.00, 0.30, 0.95, 0.95]])


def ref_centers(box, size):
    """Bin centres by explicit loops, h-major."""
    height, width = size
    x_ul, y_ul, x_lr, y_lr = box.tolist()
    bw, bh = (x_lr - x_ul) / width, (y_lr - y_ul) / height
    cx, cy = [], []
    for h in range(height):
        for w in range(width):
            cx.append((w + 0.5) * bw + x_ul)
            cy.append((h + 0.5) * bh + y_ul)
    return cx, cy, math.hypot(bw, bh)


def ref_ratio(box_q, box_k, size):
    """dist(c_i, c_j) / max bin diagonal, by loops, float64."""
    qx, qy, dq = ref_centers(box_q, size)
    kx, ky, dk = ref_centers(box_k, size)
    n = len(qx)
    out = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for j in range(n):
            d = math.hypot(qx[i] - kx[j], qy[i] - ky[j])
            out[i, j] = d / max(dq, dk)
    return out


def ref_depth_pair(zi, zj, thresh, mode, invalid, image_range):
    if zi <= 0 or zj <= 0:
        if invalid == 'far':  # invalid = infinitely far
            return zi <= 0 and zj <= 0
        return invalid == 'pass'
    if mode == 'relative':
        return abs(zi - zj) / max(zi, zj) < thresh
    if mode == 'absolute':
        return abs(zi - zj) < thresh
    lo, hi = image_range  # the whole image's range, never the crop's
    return abs((zi - lo) / (hi - lo) - (zj - lo) / (hi - lo)) < thresh


@pytest.mark.parametrize('size', GRIDS)
def test_grid_centers_match_loops(size):
    cx, cy = grid_centers(COORDS_Q, size)
    assert cx.shape == (3, size[0] * size[1])
    for n in range(3):
        rx, ry, _ = ref_centers(COORDS_Q[n], size)
        torch.testing.assert_close(cx[n], torch.tensor(rx))
        torch.testing.assert_close(cy[n], torch.tensor(ry))


def test_grid_centers_of_full_image_2x2():
    cx, cy = grid_centers(torch.tensor([[0., 0., 1., 1.]]), (2, 2))
    assert cx.tolist() == [[0.25, 0.75, 0.25, 0.75]]
    assert cy.tolist() == [[0.25, 0.25, 0.75, 0.75]]


@pytest.mark.parametrize('size', GRIDS)
@pytest.mark.parametrize('thresh', [0.7, 1.2, 2.0])
def test_spatial_mask_matches_loops(size, thresh):
    mask = spatial_positive_mask(COORDS_Q, COORDS_K, size, thresh)
    hw = size[0] * size[1]
    assert mask.dtype == torch.bool and mask.shape == (3, hw, hw)
    for n in range(3):
        ratio = ref_ratio(COORDS_Q[n], COORDS_K[n], size)
        ref = ratio < thresh
        # float32 vs float64: pairs tied with the threshold may go either way.
        clear = (ratio - thresh).abs() > 1e-5
        assert torch.equal(mask[n][clear], ref[clear]), n
        assert clear.float().mean() > 0.8
    # the cases are informative: some positives, some negatives.
    assert mask.any() and not mask.all()


def test_flip_mirrors_positions():
    box = torch.tensor([[0.1, 0.2, 0.7, 0.9]])
    flipped = box[:, [2, 1, 0, 3]]
    cx, _ = grid_centers(box, (3, 4))
    fx, _ = grid_centers(flipped, (3, 4))
    # column w of the flipped view is column W-1-w of the original.
    torch.testing.assert_close(
        fx.view(3, 4), cx.view(3, 4).flip(-1))
    # a view and its own flip: positives exactly at mirrored bins.
    mask = spatial_positive_mask(box, flipped, (3, 4), 0.01)[0]
    for i in range(12):
        h, w = divmod(i, 4)
        assert mask[i].nonzero().flatten().tolist() == [h * 4 + (3 - w)]


def test_identical_views_square_bins_give_diagonal():
    # square bins: a neighbour is 1/sqrt(2) = 0.707 diagonals away > 0.7.
    box = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    ncd = normalized_center_distance(box, box, (4, 4))
    assert ncd[0, 0, 1].item() == pytest.approx(2**-0.5)
    assert torch.equal(ncd[0] < 0.7, torch.eye(16, dtype=torch.bool))


def ref_pool(depth, size):
    """Valid-aware mean over adaptive-pool bins, by loops."""
    height, width = size
    h_in, w_in = depth.shape
    out = torch.zeros(height, width)
    for i in range(height):
        r0, r1 = (i * h_in) // height, -((-(i + 1) * h_in) // height)
        for j in range(width):
            c0, c1 = (j * w_in) // width, -((-(j + 1) * w_in) // width)
            vals = [v for v in depth[r0:r1, c0:c1].flatten().tolist() if v > 0]
            out[i, j] = sum(vals) / len(vals) if vals else 0.0
    return out


@pytest.mark.parametrize('size', [(3, 3), (4, 6), (2, 5)])
def test_pool_depth_matches_loops(size):
    gen = torch.Generator().manual_seed(0)
    depth = torch.rand(2, 13, 17, generator=gen) * 5 + 0.5
    depth[torch.rand(2, 13, 17, generator=gen) < 0.3] = 0
    depth[0, :7, :9] = 0  # a whole hole: some bins without any valid pixel
    pooled = pool_depth(depth, size)
    assert pooled.shape == (2, *size) and pooled.dtype == torch.float32
    for n in range(2):
        torch.testing.assert_close(pooled[n], ref_pool(depth[n], size))
    assert (pooled[0, 0, 0] == 0)


def test_pool_depth_ignores_nan_and_negative():
    depth = torch.tensor([[[2., float('nan')], [-1., 4.]]])
    assert pool_depth(depth, (1, 1)).item() == pytest.approx(3.0)


@pytest.mark.parametrize('mode,thresh', [('relative', 0.1), ('relative', 0.3),
                                         ('absolute', 0.5),
                                         ('normalized', 0.2)])
@pytest.mark.parametrize('invalid', ['pass', 'reject', 'far'])
@pytest.mark.parametrize('flat', [False, True])
def test_depth_mask_matches_loops(mode, thresh, invalid, flat):
    gen = torch.Generator().manual_seed(1)
    zq = torch.rand(2, 4, 6, generator=gen) * 4 + 1
    zk = torch.rand(2, 4, 6, generator=gen) * 4 + 1
    zq[0, 0, :3] = 0
    zk[0, 0, 1] = 0
    zk[1, 2, 1] = 0
    image_range = torch.tensor([[0.5, 6.0], [0.9, 5.5]])  # wider than crops
    args = (zq.flatten(1), zk.flatten(1)) if flat else (zq, zk)
    mask = depth_positive_mask(*args, thresh, mode=mode, invalid=invalid,
                               depth_range=image_range)
    assert mask.shape == (2, 24, 24) and mask.dtype == torch.bool
    for n in range(2):
        q, k = zq[n].flatten().tolist(), zk[n].flatten().tolist()
        for i in range(24):
            for j in range(24):
                ref = ref_depth_pair(q[i], k[j], thresh, mode, invalid,
                                     image_range[n].tolist())
                assert bool(mask[n, i, j]) == ref, (n, i, j)


@pytest.mark.parametrize('invalid', ['pass', 'reject', 'far'])
def test_infinite_tau_keeps_every_pair(invalid):
    zq = torch.tensor([[1., 0., 5.]])
    zk = torch.tensor([[9., 2., 0.]])
    assert depth_positive_mask(zq, zk, math.inf, invalid=invalid).all()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match='mode'):
        depth_positive_mask(torch.ones(1, 4), torch.ones(1, 4), 0.1, 'cubic')
    with pytest.raises(ValueError, match='invalid'):
        depth_positive_mask(torch.ones(1, 4), torch.ones(1, 4), 0.1,
                            invalid='maybe')
    with pytest.raises(ValueError, match='coord'):
        grid_centers(torch.ones(2, 3), (2, 2))


def ref_loss(pred, target, mask):
    n, c = pred.shape[:2]
    p, t = pred.reshape(n, c, -1), target.reshape(n, c, -1)
    losses = []
    for b in range(n):
        total, count = 0.0, 0.0
        for i in range(p.shape[-1]):
            for j in range(t.shape[-1]):
                if mask[b, i, j]:
                    total += torch.nn.functional.cosine_similarity(
                        p[b, :, i], t[b, :, j], dim=0).item()
                    count += 1
        losses.append(total / (count + 1e-6))
    return -2 * sum(losses) / n


def test_loss_matches_loops_and_flat_input():
    gen = torch.Generator().manual_seed(2)
    pred = torch.randn(3, 5, 4, 6, generator=gen)
    target = torch.randn(3, 5, 4, 6, generator=gen)
    mask = spatial_positive_mask(COORDS_Q, COORDS_K, (4, 6), 0.7)
    mask[2] = False  # an image without positives
    loss = pixel_consistency_loss(pred, target, mask)
    assert loss.item() == pytest.approx(ref_loss(pred, target, mask), abs=1e-5)
    flat = pixel_consistency_loss(pred.flatten(2), target.flatten(2), mask)
    torch.testing.assert_close(loss, flat)


def test_loss_no_positive_is_zero_with_finite_grad():
    pred = torch.randn(2, 4, 3, 3, requires_grad=True)
    target = torch.randn(2, 4, 3, 3)
    mask = torch.zeros(2, 9, 9, dtype=torch.bool)
    loss = pixel_consistency_loss(pred, target, mask)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(pred.grad).all()


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_loss_under_cpu_autocast(dtype):
    # Large grid: HW^2 = 65536 positives per image overflow fp16 counts.
    pred = torch.randn(2, 8, 16, 16, requires_grad=True)
    conv = torch.nn.Conv2d(8, 8, 1)
    target = torch.randn(2, 8, 16, 16)
    mask = torch.ones(2, 256, 256, dtype=torch.bool)
    mask[1] = False
    with torch.autocast('cpu', dtype=dtype):
        out = conv(pred)
        loss = pixel_consistency_loss(out, target, mask)
    loss.backward()
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    ref = pixel_consistency_loss(conv(pred).float(), target, mask)
    assert loss.item() == pytest.approx(ref.item(), abs=2e-2)


def test_masked_cosine_loss_shares_the_cosine_matrix():
    """Both entry points against the loops (not against each other)."""
    gen = torch.Generator().manual_seed(3)
    pred = torch.randn(2, 3, 9, generator=gen)
    target = torch.randn(2, 3, 9, generator=gen)
    cos = pixel_cosine_similarity(pred, target)
    for i, j in ((0, 0), (4, 7), (8, 2)):
        assert cos[1, i, j].item() == pytest.approx(
            torch.nn.functional.cosine_similarity(
                pred[1, :, i], target[1, :, j], dim=0).item(), abs=1e-6)
    mask = torch.rand(2, 9, 9, generator=gen) > 0.5
    expected = ref_loss(pred, target, mask)
    assert masked_cosine_loss(cos, mask).item() == pytest.approx(
        expected, abs=1e-5)
    assert pixel_consistency_loss(pred, target, mask).item() == \
        pytest.approx(expected, abs=1e-5)


def test_spatial_mask_excludes_a_pair_tied_with_the_threshold():
    expected = tie_case()
    mask = spatial_positive_mask(FULL, FULL, (4, 4), 1.0)[0]
    assert torch.equal(mask, expected)
    assert int(mask.sum()) == 16 + 24 + 24  # self, horizontal, vertical


@pytest.mark.parametrize('invalid', ['pass', 'reject', 'far'])
def test_training_loss_is_the_contract_composed(invalid):
    """A test of the contract is a test of training: DepthPixPro's pixel
    losses (both view orders, every scale and level) are the contract
    functions composed by hand, mask = spatial AND depth of pooled depth."""
    torch.manual_seed(0)
    head = MODELS.build(dict(
        type='MultiScalePixelHead', in_channels=8, levels=2,
        scales=[dict(level=0, spatial_thresh=0.9),
                dict(level=1, spatial_thresh=1.4, weight=0.5,
                     depth_thresh=0.3)],
        filters=[dict(type='DepthPairFilter', thresh=0.1,
                      invalid=invalid)]))
    online, target, coord, depth = two_level_batch()
    depth[1, 1, :6] = 0  # invalid in both views: the policies differ
    losses = pixel_losses(head, online, target,
                          head.positive_pairs(coord, depth))
    for index, scale in enumerate(head.scales):
        level = scale['level']
        size = TWO_LEVEL_GRIDS[level]
        ppm = head.propagations[str(level)]
        expected = 0.
        for q, k in ((0, 1), (1, 0)):
            zq, zk = (pool_depth(depth[:, v], size) for v in (q, k))
            mask = spatial_positive_mask(
                coord[:, q], coord[:, k], size,
                scale['spatial_thresh']) & depth_positive_mask(
                    zq, zk, scale.get('depth_thresh', 0.1), invalid=invalid)
            expected = expected + pixel_consistency_loss(
                ppm(online[q][level]), target[k][level], mask)
        torch.testing.assert_close(losses[f'loss_s{index}'],
                                   scale['weight'] * expected)
    # the check above is not blind to the policy
    zq, zk = (pool_depth(depth[:, v], TWO_LEVEL_GRIDS[0]) for v in (0, 1))
    policies = [depth_positive_mask(zq, zk, 0.1, invalid=p)
                for p in ('pass', 'reject', 'far')]
    assert not torch.equal(policies[0], policies[1])
    assert not torch.equal(policies[1], policies[2])
