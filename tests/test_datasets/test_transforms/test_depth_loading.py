"""LoadDepth: formats, units, invalid values and bad inputs."""
import json
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS

from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
from projects.depth_pixpro.datasets.transforms.depth_loading import (
    DepthSizeMismatchWarning, LoadDepth, disparity_to_depth, sanitize_depth)

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26


def _write_png16(path, arr):
    assert cv2.imwrite(str(path), arr.astype(np.uint16))
    return str(path)


def _write_img(path, h, w, seed=0):
    img = np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)
    assert cv2.imwrite(str(path), img)
    return str(path), img


def test_registered_in_both_scopes():
    assert PRETRAIN_TRANSFORMS.get('LoadDepth') is LoadDepth
    assert SEG_TRANSFORMS.get('LoadDepth') is LoadDepth
    t = SEG_TRANSFORMS.build(dict(type='LoadDepth', max_depth=5.0))
    assert isinstance(t, LoadDepth) and t.max_depth == 5.0


def test_png16_millimetres_to_metres(tmp_path):
    raw = np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000 + 7
    raw[0, 0] = 0
    path = _write_png16(tmp_path / 'd.png', raw)
    out = LoadDepth()(dict(depth_map_path=path, depth_scale=1000.0))
    depth = out['depth']
    assert depth.dtype == np.float32 and depth.shape == (3, 4)
    np.testing.assert_allclose(depth, raw / 1000.0, rtol=1e-6)
    assert depth[0, 0] == 0 and out['depth_kind'] == 'metric'
    # default PNG scale is 1000 (mm); another scale divides by it
    np.testing.assert_allclose(
        LoadDepth()(dict(depth_map_path=path))['depth'], raw / 1000.0, rtol=1e-6)
    np.testing.assert_allclose(
        LoadDepth(depth_scale=5000.)(dict(depth_map_path=path))['depth'],
        raw / 5000.0, rtol=1e-6)


def test_sample_info_overrides_transform_defaults(tmp_path):
    raw = np.full((2, 2), 4000, np.uint16)
    path = _write_png16(tmp_path / 'd.png', raw)
    out = LoadDepth(depth_scale=1000.)(
        dict(depth_map_path=path, depth_scale=2000., depth_kind='inverse'))
    np.testing.assert_allclose(out['depth'], 2.0)
    assert out['depth_kind'] == 'inverse'


def test_npy_npz_metres_and_invalid_values(tmp_path):
    d = np.array([[1.5, np.nan, np.inf], [-2.0, 0.0, 30.0]], np.float64)
    expected = np.array([[1.5, 0, 0], [0, 0, 30.0]], np.float32)
    np.save(tmp_path / 'd.npy', d)
    out = LoadDepth()(dict(depth_map_path=str(tmp_path / 'd.npy')))
    np.testing.assert_array_equal(out['depth'], expected)
    assert out['depth'].dtype == np.float32
    np.savez(tmp_path / 'one.npz', d)  # single unnamed array
    np.testing.assert_array_equal(
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'one.npz')))['depth'],
        expected)
    np.savez(tmp_path / 'two.npz', depth=d, other=np.ones(3))
    np.testing.assert_array_equal(
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'two.npz')))['depth'],
        expected)
    np.savez(tmp_path / 'bad.npz', a=d, b=d)
    with pytest.raises(ValueError, match='bad.npz'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'bad.npz')))
    # max_depth: farther values become invalid
    out = LoadDepth(max_depth=10.)(dict(depth_map_path=str(tmp_path / 'd.npy')))
    assert out['depth'][1, 2] == 0 and out['depth'][0, 0] == 1.5


def test_sanitize_depth_reference():
    d = np.array([np.nan, -np.inf, np.inf, -1e-3, 0, 2.5, 99], np.float32)
    np.testing.assert_array_equal(sanitize_depth(d, max_depth=50),
                                  [0, 0, 0, 0, 0, 2.5, 0])


