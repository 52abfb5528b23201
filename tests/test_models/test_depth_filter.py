"""DepthPairFilter: no depth means PixPro, the image range of the
normalised test, depth kinds and their tests, invalid depth as far, and the
cell statistics (mean / median / centre) against brute-force loops."""
import math

import pytest
import torch

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from pair_cases import build_filter_head, head_losses
from projects.depth_pixpro.depth_kinds import KIND_MODES
from projects.depth_pixpro.models.filters import (DepthPairFilter,
                                                  NormalPairFilter)
from projects.depth_pixpro.models.heads import positive_pair_masks
from projects.depth_pixpro.models.utils import (DepthMeta,
                                                depth_positive_mask,
                                                masked_cosine_loss,
                                                pixel_cosine_similarity,
                                                pool_depth,
                                                spatial_positive_mask,
                                                stack_depth)
from projects.depth_pixpro.models.utils.depth_stats import (CELL_STATS,
                                                            adaptive_bins,
                                                            cell_depth,
                                                            center_depth,
                                                            median_pool_depth)


FULL = [0., 0., 1., 1.]


def meta(kinds, has_depth=None, ranges=None, paths=None):
    num = len(kinds)
    return DepthMeta(
        has_depth=torch.tensor(has_depth or [True] * num),
        kinds=tuple(kinds),
        ranges=torch.tensor(ranges, dtype=torch.float32) if ranges else
        torch.full((num, 2), math.nan),
        paths=tuple(paths or [None] * num))


def random_batch(n=3, seed=0, grid=(4, 4)):
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.rand(n, 2, generator=gen) * 0.3
    y0 = torch.rand(n, 2, generator=gen) * 0.3
    coord = torch.stack([x0, y0, x0 + 0.7, y0 + 0.7], dim=-1)
    coord[0, 1] = coord[0, 1, [2, 1, 0, 3]]  # a flipped view
    depth = 1 + 4 * torch.rand(n, 2, 16, 16, generator=gen)
    depth[1, 0, :4] = 0  # an invalid region
    proj = [[[torch.randn(n, 8, *grid, generator=gen)] for _ in range(2)]
            for _ in range(2)]
    return proj[0], proj[1], coord, depth


def per_image_loss(cos, mask):
    """-2 L_n of each image (masked_cosine_loss of one image)."""
    return torch.stack([
        masked_cosine_loss(cos[n:n + 1], mask[n:n + 1])
        for n in range(len(cos))
    ])


# ------------------------------------------------------ 8: no depth = PixPro
@pytest.mark.parametrize('invalid', ['pass', 'reject', 'far'])
@pytest.mark.parametrize('with_normals', [False, True])
def test_sample_without_depth_is_pixpro_in_a_mixed_batch(invalid,
                                                         with_normals):
    filters = [dict(type='DepthPairFilter', thresh=0.1, invalid=invalid)]
    if with_normals:
        filters.append(dict(type='NormalPairFilter', max_angle_deg=20,
                            invalid='reject'))
    head = build_filter_head(filters)
    online, target, coord, depth = random_batch()
    depth[2] = 0  # sample 2 has no depth: zeros + has_depth=False
    info = meta(['metric'] * 3, has_depth=[True, True, False])
    losses = head_losses(head, online, target, coord, depth, info)

    ppm = head.propagations['0']
    expected = 0.
    for q, k in ((0, 1), (1, 0)):
        spatial = spatial_positive_mask(coord[:, q], coord[:, k], (4, 4), 1.)
        keep = spatial & depth_positive_mask(
            pool_depth(depth[:, q], (4, 4)), pool_depth(depth[:, k], (4, 4)),
            0.1, invalid=invalid)
        pairs = positive_pair_masks(coord, depth, (4, 4), head.scales[0],
                                    head.filters, (q, k), info)
        # the sample without depth keeps every spatial positive ...
        assert torch.equal(pairs.final[2], spatial[2])
        # ... while the others are filtered (non-vacuous)
        assert pairs.final[:2].sum() < spatial[:2].sum()
        if not with_normals:
            assert torch.equal(pairs.final[:2], keep[:2])
        cos = pixel_cosine_similarity(ppm(online[q][0]), target[k][0])
        per_image = per_image_loss(cos, pairs.final)
        # its own loss term is PixPro's
        torch.testing.assert_close(per_image[2],
                                   per_image_loss(cos, spatial)[2])
        expected = expected + per_image.mean()
    torch.testing.assert_close(losses['loss_s0'], expected)


