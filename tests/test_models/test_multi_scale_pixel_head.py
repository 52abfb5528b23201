"""MultiScalePixelHead: PixPro without filters, each filter reducing to
PixPro, a depth edge, the weighted multi-scale and multi-level sums against
design.md's formulas written out, bad configs and fp16."""
import math

import pytest
import torch

from pair_cases import head_losses
from mmpretrain.registry import MODELS
from pixpro_reference import (conv_layers, convs_of, ref_pair_loss, ref_ppm,
                              ref_spatial_ratio)
from projects.depth_pixpro.models.utils import (pixel_consistency_loss,
                                                spatial_positive_mask)


FULL = torch.tensor([[0., 0., 1., 1.]])


# ---------------------------------------------------------------- head
def build_head(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='MultiScalePixelHead', in_channels=8)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def random_batch(n=3, size=(4, 4), levels=1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    online = [[torch.randn(n, 8, *size, generator=gen) for _ in range(levels)]
              for _ in range(2)]
    target = [[torch.randn(n, 8, *size, generator=gen) for _ in range(levels)]
              for _ in range(2)]
    coord = torch.stack([
        torch.tensor([[0.0, 0.0, 0.8, 0.9], [0.7, 0.1, 0.1, 1.0]]),
        torch.tensor([[0.1, 0.1, 0.9, 0.9], [0.0, 0.0, 1.0, 0.8]]),
        torch.tensor([[0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.45, 0.45]]),
    ])[:n]  # image 2: views do not overlap -> no positive pair
    return online, target, coord


def pixpro_reference(head, online, target, coord, thresh=0.7, level=0):
    """PixPro: propagate, spatial mask only, both view orders summed."""
    ppm = head.propagations[str(level)]
    total = 0.
    for q, k in ((0, 1), (1, 0)):
        pred = ppm(online[q][level])
        mask = spatial_positive_mask(coord[:, q], coord[:, k],
                                     pred.shape[-2:], thresh)
        total = total + pixel_consistency_loss(pred, target[k][level], mask)
    return total


def test_head_without_filters_is_pixpro():
    head = build_head()
    online, target, coord = random_batch()
    losses = head_losses(head, online, target, coord)
    assert set(losses) == {'loss_s0', 'pos_spatial', 'pos_final',
                           'removed_by_filters', 'imgs_no_pos'}
    torch.testing.assert_close(losses['loss_s0'],
                               pixpro_reference(head, online, target, coord))
    assert losses['imgs_no_pos'].item() == 1  # image 2
    assert losses['removed_by_filters'].item() == 0


@pytest.mark.parametrize('filter_cfg,scale_extra,depth_kind', [
    (dict(type='DepthPairFilter', thresh=0.1), {}, 'constant'),
    (dict(type='DepthPairFilter', thresh=math.inf), {}, 'random'),
    (dict(type='DepthPairFilter', thresh=0.1), dict(depth_thresh=math.inf),
     'random'),
    (dict(type='DepthPairFilter', thresh=0.1, invalid='reject'), {}, None),
    (dict(type='NormalPairFilter', max_angle_deg=math.inf), {}, 'random'),
])
def test_filters_reduce_to_pixpro(filter_cfg, scale_extra, depth_kind):
    """Constant depth, tau = inf or no depth in the batch: exactly PixPro."""
    plain = build_head()
    filtered = build_head(
        filters=[filter_cfg],
        scales=[dict(level=-1, spatial_thresh=0.7, weight=1., **scale_extra)])
    filtered.load_state_dict(plain.state_dict())
    online, target, coord = random_batch()
    depth = None
    if depth_kind == 'constant':
        depth = torch.full((3, 2, 16, 16), 2.5)
    elif depth_kind == 'random':
        depth = torch.rand(3, 2, 16, 16) * 5
    expected = head_losses(plain, online, target, coord)
    got = head_losses(filtered, online, target, coord, depth)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key])


