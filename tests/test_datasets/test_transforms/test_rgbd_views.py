"""Paired RGB-D views: image/depth/coord alignment, flips, packing, the
transforms' small contracts (recorded shape, independent views, registry
names, reprs) and the depth contract through the real pipeline
(RGBDMultiView -> PackRGBDInputs -> collate -> stack_depth -> masks)."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from mmpretrain.registry import TRANSFORMS
from projects.depth_pixpro.coord import compose_coord
from projects.depth_pixpro.datasets.transforms.rgbd_views import (
    PackRGBDInputs, RGBDMultiView, RGBDRandomFlip, RGBDRandomResizedCrop)
from projects.depth_pixpro.models.filters import DepthPairFilter
from projects.depth_pixpro.models.heads import positive_pair_masks
from projects.depth_pixpro.models.utils import pool_depth, stack_depth


# mmcv's ColorJitter (cv2 backend) warns on every call; harmless here.
# CI: numpy 2.x and 1.26.
pytestmark = [pytest.mark.filterwarnings(
    "ignore:Only use 'alpha' for pillow backend"), pytest.mark.numpy_compat]


H, W = 60, 80


def colour_coded_scene(seed=0):
    """An image whose colour encodes its depth exactly: code = B + 256 * G
    (BGR channels 0 and 1, code < 1000), depth = 0.5 + 0.02 * code; random
    10x10 blocks (step edges) and a horizontal gradient in the last 10
    rows."""
    rng = np.random.default_rng(seed)
    code = np.repeat(np.repeat(rng.integers(0, 1000, (H // 10, W // 10)),
                               10, 0), 10, 1)
    code[-10:] = np.arange(W)[None] * 3 + 100  # gradient rows
    img = np.stack([code % 256, code // 256, np.full_like(code, 77)],
                   -1).astype(np.uint8)
    depth = decode_depth(img)
    return img, depth


def decode_depth(img):
    code = img[..., 0].astype(np.float64) + 256. * img[..., 1]
    return (0.5 + 0.02 * code).astype(np.float32)


def box_from_coord(coord, img_h=H, img_w=W):
    """(top, left, height, width, flipped) of the integer crop box recorded
    by ``coord`` (inverse of the PixPro convention)."""
    x0, y0, x1, y1 = [float(c) for c in coord]
    flipped = x0 > x1
    xs = sorted([x0, x1])
    left = int(round(xs[0] * (img_w - 1)))
    width = int(round(xs[1] * (img_w - 1))) - left + 1
    top = int(round(y0 * (img_h - 1)))
    height = int(round(y1 * (img_h - 1))) - top + 1
    return top, left, height, width, flipped


def brute_force_nearest(src, coord, out_h, out_w):
    """Reference view of ``src`` for a recorded coord: output pixel (r, c)
    takes the source pixel whose cell contains its centre."""
    top, left, height, width, flipped = box_from_coord(
        coord, src.shape[0], src.shape[1])
    out = np.empty((out_h, out_w) + src.shape[2:], src.dtype)
    for r in range(out_h):
        sr = top + min(int((r + 0.5) * height / out_h), height - 1)
        for c in range(out_w):
            cc = out_w - 1 - c if flipped else c
            sc = left + min(int((cc + 0.5) * width / out_w), width - 1)
            out[r, c] = src[sr, sc]
    return out


def bin_centre_source(coord, out_h, out_w, img_h=H, img_w=W):
    """Nearest source pixel of every view pixel by the PixPro bin-centre
    formula used by the loss head (``c = (w + .5) * bw + x_ul``)."""
    x0, y0, x1, y1 = [float(c) for c in coord]
    cx = (np.arange(out_w) + 0.5) * (x1 - x0) / out_w + x0
    cy = (np.arange(out_h) + 0.5) * (y1 - y0) / out_h + y0
    cols = np.clip(np.round(cx * (img_w - 1)).astype(int), 0, img_w - 1)
    rows = np.clip(np.round(cy * (img_h - 1)).astype(int), 0, img_h - 1)
    return rows[:, None], cols[None, :]


def locally_constant(depth, radius=1):
    """True where the (2r+1)^2 neighbourhood has one depth value."""
    pad = np.pad(depth, radius, mode='edge')
    same = np.ones(depth.shape, bool)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            shifted = pad[dy:dy + depth.shape[0], dx:dx + depth.shape[1]]
            same &= shifted == depth
    return same


@pytest.mark.parametrize('seed', range(6))
def test_nearest_crop_and_flip_match_brute_force(seed):
    img, depth = colour_coded_scene(seed)
    np.random.seed(seed)
    out = TRANSFORMS.build(
        dict(type='RGBDRandomResizedCrop', scale=(24, 32),
             crop_ratio_range=(0.1, 1.),
             interpolation='nearest'))(dict(img=img, depth=depth))
    out = RGBDRandomFlip(prob=seed % 2)(out)
    # coord -> box -> brute-force crop reproduces image and depth exactly
    np.testing.assert_array_equal(out['img'],
                                  brute_force_nearest(img, out['coord'], 24,
                                                      32))
    np.testing.assert_array_equal(
        out['depth'], brute_force_nearest(depth, out['coord'], 24, 32))
    # and the view's depth is the depth its own pixels encode
    np.testing.assert_array_equal(out['depth'], decode_depth(out['img']))
    assert out['coord'].dtype == np.float32 and out['coord'].shape == (4, )
    assert (out['coord'][0] > out['coord'][2]) == bool(seed % 2)


@pytest.mark.parametrize('seed', range(6))
def test_bilinear_image_agrees_with_nearest_depth_off_edges(seed):
    img, depth = colour_coded_scene(seed)
    np.random.seed(100 + seed)
    out = RGBDRandomResizedCrop(scale=40, crop_ratio_range=(0.2, 1.))(
        dict(img=img, depth=depth))
    out = RGBDRandomFlip(prob=0.5)(out)
    # depth is never blended: exact brute-force nearest of the input depth
    np.testing.assert_array_equal(
        out['depth'], brute_force_nearest(depth, out['coord'], 40, 40))
    # where the source is flat, the bilinear image decodes to the same depth
    rows, cols = bin_centre_source(out['coord'], 40, 40)
    flat = locally_constant(depth, radius=2)[rows, cols]
    assert flat.mean() > 0.1
    np.testing.assert_allclose(
        decode_depth(out['img'])[flat], out['depth'][flat], atol=1e-5)


@pytest.mark.parametrize('seed', range(4))
def test_bin_centres_of_coord_find_the_view_depth(seed):
    """The loss head locates view pixels through the coord (PixPro bin
    centres); that location must hold the view's depth (within the one
    pixel the W vs W-1 convention allows), also after two crops and a
    flip composed."""
    img, depth = colour_coded_scene(seed)
    np.random.seed(seed)
    view = dict(img=img, depth=depth)
    view = RGBDRandomResizedCrop(
        scale=(50, 70), crop_ratio_range=(0.4, 1.))(view)
    view = RGBDRandomFlip(prob=1.0)(view)
    view = RGBDRandomResizedCrop(
        scale=(30, 30), crop_ratio_range=(0.3, 1.))(view)
    rows, cols = bin_centre_source(view['coord'], 30, 30)
    flat = locally_constant(depth, radius=2)[rows, cols]
    assert flat.sum() > 50
    np.testing.assert_array_equal(view['depth'][flat], depth[rows, cols][flat])


def test_two_views_agree_where_they_overlap():
    img, depth = colour_coded_scene(3)
    np.random.seed(7)
    multi = RGBDMultiView(
        transforms=[[
            dict(type='RGBDRandomResizedCrop', scale=32,
                 crop_ratio_range=(0.5, 1.),
                 interpolation='nearest'),
            dict(type='RGBDRandomFlip', prob=0.5)
        ]],
        num_views=[2])
    out = multi(dict(img=img, depth=depth))
    # map every view pixel to its source pixel through its coord
    sources = []
    for v in range(2):
        top, left, h, w, flipped = box_from_coord(out['coord'][v])
        r = top + np.minimum(((np.arange(32) + .5) * h / 32).astype(int),
                             h - 1)
        c = left + np.minimum(((np.arange(32) + .5) * w / 32).astype(int),
                              w - 1)
        if flipped:
            c = c[::-1]
        sources.append((r[:, None] * W + c[None, :]).ravel())
    common, i0, i1 = np.intersect1d(
        sources[0], sources[1], return_indices=True)
    assert len(common) > 20
    np.testing.assert_array_equal(out['depth'][0].ravel()[i0],
                                  out['depth'][1].ravel()[i1])
    np.testing.assert_array_equal(out['depth'][0].ravel()[i0],
                                  depth.ravel()[common])


def test_nearest_depth_values_are_input_values():
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.3, 9., (H, W)).astype(np.float32)
    depth[rng.uniform(size=(H, W)) < 0.2] = 0  # invalid stays exactly 0
    img = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    np.random.seed(0)
    for size in (16, 150):  # down- and up-sampling
        out = RGBDRandomResizedCrop(scale=size)(dict(img=img, depth=depth))
        assert out['depth'].shape == (size, size)
        assert out['depth'].dtype == np.float32
        assert np.isin(out['depth'], depth).all()


def test_flip_swaps_coord_and_mirrors():
    img, depth = colour_coded_scene(1)
    coord = np.array([0.1, 0.2, 0.7, 0.9], np.float32)
    out = RGBDRandomFlip(prob=1.0)(
        dict(img=img.copy(), depth=depth.copy(), coord=coord.copy()))
    np.testing.assert_array_equal(out['coord'], coord[[2, 1, 0, 3]])
    np.testing.assert_array_equal(out['img'], img[:, ::-1])
    np.testing.assert_array_equal(out['depth'], depth[:, ::-1])
    assert out['flip'] is True
    kept = RGBDRandomFlip(prob=0.0)(
        dict(img=img.copy(), depth=depth.copy()))
    np.testing.assert_array_equal(kept['coord'], [0, 0, 1, 1])
    np.testing.assert_array_equal(kept['img'], img)
    # flipping twice gives the identity
    twice = RGBDRandomFlip(prob=1.0)(RGBDRandomFlip(prob=1.0)(
        dict(img=img.copy(), depth=depth.copy(), coord=coord.copy())))
    np.testing.assert_array_equal(twice['coord'], coord)
    np.testing.assert_array_equal(twice['depth'], depth)


def test_compose_coord_hand_computed():
    outer = np.array([0.2, 0.4, 0.6, 1.0])
    np.testing.assert_allclose(
        compose_coord(outer, [0.5, 0., 1., 0.5]), [0.4, 0.4, 0.6, 0.7])
    flipped = np.array([0.6, 0.4, 0.2, 1.0])  # flipped view
    np.testing.assert_allclose(
        compose_coord(flipped, [0., 0., 0.5, 1.]), [0.6, 0.4, 0.4, 1.0])
    np.testing.assert_allclose(compose_coord([0, 0, 1, 1], outer), outer)


def test_photometric_transforms_leave_depth_and_coord_alone():
    img, depth = colour_coded_scene(2)
    coord = np.array([0.1, 0.0, 0.9, 1.0], np.float32)
    cfgs = [
        dict(type='RGBDColorJitter', brightness=0.4, contrast=0.4,
             saturation=0.4, hue=0.1),
        dict(type='RandomGrayscale', prob=1.0, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.2989)),
        dict(type='GaussianBlur', magnitude_range=(1.0, 2.0),
             magnitude_std='inf', prob=1.0),
        dict(type='Solarize', thr=128, prob=1.0),
        dict(type='RandomApply', prob=1.0,
             transforms=[dict(type='RGBDColorJitter', brightness=0.8)]),
    ]
    np.random.seed(0)
    pipeline = RGBDMultiView(transforms=[cfgs], num_views=1)
    before = depth.copy()
    out = pipeline(dict(img=img.copy(), depth=depth, coord=coord))
    np.testing.assert_array_equal(out['depth'][0], before)
    np.testing.assert_array_equal(out['coord'][0], coord)
    assert not np.array_equal(out['img'][0], img)
    for cfg in cfgs:
        single = TRANSFORMS.build(cfg) if cfg['type'] != 'RandomApply' else \
            pipeline.pipelines[0].transforms[-1]
        res = single(dict(img=img.copy(), depth=depth, coord=coord))
        np.testing.assert_array_equal(res['depth'], before)


def test_multiview_without_depth_and_size_checks():
    img, _ = colour_coded_scene(0)
    crop = dict(type='RGBDRandomResizedCrop', scale=20)
    out = RGBDMultiView(transforms=[[crop], [crop]], num_views=[2, 1])(
        dict(img=img))
    assert len(out['img']) == 3
    assert out['depth'].shape == (3, 20, 20)
    assert out['depth'].dtype == np.float32 and not out['depth'].any()
    assert out['coord'].shape == (3, 4) and out['has_depth'] is False
    # no geometric transform at all: the full-image coord
    plain = RGBDMultiView(transforms=[[]], num_views=1)(dict(img=img))
    np.testing.assert_array_equal(plain['coord'], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match='same size'):
        RGBDMultiView(
            transforms=[[crop], [dict(type='RGBDRandomResizedCrop',
                                      scale=24)]],
            num_views=[1, 1])(dict(img=img))
    with pytest.raises(ValueError, match='num_views'):
        RGBDMultiView(transforms=[[crop], [crop]], num_views=[1])
    with pytest.raises(ValueError, match='depth shape'):
        RGBDRandomResizedCrop(scale=8)(
            dict(img=img, depth=np.zeros((5, 5), np.float32)))


def test_pack_and_collate_end_to_end():
    view = [
        dict(type='RGBDRandomResizedCrop', scale=32,
             crop_ratio_range=(0.2, 1.)),
        dict(type='RGBDRandomFlip'),
        dict(type='RandomApply', prob=0.8, transforms=[
            dict(type='RGBDColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.2, hue=0.1)]),
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True),
    ]
    multi = RGBDMultiView(transforms=[view, view + [
        dict(type='Solarize', thr=128, prob=0.2)]], num_views=[1, 1])
    pack = PackRGBDInputs()
    np.random.seed(0)
    batch, expected = [], []
    for seed in range(3):
        img, depth = colour_coded_scene(seed)
        results = multi(dict(img=img, depth=depth, sample_idx=seed))
        expected.append((results['coord'].copy(), results['depth'].copy(),
                         [im.copy() for im in results['img']]))
        batch.append(pack(results))
    data = default_collate(batch)
    assert isinstance(data['inputs'], list) and len(data['inputs']) == 2
    for v in range(2):
        assert data['inputs'][v].shape == (3, 3, 32, 32)
        assert data['inputs'][v].dtype == torch.uint8
    assert len(data['data_samples']) == 3
    for n, (sample, (coord, depth, imgs)) in enumerate(
            zip(data['data_samples'], expected)):
        assert sample.coord.dtype == torch.float32
        assert sample.coord.shape == (2, 4)
        assert sample.depth.dtype == torch.float32
        assert sample.depth.shape == (2, 32, 32)
        np.testing.assert_array_equal(sample.coord.numpy(), coord)
        np.testing.assert_array_equal(sample.depth.numpy(), depth)
        assert sample.has_depth is True and sample.sample_idx == n
        # inputs keep the view order of coord/depth (HWC -> CHW)
        for v in range(2):
            np.testing.assert_array_equal(
                data['inputs'][v][n].permute(1, 2, 0).numpy(), imgs[v])
    with pytest.raises(KeyError, match='RGBDMultiView'):
        pack(dict(img=[np.zeros((4, 4, 3), np.uint8)]))


def test_crop_takes_mmpretrain_argument_names():
    img, depth = colour_coded_scene(1)
    crop = RGBDRandomResizedCrop(scale=(24, 32), crop_ratio_range=(0.2, 0.5),
                                 aspect_ratio_range=(0.5, 2.))
    assert crop.scale == (24, 32) and crop.crop_ratio_range == (0.2, 0.5)
    assert crop.aspect_ratio_range == (0.5, 2.)
    out = crop(dict(img=img, depth=depth))
    assert out['img'].shape[:2] == out['depth'].shape == (24, 32)
    square = RGBDRandomResizedCrop(16)  # positional, mmpretrain defaults
    assert square.scale == (16, 16)
    assert square.crop_ratio_range == (0.08, 1.0)
    assert square.aspect_ratio_range == (3. / 4., 4. / 3.)
    with pytest.raises(TypeError, match='scale'):
        RGBDRandomResizedCrop()


# ------------------------------------- depth contract through the pipeline
def _views(size):
    view = [dict(type='RGBDRandomResizedCrop', scale=size,
                 crop_ratio_range=(0.05, 0.1), interpolation='nearest')]
    return [dict(type='RGBDMultiView', transforms=[view, view],
                 num_views=[1, 1]),
            dict(type='PackRGBDInputs')]


def _write_rgbd_folder(root, depth_mm, kind=None, extra_images=()):
    """rgb/*.png + depth/*.png (uint16 mm) [+ depth_info.json]."""
    import json
    (root / 'rgb').mkdir(parents=True)
    (root / 'depth').mkdir()
    h, w = depth_mm.shape
    for name in ('a', ) + tuple(extra_images):
        cv2.imwrite(str(root / 'rgb' / f'{name}.png'),
                    np.full((h, w, 3), 90, np.uint8))
    cv2.imwrite(str(root / 'depth' / 'a.png'), depth_mm.astype(np.uint16))
    if kind is not None:
        (root / 'depth' / 'depth_info.json').write_text(
            json.dumps(dict(depth_kind=kind, depth_scale=1000.)))


def test_packed_sample_has_kind_flag_and_whole_image_range(tmp_path):
    """Folder dataset -> LoadDepth -> 2 small crops -> packed sample: the
    range is that of the WHOLE image (no crop sees both extremes)."""
    from mmpretrain.registry import DATASETS
    depth_mm = (2000 + 10 * np.arange(40 * 60)).reshape(40, 60)
    depth_mm[0, 0] = 0  # invalid: not the minimum
    depth_mm[5, 7] = 900  # the only near pixel
    _write_rgbd_folder(tmp_path, depth_mm, kind='affine',
                       extra_images=('b', ))
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadDepth')
                ] + _views(8)
    ds = DATASETS.build(dict(type='RGBDFolderDataset',
                             data_root=str(tmp_path), pipeline=pipeline,
                             keep_images_without_depth=True))
    assert len(ds) == 2
    np.random.seed(0)
    sample = ds[0]['data_samples']
    assert sample.depth_kind == 'affine' and sample.has_depth is True
    assert sample.depth_range.dtype == torch.float32
    full = depth_mm[depth_mm > 0] / 1000.
    np.testing.assert_allclose(sample.depth_range.numpy(),
                               [full.min(), full.max()], rtol=1e-6)
    for v in range(2):  # each crop covers <= 10 % of the image
        crop = sample.depth[v][sample.depth[v] > 0]
        assert crop.min() > 0.9 or crop.max() < full.max()
    # an image listed without depth: zeros, has_depth False, range (0, 0)
    bare = ds[1]['data_samples']
    assert bare.has_depth is False and not bare.depth.any()
    np.testing.assert_array_equal(bare.depth_range.numpy(), [0., 0.])
    assert bare.depth.shape == (2, 8, 8)


def test_every_dataset_packs_the_depth_contract(tmp_path):
    from mmengine.dataset import pseudo_collate
    from mmpretrain.registry import DATASETS
    from fixtures_rgbd import write_cityscapes, write_scannet

    from projects.depth_pixpro.models.utils.depth_meta import stack_depth
    write_scannet(tmp_path / 'scannet')
    write_cityscapes(tmp_path / 'city')
    _write_rgbd_folder(tmp_path / 'mono', np.full((12, 16), 700),
                       kind='affine', extra_images=('b', ))
    load = [dict(type='LoadImageFromFile'), dict(type='LoadDepth')]
    mono = dict(type='RGBDFolderDataset', data_root=str(tmp_path / 'mono'),
                keep_images_without_depth=True, pipeline=load + _views(8))
    cfgs = [
        dict(type='SyntheticRGBDDataset', num_samples=1, img_size=24,
             pipeline=_views(8)),
        dict(type='ScanNetRGBDDataset', data_root=str(tmp_path / 'scannet'),
             pipeline=load + _views(8)),
        dict(type='CityscapesRGBDDataset', data_root=str(tmp_path / 'city'),
             pipeline=load + _views(8)),
    ]
    samples = [DATASETS.build(cfg)[0] for cfg in cfgs]
    meta = [s['data_samples'] for s in samples]
    samples += [DATASETS.build(mono)[i] for i in range(2)]
    assert [m.depth_kind for m in meta] == ['metric'] * 3
    assert all(m.has_depth for m in meta)
    from projects.depth_pixpro.synthetic import render_scene
    ref = render_scene(0, (24, 24))['depth']
    np.testing.assert_allclose(meta[0].depth_range.numpy(),
                               [ref.min(), ref.max()], rtol=1e-6)
    np.testing.assert_allclose(meta[1].depth_range.numpy(), [1.5, 1.5])
    z = 0.2 * 2000. / ((5000 - 1) / 256.)  # Cityscapes disparity -> metres
    np.testing.assert_allclose(meta[2].depth_range.numpy(), [z, z],
                               rtol=1e-5)
    # the model side reads a batch of mixed kinds, with and without depth
    depth, depth_meta = stack_depth(pseudo_collate(samples)['data_samples'])
    assert depth.shape == (5, 2, 8, 8)
    assert depth_meta.kinds == ('metric', ) * 3 + ('affine', ) * 2
    assert depth_meta.has_depth.tolist() == [True] * 4 + [False]
    assert not depth[4].any()
    np.testing.assert_allclose(
        depth_meta.ranges[:4].numpy(),
        np.stack([m.depth_range for m in meta] + [[0.7, 0.7]]))


def test_all_invalid_depth_counts_as_no_depth():
    img = np.zeros((16, 16, 3), np.uint8)
    out = RGBDMultiView(transforms=[[]], num_views=1)(
        dict(img=img, depth=np.zeros((16, 16), np.float32)))
    assert out['has_depth'] is False
    np.testing.assert_array_equal(out['depth_range'], [0, 0])
    out = RGBDMultiView(transforms=[[]], num_views=1)(
        dict(img=img, depth=np.full((16, 16), 2., np.float32)))
    assert out['has_depth'] is True and out['depth_kind'] == 'metric'


def sample(h=40, w=50):
    rng = np.random.default_rng(0)
    return dict(img=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
                depth=rng.uniform(0.5, 4., (h, w)).astype(np.float32),
                meta=dict(seen=[]))


def test_crop_records_the_output_shape():
    out = RGBDRandomResizedCrop(scale=(24, 32))(sample())
    assert out['img'].shape == (24, 32, 3)
    assert tuple(out['img_shape']) == (24, 32)
    assert out['depth'].shape == (24, 32)


def test_views_do_not_share_nested_state():
    """Each view pipeline gets its own deep copy of the sample: a transform
    that edits a nested object in place cannot leak into the other view."""

    def mark(results):
        results['meta']['seen'].append(len(results['meta']['seen']))
        results['img'] = results['img'].copy()
        results['img'][0, 0] = len(results['meta']['seen'])
        return results

    crop = dict(type='RGBDRandomResizedCrop', scale=16)
    multi = RGBDMultiView([[crop, mark], [crop, mark]], num_views=[1, 1])
    data = sample()
    out = multi(data)
    assert [int(img[0, 0, 0]) for img in out['img']] == [1, 1]
    assert data['meta']['seen'] == [] and out['meta']['seen'] == []
    assert tuple(out['img_shape']) == (16, 16)


def test_registered_names_build_the_classes():
    for name in ('RGBDRandomResizedCrop', 'RGBDRandomFlip', 'RGBDMultiView',
                 'PackRGBDInputs'):
        assert TRANSFORMS.get(name) is not None, name
        assert TRANSFORMS.get(name).__name__ == name


def test_reprs_name_the_views():
    multi = RGBDMultiView(
        [[dict(type='RGBDRandomResizedCrop', scale=16)],
         [dict(type='RGBDRandomResizedCrop', scale=16),
          dict(type='RGBDRandomFlip', prob=0.5)]], num_views=[1, 2])
    text = repr(multi)
    assert text.startswith('RGBDMultiView(')
    assert 'Pipeline 1 with 1 views' in text
    assert 'Pipeline 2 with 2 views' in text
    assert 'RGBDRandomFlip' in text and text.endswith(')')


NEAR, WALL = 1.5, (2., 3.)  # a box at 1.5 m in front of a 2-3 m wall


VIEW = [
    dict(type='RGBDRandomResizedCrop', scale=32, crop_ratio_range=(0.1, 1.)),
    dict(type='RGBDRandomFlip', prob=0.5),
]


def wall_with_box(height=96, width=128):
    u = (np.arange(width) + 0.5) / width
    depth = np.repeat((WALL[0] + (WALL[1] - WALL[0]) * u)[None], height, 0)
    depth[60:80, 10:40] = NEAR
    depth[:4] = 0  # a few invalid rows
    return depth.astype(np.float32)


def pipeline_batch(num, kinds, seed=0):
    np.random.seed(seed)
    multi = RGBDMultiView(transforms=[VIEW, VIEW], num_views=[1, 1])
    pack = PackRGBDInputs()
    img = np.random.randint(0, 255, (96, 128, 3), np.uint8)
    batch = []
    for n in range(num):
        depth = wall_with_box()
        if kinds[n % len(kinds)] is None:  # a sample without depth
            results = dict(img=img.copy(), img_path=f'{n}.png')
        else:
            results = dict(img=img.copy(), depth=depth, img_path=f'{n}.png',
                           depth_kind=kinds[n % len(kinds)])
        batch.append(pack(multi(results)))
    data = default_collate(batch)
    coord = torch.stack([s.coord for s in data['data_samples']])
    return coord, data['data_samples']


def test_normalized_pairs_through_the_pipeline_use_the_image_range():
    coord, samples = pipeline_batch(40, ['affine'])
    depth, meta = stack_depth(samples)
    # the range is the whole image's, measured before cropping
    image = wall_with_box()
    low, high = float(image[image > 0].min()), float(image.max())
    assert torch.equal(meta.ranges, torch.tensor([[low, high]] * 40))
    assert meta.kinds == ('affine', ) * 40 and meta.has_depth.all()
    scale, tau, span = dict(spatial_thresh=1.4), 0.1, high - low
    pairs = positive_pair_masks(coord, depth, (4, 4), scale,
                                [DepthPairFilter(thresh=tau, mode='auto')],
                                depth_meta=meta)
    # normalised with the image's range, a difference of tau is tau * span
    # metres, whatever the crops
    zq, zk = (pool_depth(depth[:, v], (4, 4)).flatten(1) for v in (0, 1))
    valid = (zq > 0)[:, :, None] & (zk > 0)[:, None, :]
    metres = (zq[:, :, None] - zk[:, None, :]).abs()
    expected = pairs.spatial & (~valid | (metres < tau * span))
    tie = (metres - tau * span).abs() < 1e-4  # float rounding only
    assert torch.equal(pairs.final & ~tie, expected & ~tie)
    removed = pairs.spatial.sum() - pairs.final.sum()
    assert 0 < removed < pairs.spatial.sum()
    # normalising each crop by its own range would change the result

    def per_crop(z):
        lo = torch.where(z > 0, z, torch.full_like(z, 1e9)).amin(1, True)
        hi = z.amax(1, keepdim=True)
        return (z - lo) / (hi - lo).clamp(min=1e-6)

    crop_diff = (per_crop(zq)[:, :, None] - per_crop(zk)[:, None, :]).abs()
    per_crop_final = pairs.spatial & (~valid | (crop_diff < tau))
    assert not torch.equal(per_crop_final, pairs.final)


@pytest.mark.parametrize('invalid', ['pass', 'reject', 'far'])
def test_mixed_kinds_and_a_sample_without_depth_through_the_pipeline(
        invalid):
    kinds = ['metric', 'affine', None, 'inverse']
    coord, samples = pipeline_batch(8, kinds, seed=3)
    depth, meta = stack_depth(samples)
    assert meta.kinds[:2] == ('metric', 'affine')
    assert meta.has_depth.tolist() == [True, True, False, True] * 2
    pairs = positive_pair_masks(
        coord, depth, (4, 4), dict(spatial_thresh=1.4),
        [DepthPairFilter(thresh=0.05, mode='auto', invalid=invalid)],
        depth_meta=meta)
    no_depth = ~meta.has_depth
    assert torch.equal(pairs.final[no_depth], pairs.spatial[no_depth])
    assert pairs.final[~no_depth].sum() < pairs.spatial[~no_depth].sum()
    # a fixed mode that an affine sample does not allow is refused
    with pytest.raises(ValueError, match="'affine' depth of sample '1.png'"):
        positive_pair_masks(coord, depth, (4, 4), dict(spatial_thresh=1.4),
                            [DepthPairFilter(mode='relative')],
                            depth_meta=meta)


def test_a_dataset_of_files_without_loading_steps_is_refused(nyuv2_mini):
    """The CPU demo's pipeline (the rooms come loaded) on NYUv2 files: an
    error that names the missing steps, not KeyError: 'img'."""
    from mmengine.config import Config

    from helpers import SYNTHETIC_CFG
    from mmpretrain.registry import DATASETS
    demo = Config.fromfile(SYNTHETIC_CFG).train_dataloader.dataset.pipeline
    dataset = DATASETS.build(dict(type='NYUv2RGBDDataset',
                                  data_root=nyuv2_mini, pipeline=demo))
    with pytest.raises(ValueError, match=r"no image loading step .*0001\.png"
                       r".*add dict\(type='LoadImageFromFile'\) and "
                       r"dict\(type='LoadDepth'\)"):
        dataset[0]
    # image loaded, depth file named but never loaded: it would train as
    # PixPro without a word
    dataset = DATASETS.build(dict(
        type='NYUv2RGBDDataset', data_root=nyuv2_mini,
        pipeline=[dict(type='LoadImageFromFile')] + demo))
    with pytest.raises(ValueError, match=r'no depth loading step .*depth'):
        dataset[0]