def test_batch_without_any_depth_is_exactly_pixpro():
    plain = build_filter_head([])
    filtered = build_filter_head([dict(type='DepthPairFilter', thresh=0.1,
                                       invalid='reject')])
    online, target, coord, _ = random_batch()
    zeros = torch.zeros(3, 2, 16, 16)
    info = meta(['metric'] * 3, has_depth=[False] * 3)
    expected = head_losses(plain, online, target, coord)
    got = head_losses(filtered, online, target, coord, zeros, info)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key])
    assert got['pos_final'] == got['pos_spatial'] > 0


def packed(depth, coord, **fields):
    sample = DataSample()
    sample.set_field(coord, 'coord')
    sample.set_field(depth, 'depth')
    for key, value in fields.items():
        if key in ('has_depth', 'depth_kind', 'img_path'):
            sample.set_metainfo({key: value})
        else:
            sample.set_field(value, key)
    return sample


def test_stack_depth_reads_the_packed_fields():
    d = torch.rand(2, 8, 8) + 1
    coord = torch.tensor([FULL, FULL])
    samples = [
        packed(d, coord, has_depth=True, depth_kind='affine',
               depth_range=torch.tensor([0.5, 9.]), img_path='a.jpg'),
        packed(torch.zeros(2, 8, 8), coord, has_depth=False,
               depth_range=torch.tensor([0., 0.]), img_path='b.jpg'),
        packed(d, coord, depth_kind='scale_free'),
    ]
    depth, info = stack_depth(samples)
    assert depth.shape == (3, 2, 8, 8)
    assert info.has_depth.tolist() == [True, False, True]
    assert info.kinds == ('affine', 'metric', 'scale_free')
    assert info.ranges[:2].tolist() == [[0.5, 9.], [0., 0.]]
    assert info.ranges[2].isnan().all()
    assert info.paths == ('a.jpg', 'b.jpg', None)
    # no sample with depth: PixPro
    assert stack_depth(samples[1:2]) == (None, None)
    assert stack_depth([DataSample()]) == (None, None)
    with pytest.raises(ValueError, match='1 of 2 data samples'):
        stack_depth([samples[0], DataSample()])
    with pytest.raises(ValueError, match="'b.jpg'"):
        stack_depth([packed(d, coord, depth_kind='disparity',
                            img_path='b.jpg')])


def test_depth_pixpro_passes_the_depth_facts_to_the_head(monkeypatch):
    model = MODELS.build(dict(
        type='DepthPixPro',
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=dict(type='PixelProjector', in_channels=512, hid_channels=16,
                  out_channels=8),
        head=dict(type='MultiScalePixelHead', in_channels=8,
                  filters=[dict(type='DepthPairFilter', invalid='reject')])))
    seen, positive_pairs = {}, model.head.positive_pairs

    def spy(coord, depth=None, depth_meta=None):
        seen.update(depth=depth, meta=depth_meta)
        return positive_pairs(coord, depth, depth_meta)

    monkeypatch.setattr(model.head, 'positive_pairs', spy)
    coord = torch.tensor([FULL, FULL])
    samples = [packed(torch.zeros(2, 64, 64), coord, has_depth=False),
               packed(torch.ones(2, 64, 64), coord, has_depth=True,
                      depth_kind='inverse')]
    inputs = [torch.randn(2, 3, 64, 64) for _ in range(2)]
    model.loss(inputs, samples)
    assert seen['depth'].shape == (2, 2, 64, 64)
    assert seen['meta'].has_depth.tolist() == [False, True]
    assert seen['meta'].kinds == ('metric', 'inverse')


# ------------------------------------------- 6: normalised per image
def wall_views(size=56):
    """A wall whose depth grows from 2 m (left) to 3 m (right); view A is
    the whole image, view B its right half, both resampled to size^2."""
    u = (torch.arange(size) + 0.5) / size
    view_a = (2 + u).expand(size, size)
    view_b = (2 + 0.5 + 0.5 * u).expand(size, size)
    coord = torch.tensor([[FULL, [0.5, 0., 1., 1.]]])
    return coord, torch.stack([view_a, view_b])[None]