def test_cityscapes_disparity_to_metric_depth(tmp_path):
    p = np.array([[0, 1, 2, 257], [513, 1025, 40000, 65535]], np.uint16)
    baseline, fx = 0.209313, 2262.52
    disp = _write_png16(tmp_path / 'x_disparity.png', p)
    cam = tmp_path / 'x_camera.json'
    cam.write_text(json.dumps(dict(
        extrinsic=dict(baseline=baseline, pitch=0.03, roll=0, x=1.7, y=0.1,
                       yaw=-0.01, z=1.2),
        intrinsic=dict(fx=fx, fy=2265.3, u0=1048.6, v0=519.3))))
    out = LoadDepth()(dict(depth_map_path=disp,
                           depth_format='cityscapes_disparity',
                           camera_path=str(cam)))
    expected = np.zeros(p.shape, np.float64)
    for idx in np.ndindex(p.shape):  # brute force: d = (p-1)/256, p<=1 bad
        if p[idx] > 1:
            expected[idx] = baseline * fx / ((float(p[idx]) - 1) / 256)
    np.testing.assert_allclose(out['depth'], expected, rtol=1e-5)
    assert out['depth'][0, 0] == 0 and out['depth'][0, 1] == 0
    # p = 2 -> d = 1/256 -> 121 km: clipped by max_depth like noisy far depth
    out = LoadDepth(max_depth=100.)(dict(
        depth_map_path=disp, depth_format='cityscapes_disparity',
        camera=json.loads(cam.read_text())))
    keep = expected <= 100.
    np.testing.assert_allclose(out['depth'], np.where(keep, expected, 0),
                               rtol=1e-5)
    assert keep[1, 2] and not keep[0, 3]  # 3 m kept, 473 m (d = 1) dropped
    np.testing.assert_allclose(disparity_to_depth(p, 1.0, 256.0)[0, 3], 256.)


def test_cityscapes_bad_camera(tmp_path):
    disp = _write_png16(tmp_path / 'x_disparity.png', np.full((2, 2), 300))
    (tmp_path / 'c.json').write_text('{"intrinsic": {"fx": 2000}}')
    with pytest.raises(ValueError, match='baseline'):
        LoadDepth()(dict(depth_map_path=disp, depth_format='cityscapes_disparity',
                         camera_path=str(tmp_path / 'c.json')))
    with pytest.raises(FileNotFoundError, match='nope.json'):
        LoadDepth()(dict(depth_map_path=disp, depth_format='cityscapes_disparity',
                         camera_path=str(tmp_path / 'nope.json')))
    with pytest.raises(ValueError, match='camera'):
        LoadDepth()(dict(depth_map_path=disp,
                         depth_format='cityscapes_disparity'))


def test_missing_and_corrupt_depth(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.png'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'missing.png')))
    (tmp_path / 'corrupt.png').write_bytes(b'\x89PNG\r\n garbage')
    with pytest.raises(ValueError, match='corrupt.png'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'corrupt.png')))
    (tmp_path / 'corrupt.npy').write_bytes(b'not numpy')
    with pytest.raises(ValueError, match='corrupt.npy'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'corrupt.npy')))
    np.save(tmp_path / 'three_d.npy', np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match='three_d.npy'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'three_d.npy')))


def test_8bit_and_colour_png(tmp_path):
    raw8 = np.array([[10, 20], [30, 0]], np.uint8)
    assert cv2.imwrite(str(tmp_path / 'd8.png'), raw8)
    with pytest.raises(ValueError, match='8-bit'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'd8.png')))
    t = LoadDepth(allow_8bit=True, depth_scale=10.)
    out = t(dict(depth_map_path=str(tmp_path / 'd8.png')))
    np.testing.assert_allclose(out['depth'], raw8 / 10.)
    assert t.num_8bit == 1
    assert cv2.imwrite(str(tmp_path / 'rgb.png'), np.zeros((2, 2, 3),
                                                           np.uint8))
    with pytest.raises(ValueError, match='channels'):
        LoadDepth(allow_8bit=True)(dict(depth_map_path=str(tmp_path / 'rgb.png')))


def test_all_invalid_depth_still_loads(tmp_path):
    path = _write_png16(tmp_path / 'z.png', np.zeros((4, 5)))
    out = LoadDepth()(dict(depth_map_path=path))
    assert out['depth'].shape == (4, 5) and not out['depth'].any()


