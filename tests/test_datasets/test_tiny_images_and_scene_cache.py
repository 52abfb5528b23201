"""A 1x1 image is not trained as a flat patch without a word; the synthetic
segmentation cache never serves another renderer's (or user's) scenes."""
import os
import re
import warnings

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpretrain.registry import TRANSFORMS
from projects.depth_pixpro.datasets.segmentation import synthetic as seg
from projects.depth_pixpro.datasets.transforms.rgbd_views import (
    MAX_UPSAMPLING, TinyImageWarning)
from projects.depth_pixpro.synthetic import (render_scene,
                                             renderer_fingerprint)

VIEW = [dict(type='RGBDRandomResizedCrop', scale=32,
             crop_ratio_range=(0.5, 1.))]


def _multi_view():
    init_default_scope('mmpretrain')
    return TRANSFORMS.build(dict(type='RGBDMultiView', num_views=[2],
                                 transforms=[VIEW]))


def _sample(side, path):
    return dict(img=np.zeros((side, side, 3), np.uint8),
                depth=np.ones((side, side), np.float32), img_path=path)


def test_tiny_image_warns_once_and_is_counted():
    multi = _multi_view()
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # 32 / 4 = 8: still fine
        multi(_sample(32 // MAX_UPSAMPLING, 'ok.png'))
    with pytest.warns(TinyImageWarning,
                      match=re.escape('Image one_pixel.png is 1x1 but its '
                                      'views are 32x32: upsampled more than '
                                      '4x')):
        out = multi(_sample(1, 'one_pixel.png'))
    assert len(out['img']) == 2 and out['img'][0].shape == (32, 32, 3)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # once per transform (worker)
        multi(_sample(7, 'seven.png'))
    assert multi.num_tiny == 2


def test_renderer_fingerprint_is_stable_hex():
    value = renderer_fingerprint()
    assert re.fullmatch(r'[0-9a-f]{12}', value)
    renderer_fingerprint.cache_clear()
    assert renderer_fingerprint() == value


def _build(**kwargs):
    init_default_scope('mmseg')
    from mmseg.registry import DATASETS
    return DATASETS.build(dict(type='SyntheticSceneSegDataset',
                               num_images=1, size=(16, 16), pipeline=[],
                               **kwargs))


def test_scene_cache_is_keyed_by_the_renderer(tmp_path, monkeypatch):
    monkeypatch.setattr(seg, 'renderer_fingerprint', lambda: 'old-renderer')
    old = _build(cache_dir=str(tmp_path)).get_data_info(0)['seg_map_path']
    # what an older renderer left in the cache
    cv2.imwrite(old, np.full((16, 16), 3, np.uint8))
    monkeypatch.setattr(seg, 'renderer_fingerprint', lambda: 'new-renderer')
    info = _build(cache_dir=str(tmp_path)).get_data_info(0)
    assert info['seg_map_path'] != old
    expected = render_scene(info['seed'], size=(16, 16))['label']
    np.testing.assert_array_equal(
        cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED), expected)


def test_default_cache_is_per_user_and_owned(tmp_path, monkeypatch):
    monkeypatch.setattr(seg.tempfile, 'gettempdir', lambda: str(tmp_path))
    dataset = _build()
    expected = tmp_path / f'depth_pixpro_synthetic_seg-{os.getuid()}'
    assert dataset.cache_dir == str(expected)
    assert dataset.get_data_info(0)['seg_map_path'].startswith(str(expected))
    if os.getuid() != 0:
        pytest.skip('giving the folder to another user needs root')
    os.chown(expected, 4321, -1)  # planted by another user
    with pytest.raises(ValueError, match='belongs to another user; set '
                       'cache_dir='):
        _build()