def test_normalized_wall_uses_the_image_range():
    coord, depth = wall_views()
    info = meta(['metric'], ranges=[[2., 3.]])
    scale = dict(spatial_thresh=0.7)
    spatial = positive_pair_masks(coord, None, (7, 7), scale).final
    assert spatial.sum() == 91
    pooled = [pool_depth(depth[:, v], (7, 7)).flatten(1) for v in (0, 1)]
    metres = (pooled[0][:, :, None] - pooled[1][:, None, :]).abs()
    counts = {}
    for tau in (0.1, 0.15):
        filt = DepthPairFilter(thresh=tau, mode='normalized')
        final = positive_pair_masks(coord, depth, (7, 7), scale, [filt],
                                    depth_meta=info).final
        # one scene point has one value in both views: with a 1 m image
        # range, normalised differences are the metric differences
        assert torch.equal(final, spatial & (metres < tau))
        counts[tau] = int(final.sum())
        # normalising each crop by its own range instead keeps only 14
        per_crop = [(z - z.min()) / (z.max() - z.min()) for z in pooled]
        crop_diff = (per_crop[0][:, :, None] - per_crop[1][:, None, :]).abs()
        assert int((spatial & (crop_diff < tau)).sum()) == 14
    # spatial positives differ by up to 0.107 m: tau 0.15 keeps all 91,
    # tau 0.1 the 49 pairs closer than 10 % of the image's range
    assert counts == {0.1: 49, 0.15: 91}
    # the relative test keeps all 91 at tau 0.1 (differences < 4 %)
    relative = positive_pair_masks(coord, depth, (7, 7), scale,
                                   [DepthPairFilter(thresh=0.1)]).final
    assert int(relative.sum()) == 91


def test_normalized_needs_the_image_range():
    coord, depth = wall_views(16)
    filt = DepthPairFilter(mode='normalized')
    with pytest.raises(ValueError, match="depth_range of sample 'w.png'"):
        positive_pair_masks(coord, depth, (4, 4), dict(spatial_thresh=0.7),
                            [filt], depth_meta=meta(['metric'],
                                                    paths=['w.png']))
    with pytest.raises(ValueError, match='depth_range'):
        depth_positive_mask(torch.ones(1, 4), torch.ones(1, 4), 0.1,
                            'normalized')


# ---------------------------------------------------------- 7: depth kinds
@pytest.mark.parametrize('kind', sorted(KIND_MODES))
@pytest.mark.parametrize('mode', ['relative', 'absolute', 'normalized'])
def test_each_kind_gets_only_its_tests(kind, mode):
    head = build_filter_head([dict(type='NormalPairFilter'),
                              dict(type='DepthPairFilter', mode=mode)])
    head.filters = head.filters[1:]  # the depth filter alone, index 0
    online, target, coord, depth = random_batch(n=2)
    info = meta(['metric', kind], ranges=[[1., 5.], [1., 5.]],
                paths=[None, 'data/x/0001.jpg'])
    if mode in KIND_MODES[kind]:
        head_losses(head, online, target, coord, depth, info)
        return
    message = (f"model.head.filters[0].mode='{mode}' cannot test the "
               f"'{kind}' depth of sample 'data/x/0001.jpg'")
    with pytest.raises(ValueError, match=message.replace('[', r'\[')
                       .replace(']', r'\]').replace('.', r'\.')):
        head_losses(head, online, target, coord, depth, info)


def test_refused_kind_names_the_filter_line_in_a_multi_filter_head():
    head = build_filter_head([dict(type='NormalPairFilter'),
                              dict(type='DepthPairFilter', mode='absolute')])
    online, target, coord, depth = random_batch(n=2)
    with pytest.raises(ValueError, match=r'filters\[1\]\.mode'):
        head_losses(head, online, target, coord, depth,
                    meta(['metric', 'scale_free']))
    with pytest.raises(ValueError, match=r'filters\[0\] \(NormalPairFilter'):
        head_losses(head, online, target, coord, depth,
                    meta(['affine', 'metric']))
    # a sample without depth is never refused
    head_losses(head, online, target, coord, depth,
                meta(['metric', 'affine'], has_depth=[True, False]))


def blocky_depth(n, seed=1):
    """Depth constant on each 4x4 block: pooling to 4x4 is exact, so a
    pooled inverse depth is the inverse of the pooled depth."""
    gen = torch.Generator().manual_seed(seed)
    blocks = 1 + 4 * torch.rand(n, 2, 4, 4, generator=gen)
    return blocks.repeat_interleave(4, -1).repeat_interleave(4, -2)