def test_size_mismatch_resize_nearest_warns_once(tmp_path):
    img_path, _ = _write_img(tmp_path / 'i.png', 8, 12)
    # 2x3 depth with distinct values -> each becomes a 4x4 block (nearest)
    raw = np.array([[1000, 2000, 3000], [4000, 5000, 6000]], np.uint16)
    depth_path = _write_png16(tmp_path / 'd.png', raw)
    t = LoadDepth()
    with pytest.warns(DepthSizeMismatchWarning, match='nearest'):
        out = t(LoadImageFromFile()(dict(img_path=img_path,
                                         depth_map_path=depth_path)))
    expected = np.kron(raw / 1000., np.ones((4, 4)))
    np.testing.assert_allclose(out['depth'], expected)
    assert set(np.unique(out['depth'])) == set(raw.ravel() / 1000.)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # second time: counted, not warned
        t(LoadImageFromFile()(dict(img_path=img_path,
                                   depth_map_path=depth_path)))
    assert t.num_resized == 2
    with pytest.raises(ValueError, match=r'3x2.*12x8'):
        LoadDepth(on_size_mismatch='error')(LoadImageFromFile()(
            dict(img_path=img_path, depth_map_path=depth_path)))


def test_resize_image_to_depth(tmp_path):
    """ScanNet reader.py export: colour bigger than depth -> image resized."""
    img_path, img = _write_img(tmp_path / 'c.png', 12, 16)
    depth_path = _write_png16(tmp_path / 'd.png', np.full((6, 8), 1500))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = LoadDepth()(LoadImageFromFile()(dict(
            img_path=img_path, depth_map_path=depth_path,
            resize_img_to_depth=True)))
    assert out['img'].shape == (6, 8, 3) and out['img_shape'] == (6, 8)
    # area interpolation by 2: each pixel is the mean of a 2x2 block
    ref = img.reshape(6, 2, 8, 2, 3).astype(float).mean(axis=(1, 3))
    assert np.abs(out['img'].astype(float) - ref).max() <= 1.0
    np.testing.assert_allclose(out['depth'], 1.5)


def test_corrupt_or_missing_image_names_file(tmp_path):
    """mmcv's LoadImageFromFile already names the file (documented here)."""
    (tmp_path / 'bad.jpg').write_bytes(b'nope')
    with pytest.raises(AssertionError, match='bad.jpg'):
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'bad.jpg')))
    with pytest.raises(FileNotFoundError, match='gone.jpg'):
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'gone.jpg')))
    # without mmcv's assert (python -O) LoadDepth still names the image
    depth_path = _write_png16(tmp_path / 'd.png', np.ones((2, 2)))
    with pytest.raises(ValueError, match='bad.jpg'):
        LoadDepth()(dict(img=None, img_path=str(tmp_path / 'bad.jpg'),
                         depth_map_path=depth_path))


def test_bad_arguments():
    with pytest.raises(ValueError, match='depth_kind'):
        LoadDepth(depth_kind='disparity')
    with pytest.raises(ValueError, match='depth_format'):
        LoadDepth(depth_format='exr')
    with pytest.raises(ValueError, match='on_size_mismatch'):
        LoadDepth(on_size_mismatch='crop')
    with pytest.raises(ValueError, match='infer'):
        LoadDepth()(dict(depth_map_path=osp.join('x', 'depth.tiff')))


def test_depth_map_path_is_the_one_key(tmp_path):
    path = _write_png16(tmp_path / 'd.png', np.full((2, 3), 2500))
    depth = LoadDepth()(dict(depth_map_path=path))['depth']
    assert depth.shape == (2, 3) and depth[0, 0] == np.float32(2.5)
    with pytest.raises(KeyError, match='depth_map_path'):
        LoadDepth()(dict(img_path='x.png'))
    with pytest.raises(KeyError, match='depth_map_path'):
        LoadDepth()(dict(depth_path=path))  # not a key of this project


