"""PixelPropagation, the pair filters and MultiScalePixelHead."""
import math

import pytest
import torch

from mmpretrain.registry import MODELS
from projects.depth_pixpro.models.utils import (depth_to_normals,
                                                pixel_consistency_loss,
                                                spatial_positive_mask,
                                                view_rays)

FULL = torch.tensor([[0., 0., 1., 1.]])


# ---------------------------------------------------------------- PPM
def test_ppm_equals_hand_computed_formula():
    ppm = MODELS.build(
        dict(type='PixelPropagation', channels=2, transform_layers=0))
    # pixels (h-major): (1,0), (0,1), (1,1), (-1,0)
    feat = torch.tensor([[[[1., 0.], [1., -1.]], [[0., 1.], [1., 0.]]]])
    out = ppm(feat).flatten(2)[0].T
    # A = clamp(cos, 0)^2: rows [1,0,.5,0], [0,1,.5,0], [.5,.5,1,0], [0,0,0,1]
    s = 0.5**0.5
    raw = torch.tensor([[1 + 0.5 * s, 0.5 * s], [0.5 * s, 1 + 0.5 * s],
                        [0.5 + s, 0.5 + s], [-1., 0.]])
    expected = raw / raw.norm(dim=1, keepdim=True)
    torch.testing.assert_close(out, expected)
    assert out[0, 0].item() == pytest.approx(0.96754, abs=1e-4)


def test_ppm_transform_layers():
    feat = torch.randn(2, 4, 3, 3)
    for layers in (1, 2):
        ppm = MODELS.build(
            dict(type='PixelPropagation', channels=4,
                 transform_layers=layers))
        out = ppm(feat)
        assert out.shape == feat.shape
        torch.testing.assert_close(out.norm(dim=1), torch.ones(2, 3, 3))
    with pytest.raises(ValueError, match='transform_layers'):
        MODELS.build(dict(type='PixelPropagation', channels=4,
                          transform_layers=3))


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
    losses = head.loss(online, target, coord)
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
    expected = plain.loss(online, target, coord)
    got = filtered.loss(online, target, coord, depth)
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
    losses = head.loss(online, target, coord, depth)

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
    from test_ppm_reference import ref_head_loss
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
    out = multi.loss(online, target, coord, depth)
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
    out = head.loss(online, target, coord)
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
        head.loss(online, target, coord[:, 0])
    with pytest.raises(ValueError, match='2 views'):
        head.loss(online[:1], target[:1], coord)


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
        out = head.loss(online, target, coord, depth)
    out['loss_s0'].backward()
    assert torch.isfinite(out['loss_s0'])
    assert all(torch.isfinite(v[0].grad).all() for v in online)
    assert out['imgs_no_pos'].item() == 2  # images 1 and 2


# ---------------------------------------------------------------- normals
def plane_depth(coord, size, normal, offset, fov=60., aspect=4. / 3.):
    """Ray-cast z of the plane n.P = offset for each pixel of each view."""
    rays = view_rays(coord, size, fov, aspect)  # [N, 3, h, w]
    n = torch.tensor(normal).view(1, 3, 1, 1)
    return offset / (rays * n).sum(1)


def fold_depth(coord, size):
    """A wall z = 4 above a floor y = 1 (camera y points down)."""
    wall = plane_depth(coord, size, (0., 0., 1.), 4.)
    floor = plane_depth(coord, size, (0., 1., 0.), 1.)
    floor = torch.where(floor > 0, floor, torch.full_like(floor, 1e9))
    return torch.minimum(wall, floor)


def test_normals_of_a_slanted_plane_are_exact_and_flip_invariant():
    coord = torch.tensor([[0.1, 0.1, 0.9, 0.8], [0.9, 0.1, 0.1, 0.8]])
    depth = plane_depth(coord, (24, 32), (-0.8, 0., 1.), 4.)
    normals, valid = depth_to_normals(depth, coord)
    expected = torch.tensor([0.8, 0., -1.]) / math.hypot(0.8, 1.)
    assert valid[:, :-1, :-1].all() and not valid[:, -1].any()
    got = normals.permute(0, 2, 3, 1)[valid]
    torch.testing.assert_close(got, expected.expand_as(got), atol=1e-4,
                               rtol=0)