def step_edge_depth(n, width=16, near=1.0, far=3.0):
    """Left half near, right half far (bins never straddle the edge)."""
    depth = torch.full((n, 2, width, width), near)
    depth[..., width // 2:] = far
    return depth


def test_depth_step_edge_removes_exactly_straddling_pairs():
    """A depth step at x = 0.5 of the ORIGINAL image (near left, far right);
    each view's depth is that scene seen through its own crop, so the views
    differ: image 0's view 2 sees only the far right half, image 1's view 2
    is a flipped full view (mirrored depth). A pair is positive iff both
    bin centres lie on the same side of the step in image coordinates."""
    head = build_head(filters=[dict(type='DepthPairFilter', thresh=0.1)],
                      scales=[dict(spatial_thresh=2.0)])
    online, target, _ = random_batch(n=2)
    coord = torch.tensor([[[0., 0., 1., 1.], [0.5, 0., 1., 1.]],
                          [[0., 0., 1., 1.], [1., 0., 0., 1.]]])
    depth = step_edge_depth(2)
    depth[0, 1] = 3.  # the right half only: all far
    depth[1, 1] = depth[1, 1].flip(-1)  # the flipped view sees it mirrored
    losses = head_losses(head, online, target, coord, depth)

    def far_side(box):
        """Per bin (h-major): its centre is right of the step."""
        x_ul, x_lr = box[0].item(), box[2].item()
        bw = (x_lr - x_ul) / 4
        return [(w + 0.5) * bw + x_ul > 0.5 for _ in range(4)
                for w in range(4)]

    ppm = head.propagations['0']
    total, spatial_count, final_count = 0., 0, 0
    for q, k in ((0, 1), (1, 0)):
        spatial = spatial_positive_mask(coord[:, q], coord[:, k], (4, 4), 2.0)
        mask = spatial.clone()
        for n in range(2):
            side_q, side_k = far_side(coord[n, q]), far_side(coord[n, k])
            for i in range(16):
                for j in range(16):
                    if side_q[i] != side_k[j]:
                        mask[n, i, j] = False
        spatial_count += spatial.sum().item()
        final_count += mask.sum().item()
        total = total + pixel_consistency_loss(
            ppm(online[q][0]), target[k][0], mask)
    assert final_count < spatial_count
    torch.testing.assert_close(losses['loss_s0'], total)
    assert losses['pos_spatial'].item() == pytest.approx(spatial_count / 4)
    assert losses['pos_final'].item() == pytest.approx(final_count / 4)
    assert losses['removed_by_filters'].item() == pytest.approx(
        1 - final_count / spatial_count)
    # the views' depths differ: swapping them would change the positives
    assert not torch.equal(depth[:, 0], depth[:, 1])


def test_multi_scale_is_weighted_sum_of_single_scales():
    """Each scale's logged loss is w_s times its loss written out from the
    formulas (tests/pixpro_reference.py), not the head compared with
    itself."""
    filters = [dict(type='DepthPairFilter', thresh=0.2)]
    online, target, coord = random_batch()
    gen = torch.Generator().manual_seed(0)
    cells = torch.rand(3, 2, 4, 4, generator=gen) * 4 + 0.5
    # constant over each feature cell: the 4x4 pooled depth is ``cells``
    depth = cells.repeat_interleave(4, -1).repeat_interleave(4, -2)
    multi = build_head(filters=filters, scales=[
        dict(spatial_thresh=0.7, weight=1.0),
        dict(spatial_thresh=1.5, weight=0.5, depth_thresh=0.05),
    ])
    out = head_losses(multi, online, target, coord, depth)
    for index, (thresh, weight, tau) in enumerate([(0.7, 1.0, 0.2),
                                                   (1.5, 0.5, 0.05)]):
        ref, _ = ref_head_loss(multi, online, target, coord, 0, thresh,
                               cells, tau)
        assert out[f'loss_s{index}'].item() == pytest.approx(
            weight * ref, abs=1e-5)
    # mmengine logs the sum of the keys containing 'loss'
    from mmengine.model import BaseModel
    total, log_vars = BaseModel.parse_losses(None, out)
    torch.testing.assert_close(total, out['loss_s0'] + out['loss_s1'])


def test_multi_level_scales_use_their_level():
    head = build_head(in_channels=[8, 8], levels=2, scales=[
        dict(level=0, spatial_thresh=0.7),
        dict(level=-1, spatial_thresh=0.9, weight=2.)
    ])
    gen = torch.Generator().manual_seed(3)
    online = [[torch.randn(2, 8, 6, 6, generator=gen),
               torch.randn(2, 8, 3, 3, generator=gen)] for _ in range(2)]
    target = [[torch.randn(2, 8, 6, 6, generator=gen),
               torch.randn(2, 8, 3, 3, generator=gen)] for _ in range(2)]
    _, _, coord = random_batch(n=2)
    out = head_losses(head, online, target, coord)
    torch.testing.assert_close(
        out['loss_s0'], pixpro_reference(head, online, target, coord, 0.7, 0))
    torch.testing.assert_close(
        out['loss_s1'],
        2. * pixpro_reference(head, online, target, coord, 0.9, 1))


def test_head_rejects_bad_config_and_inputs():
    with pytest.raises(ValueError, match='unknown key'):
        build_head(scales=[dict(spatial_thresh=0.7, depth_thresh=0.1)])
    with pytest.raises(ValueError, match='out of range'):
        build_head(scales=[dict(level=1)])
    head = build_head()
    online, target, coord = random_batch()
    with pytest.raises(ValueError, match='coord'):
        head.positive_pairs(coord[:, 0])
    pairs = head.positive_pairs(coord)
    with pytest.raises(ValueError, match='one projection per level'):
        head.loss(online, target, pairs, (0, 1))  # both views, not one
    with pytest.raises(ValueError, match=r'views \(0, 2\) are not views'):
        head.loss(online[0], target[1], pairs, (0, 2))


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_head_no_positive_under_autocast(dtype):
    head = build_head(filters=[dict(type='DepthPairFilter', thresh=0.1,
                                    invalid='reject')])
    online, target, coord = random_batch()
    for view in online:
        view[0].requires_grad_(True)
    depth = torch.rand(3, 2, 16, 16) * 4 + 0.5
    depth[1] = 0  # image 1: no valid depth -> rejected -> no positive
    with torch.autocast('cpu', dtype=dtype):
        out = head_losses(head, online, target, coord, depth)
    out['loss_s0'].backward()
    assert torch.isfinite(out['loss_s0'])
    assert all(torch.isfinite(v[0].grad).all() for v in online)
    assert out['imgs_no_pos'].item() == 2  # images 1 and 2


# ---------------------------------------------------------------- head
# Dyadic boxes (exact in float32), the second view of image 1 flipped.
COORD = torch.tensor([
    [[0.0, 0.0, 0.75, 0.875], [0.875, 0.125, 0.125, 1.0]],
    [[0.125, 0.125, 0.875, 0.875], [0.0, 0.0, 1.0, 0.75]],
    [[0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.4375, 0.4375]],  # no overlap
])


def head_inputs(grids, seed=0, n=3, channels=8):
    gen = torch.Generator().manual_seed(seed)
    online = [[torch.randn(n, channels, *g, generator=gen) for g in grids]
              for _ in range(2)]
    target = [[torch.randn(n, channels, *g, generator=gen) for g in grids]
              for _ in range(2)]
    return online, target


def ref_head_loss(head, online, target, coord, level, spatial_thresh,
                  depth=None, depth_thresh=None):
    """One scale's loss, summed over both view orders, and its positives.

    ``depth`` [N, 2, H, W] is given at the grid's own resolution, so pooling
    is the identity; relative test, invalid (0) pairs pass.
    """
    ppm = head.propagations[str(level)]
    layers = conv_layers(convs_of(ppm)[0])
    size = tuple(online[0][level].shape[-2:])
    n_img = coord.shape[0]
    total, counts = 0., []
    for q, k in ((0, 1), (1, 0)):
        pred = [ref_ppm(online[q][level][n].flatten(1), layers)
                for n in range(n_img)]
        tgt = [target[k][level][n].flatten(1) for n in range(n_img)]
        ratio = [ref_spatial_ratio(coord[n, q], coord[n, k], size)
                 for n in range(n_img)]
        for n in range(n_img):  # no pair is tied with the threshold
            assert all(abs(r - spatial_thresh) > 1e-5
                       for row in ratio[n] for r in row)

        def positive(n, i, j):
            if not ratio[n][i][j] < spatial_thresh:
                return False
            if depth is None:
                return True
            zi = float(depth[n, q].flatten()[i])
            zj = float(depth[n, k].flatten()[j])
            if zi <= 0 or zj <= 0:
                return True
            return abs(zi - zj) / max(zi, zj) < depth_thresh

        total += ref_pair_loss(pred, tgt, positive)
        counts.append([
            sum(positive(n, i, j) for i in range(len(ratio[n]))
                for j in range(len(ratio[n]))) for n in range(n_img)
        ])
    return total, counts


def test_head_matches_pixpro_written_out():
    head = MODELS.build(dict(type='MultiScalePixelHead', in_channels=8))
    online, target = head_inputs([(4, 4)])
    out = head_losses(head, online, target, COORD)
    expected, counts = ref_head_loss(head, online, target, COORD, 0, 0.7)
    assert out['loss_s0'].item() == pytest.approx(expected, abs=1e-5)
    # statistics: mean over (view order, image); image 2 has no positive
    flat = [c for order in counts for c in order]
    assert counts[0][2] == counts[1][2] == 0 and min(counts[0][:2]) > 0
    assert out['pos_spatial'].item() == pytest.approx(sum(flat) / len(flat))
    assert out['pos_final'].item() == pytest.approx(sum(flat) / len(flat))
    assert out['imgs_no_pos'].item() == 1
    assert out['removed_by_filters'].item() == 0


def test_multi_scale_multi_level_matches_weighted_references():
    """Each scale's logged loss = w_s * its own written-out loss, with its
    level's propagation, spatial and depth thresholds."""
    gen = torch.Generator().manual_seed(5)
    head = MODELS.build(dict(
        type='MultiScalePixelHead', in_channels=[8, 8], levels=2,
        filters=[dict(type='DepthPairFilter', thresh=0.2)],
        scales=[dict(level=0, spatial_thresh=0.7, weight=1.0),
                dict(level=0, spatial_thresh=1.5, weight=0.5,
                     depth_thresh=0.05),
                dict(level=1, spatial_thresh=0.9, weight=2.0,
                     depth_thresh=float('inf'))]))
    online, target = head_inputs([(4, 4), (2, 2)], seed=6)
    # depth at the level-0 grid; a few invalid cells
    depth = torch.rand(3, 2, 4, 4, generator=gen) * 4 + 0.5
    depth[0, 0, 0, :2] = 0.
    depth[1, 1, 3, 3] = 0.
    out = head_losses(head, online, target, COORD, depth)

    ref0, counts0 = ref_head_loss(head, online, target, COORD, 0, 0.7,
                                  depth, 0.2)
    ref1, _ = ref_head_loss(head, online, target, COORD, 0, 1.5, depth, 0.05)
    ref2, _ = ref_head_loss(head, online, target, COORD, 1, 0.9)
    assert out['loss_s0'].item() == pytest.approx(1.0 * ref0, abs=1e-5)
    assert out['loss_s1'].item() == pytest.approx(0.5 * ref1, abs=1e-5)
    assert out['loss_s2'].item() == pytest.approx(2.0 * ref2, abs=1e-5)
    flat = [c for order in counts0 for c in order]
    assert out['pos_final'].item() == pytest.approx(sum(flat) / len(flat))
    _, spatial0 = ref_head_loss(head, online, target, COORD, 0, 0.7)
    spatial = sum(c for order in spatial0 for c in order)
    assert sum(flat) < spatial  # the depth filter removed pairs
    assert out['removed_by_filters'].item() == pytest.approx(
        1 - sum(flat) / spatial)