def test_scale_free_kind_and_unknown_kinds(tmp_path):
    from projects.depth_pixpro.datasets.transforms import depth_loading
    assert depth_loading.DEFAULT_DEPTH_SCALES == dict(
        png=1000.0, npy=1.0, npz=1.0)
    path = _write_png16(tmp_path / 'd.png', np.ones((2, 2)))
    out = LoadDepth(depth_kind='scale_free')(dict(depth_map_path=path))
    assert out['depth_kind'] == 'scale_free'
    with pytest.raises(ValueError, match="LoadDepth: depth_kind must be one "
                       r"of \('metric', 'inverse', 'scale_free', 'affine'\)"):
        LoadDepth(depth_kind='relative')  # a depth test, not a kind
    # a sample's own kind (set and checked by its dataset) passes through
    out = LoadDepth()(dict(depth_map_path=path, depth_kind='affine'))
    assert out['depth_kind'] == 'affine'


# ----------------------------------------------- hostile and wrong inputs
def test_depth_in_the_wrong_unit_warns_once_with_the_file(tmp_path):
    from projects.depth_pixpro.datasets.transforms.depth_loading import \
        DepthRangeWarning
    metres_png = _write_png16(tmp_path / 'm.png', np.array([[1, 3], [5, 0]]))
    mm_npy = str(tmp_path / 'mm.npy')
    np.save(mm_npy, np.array([[500., 5000.]], np.float32))
    good = _write_png16(tmp_path / 'ok.png', np.array([[800, 4000]]))
    t = LoadDepth()
    with pytest.warns(DepthRangeWarning, match=r'm\.png.*depth_scale'):
        t(dict(depth_map_path=metres_png))
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # once per transform, then counted
        t(dict(depth_map_path=mm_npy))
        t(dict(depth_map_path=good))
        # not metric: its scale is unknown, nothing to check
        t(dict(depth_map_path=metres_png, depth_kind='scale_free'))
    assert t.num_out_of_range == 2
    with pytest.warns(DepthRangeWarning, match='mm.npy'):
        LoadDepth()(dict(depth_map_path=mm_npy))
    with pytest.raises(ValueError, match=r'm\.png.*outside the expected'):
        LoadDepth(on_range_mismatch='error')(dict(depth_map_path=metres_png))
    # the dataset's own range (set per sample) takes precedence
    with pytest.raises(ValueError, match=r'\[0\.05, 2\]'):
        LoadDepth(on_range_mismatch='error')(dict(
            depth_map_path=mm_npy, depth_scale=100.,
            expected_depth_range=(0.05, 2.)))


def test_non_positive_depth_scale_is_an_error(tmp_path):
    path = _write_png16(tmp_path / 'd.png', np.full((2, 2), 1500))
    for bad in (0, -1000., float('nan')):
        with pytest.raises(ValueError, match='depth_scale'):
            LoadDepth()(dict(depth_map_path=path, depth_scale=bad))
        with pytest.raises(ValueError, match='depth_scale'):
            LoadDepth(depth_scale=bad)


def test_image_resized_to_depth_with_another_aspect_warns(tmp_path):
    img_path, _ = _write_img(tmp_path / 'c.png', 48, 64)
    depth_path = _write_png16(tmp_path / 'd.png', np.full((64, 64), 1500))
    t = LoadDepth()
    with pytest.warns(DepthSizeMismatchWarning, match=r'c\.png.*aspect'):
        out = t(LoadImageFromFile()(dict(
            img_path=img_path, depth_map_path=depth_path,
            resize_img_to_depth=True)))
    assert out['img'].shape == (64, 64, 3)


def test_empty_and_complex_depth_files_name_the_file(tmp_path):
    (tmp_path / 'empty.png').write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty\.png.*0 bytes'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'empty.png')))
    np.save(tmp_path / 'zero.npy', np.zeros((0, 0), np.float32))
    with pytest.raises(ValueError, match=r'zero\.npy.*empty'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'zero.npy')))
    np.save(tmp_path / 'cplx.npy', np.full((2, 2), 1 + 2j))
    with pytest.raises(ValueError, match=r'cplx\.npy.*complex'):
        LoadDepth()(dict(depth_map_path=str(tmp_path / 'cplx.npy')))