def test_normals_of_a_flipped_view_are_those_of_the_image():
    """Independent geometry: rays written out here, the view is the image's
    depth array mirrored, so only its coord tells the filter about the flip.
    """
    height, width, tan_x = 24, 32, math.tan(math.radians(30.))
    u = (torch.arange(width) + 0.5) / width
    v = (torch.arange(height) + 0.5) / height
    rx = ((u - 0.5) * 2 * tan_x)[None, :].expand(height, -1)
    ry = ((v - 0.5) * 2 * tan_x * 0.75)[:, None].expand(-1, width)
    # plane 0.6 X + 0.2 Y + Z = 4  ->  z = 4 / (0.6 rx + 0.2 ry + 1)
    depth = (4. / (0.6 * rx + 0.2 * ry + 1.))[None]
    expected = -torch.tensor([0.6, 0.2, 1.]) / math.sqrt(1.4)
    for coord, view in ((FULL, depth), (FULL[:, [2, 1, 0, 3]],
                                        depth.flip(-1))):
        normals, valid = depth_to_normals(view, coord)
        got = normals.permute(0, 2, 3, 1)[valid]
        assert len(got) == (height - 1) * (width - 1)
        torch.testing.assert_close(got, expected.expand_as(got), atol=1e-4,
                                   rtol=0)


def test_normal_filter_removes_pairs_across_a_fold():
    filt = MODELS.build(dict(type='NormalPairFilter', max_angle_deg=30))
    size, grid = (48, 48), (6, 6)
    coord_q = torch.tensor([[0., 0., 1., 1.]])
    coord_k = torch.tensor([[1., 0., 0., 1.]])  # flipped view of the same
    depth_q = fold_depth(coord_q, size)
    depth_k = fold_depth(coord_k, size)
    prep_q = filt.on_grid(filt.per_view(depth_q, coord_q), grid)
    prep_k = filt.on_grid(filt.per_view(depth_k, coord_k), grid)
    stat, valid = filt.pair_statistic(prep_q, prep_k)
    keep = filt.keep(stat, valid, filt.thresh)[0]
    # rows of bins: which are entirely wall / entirely floor
    rays_y = view_rays(coord_q, size)[0, 1, :, 0]
    is_floor = (rays_y > 0.25).view(6, 8)
    wall_rows = [r for r in range(6) if not is_floor[r].any()]
    floor_rows = [r for r in range(6) if is_floor[r].all()]
    assert wall_rows and floor_rows
    for i in range(36):
        for j in range(36):
            ri, rj = i // 6, j // 6
            if ri in wall_rows and rj in wall_rows:
                assert keep[i, j]
            if ri in floor_rows and rj in floor_rows:
                assert keep[i, j]
            if (ri in wall_rows and rj in floor_rows) or \
                    (ri in floor_rows and rj in wall_rows):
                assert not keep[i, j]
    assert not keep.all()


def test_normal_filter_keeps_a_single_plane():
    filt = MODELS.build(dict(type='NormalPairFilter', max_angle_deg=10))
    coord = torch.tensor([[0.05, 0.1, 0.95, 0.9], [0.8, 0.0, 0.2, 0.7]])
    depth = plane_depth(coord, (32, 32), (0.3, -0.5, 1.), 3.)
    prep = filt.on_grid(filt.per_view(depth, coord), (4, 4))
    stat, valid = filt.pair_statistic(prep, prep)
    assert valid.all()
    assert filt.keep(stat, valid, filt.thresh).all()
    # cross-view: view 0 vs the other (flipped) crop of the same plane
    prep_b = filt.on_grid(
        filt.per_view(depth.flip(0), coord.flip(0)), (4, 4))
    stat, valid = filt.pair_statistic(prep, prep_b)
    assert filt.keep(stat, valid, filt.thresh).all()