def test_inverse_depth_relative_test_is_the_metric_one():
    _, _, coord, _ = random_batch()
    depth = blocky_depth(3)
    scale = dict(spatial_thresh=1.0)
    filt = DepthPairFilter(thresh=0.15)
    metric = positive_pair_masks(coord, depth, (4, 4), scale, [filt])
    inverse = positive_pair_masks(coord, 1. / depth, (4, 4), scale, [filt],
                                  depth_meta=meta(['inverse'] * 3))
    assert torch.equal(metric.final, inverse.final)
    assert metric.final.sum() < metric.spatial.sum()
    # normals: inverse depth is inverted first, so the same normals
    normals = NormalPairFilter(max_angle_deg=10)
    d_metric = normals.per_view(depth[:, 0], coord[:, 0])
    d_inverse = normals.per_view(1. / depth[:, 0], coord[:, 0],
                                 meta(['inverse'] * 3))
    torch.testing.assert_close(d_metric[0], d_inverse[0])
    assert torch.equal(d_metric[1], d_inverse[1])


def test_auto_mode_mixes_kinds_in_one_batch():
    _, _, coord, depth = random_batch(n=4)
    kinds = ['metric', 'affine', 'inverse', 'scale_free']
    ranges = [[0.5, 6.], [1., 5.], [0.2, 9.], [0.5, 6.]]
    scale = dict(spatial_thresh=1.0)
    auto = DepthPairFilter(thresh=0.1, mode='auto')
    batch = positive_pair_masks(coord, depth, (4, 4), scale, [auto],
                                depth_meta=meta(kinds, ranges=ranges))
    for n, kind in enumerate(kinds):
        mode = 'normalized' if kind == 'affine' else 'relative'
        alone = positive_pair_masks(
            coord[n:n + 1], depth[n:n + 1], (4, 4), scale,
            [DepthPairFilter(thresh=0.1, mode=mode)],
            depth_meta=meta([kind], ranges=ranges[n:n + 1]))
        assert torch.equal(batch.final[n], alone.final[0]), kind
    # the two tests differ on this data (the mix is not vacuous)
    relative = positive_pair_masks(coord, depth, (4, 4), scale,
                                   [DepthPairFilter(thresh=0.1)])
    assert not torch.equal(relative.final[1], batch.final[1])


# ---------------------------------------------- 9: invalid depth as far
def sky_building(size=16):
    """Cityscapes-like: rows above 3/8 of the image are sky (no depth);
    below, a building at 20 m whose depth grows by 1 m per row of cells."""
    rows = torch.arange(size)[:, None].expand(size, size).float()
    depth = 20. + rows * 4. / size
    depth[:size * 3 // 8] = 0.
    return depth


def test_far_separates_sky_from_buildings():
    image = sky_building()
    coord = torch.tensor([[FULL, FULL]])
    depth = torch.stack([image, image])[None]
    scale = dict(spatial_thresh=2.5)
    pooled = pool_depth(image[None], (4, 4)).flatten()
    results = {}
    for invalid in ('pass', 'reject', 'far'):
        filt = DepthPairFilter(thresh=0.1, invalid=invalid)
        pairs = positive_pair_masks(coord, depth, (4, 4), scale, [filt])
        results[invalid] = pairs.final[0]
        spatial = pairs.spatial[0]
    for i in range(16):
        for j in range(16):
            zi, zj = float(pooled[i]), float(pooled[j])
            sky_i, sky_j = zi == 0, zj == 0
            if sky_i and sky_j:
                far = pass_ = True
            elif sky_i or sky_j:
                far, pass_ = False, True  # sky vs building
            else:
                far = pass_ = abs(zi - zj) / max(zi, zj) < 0.1
            assert bool(results['far'][i, j]) == (far and bool(spatial[i, j]))
            assert bool(results['pass'][i, j]) == (pass_ and
                                                   bool(spatial[i, j]))
    sky = pooled == 0
    edge = spatial & sky[:, None] & ~sky[None, :]
    assert edge.any() and sky.any() and (~sky).any()
    assert results['pass'][edge].all()  # pass: sky joins the building
    assert not results['far'][edge].any()  # far: it does not
    assert results['far'][sky[:, None] & sky[None, :] & spatial].all()
    assert not results['reject'][sky[:, None] & sky[None, :]].any()


def test_far_is_a_depth_filter_option_only():
    with pytest.raises(ValueError, match='invalid'):
        NormalPairFilter(invalid='far')
    with pytest.raises(ValueError, match='invalid'):
        DepthPairFilter(invalid='near')


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
