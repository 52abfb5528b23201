"""The depth contract at the data boundary: every valid affine value is kept
(the normalized test stays shift-invariant), and a folder that does not say
what its depth is must be told."""
import json

import cv2
import numpy as np
import pytest
import torch

from projects.depth_pixpro.datasets import RGBDFolderDataset
from projects.depth_pixpro.datasets.transforms.depth_loading import (
    LoadDepth, affine_to_positive)
from projects.depth_pixpro.datasets.transforms.rgbd_views import \
    valid_depth_range
from projects.depth_pixpro.models.utils import (depth_positive_mask,
                                                normalize_depth, pool_depth)


def _affine_map():
    """Inverse depth of a monocular network, up to scale and shift, with a
    hole (NaN); values in [0, 1]."""
    y, x = np.mgrid[0:16, 0:16] / 15.
    value = 0.6 * x + 0.4 * y ** 2
    value[3, 4] = np.nan
    return value.astype(np.float32)


def _load(path):
    return LoadDepth()(dict(depth_map_path=str(path),
                            depth_kind='affine'))['depth']


@pytest.mark.parametrize('shift', [-0.5, -2., 3.])
def test_affine_values_are_all_kept_whatever_the_shift(tmp_path, shift):
    base = _affine_map()
    np.save(tmp_path / 'base.npy', base)
    np.save(tmp_path / 'shifted.npy', base + shift)
    loaded = {name: _load(tmp_path / f'{name}.npy')
              for name in ('base', 'shifted')}
    finite = np.isfinite(base)
    masks, shares = [], []
    for depth in loaded.values():
        assert ((depth > 0) == finite).all()  # every finite value kept
        depth = torch.from_numpy(depth)[None]
        low_high = torch.from_numpy(valid_depth_range(depth[0].numpy()))
        pooled = pool_depth(depth, (4, 4))
        mask = depth_positive_mask(pooled, pooled, 0.1, mode='normalized',
                                   depth_range=low_high[None])
        masks.append(mask)
        shares.append(float(mask.float().mean()))
        normalized = normalize_depth(depth, low_high[None])[0].numpy()
        np.testing.assert_allclose(normalized[finite],
                                   ((base - np.nanmin(base)) /
                                    (np.nanmax(base) - np.nanmin(base)))[
                                        finite], atol=1e-6)
    assert torch.equal(masks[0], masks[1]), shares
    assert 0 < shares[0] < 1


def test_affine_to_positive_hand_case():
    values = np.array([[-1., 0., 3.], [np.inf, 1., np.nan]])
    # span 4: -1 -> 4, 0 -> 5, 3 -> 8, 1 -> 6; inf and nan are holes
    np.testing.assert_array_equal(
        affine_to_positive(values), [[4., 5., 8.], [0., 6., 0.]])
    hole = np.array([[False, True, False], [False, False, False]])
    np.testing.assert_array_equal(
        affine_to_positive(values, hole), [[4., 0., 8.], [0., 6., 0.]])
    # a positive map is kept as stored; a constant one with 0 moves to 1
    np.testing.assert_array_equal(affine_to_positive(np.array([2., 5.])),
                                  [2., 5.])
    np.testing.assert_array_equal(affine_to_positive(np.zeros(2)), [1., 1.])


def test_affine_png_zero_is_a_hole(tmp_path):
    raw = np.array([[0, 1], [32768, 65535]], np.uint16)
    cv2.imwrite(str(tmp_path / 'a.png'), raw)
    depth = LoadDepth(depth_scale=65535.)(dict(
        depth_map_path=str(tmp_path / 'a.png'), depth_kind='affine'))['depth']
    np.testing.assert_allclose(depth, raw / 65535., rtol=1e-6)
    assert depth[0, 0] == 0


def _folder(root, info=None):
    (root / 'rgb').mkdir(parents=True)
    (root / 'depth').mkdir()
    cv2.imwrite(str(root / 'rgb' / 'a.png'), np.zeros((4, 4, 3), np.uint8))
    cv2.imwrite(str(root / 'depth' / 'a.png'),
                np.full((4, 4), 1000, np.uint16))
    if info is not None:
        (root / 'depth' / 'depth_info.json').write_text(json.dumps(info))


def test_folder_without_a_kind_must_be_told(tmp_path):
    _folder(tmp_path)
    with pytest.raises(ValueError) as err:
        RGBDFolderDataset(str(tmp_path))
    message = str(err.value)
    assert f'the depth kind of {tmp_path}/depth is unknown' in message
    assert "depth_kind='metric'" in message and "'affine'" in message
    ds = RGBDFolderDataset(str(tmp_path), depth_kind='affine')
    assert ds.get_data_info(0)['depth_kind'] == 'affine'
    # a missing root is said first
    with pytest.raises(FileNotFoundError, match='does not exist'):
        RGBDFolderDataset(str(tmp_path / 'nowhere'))


def test_folder_kind_from_depth_info(tmp_path):
    _folder(tmp_path, info=dict(depth_kind='inverse', depth_scale=65535.))
    ds = RGBDFolderDataset(str(tmp_path))
    assert ds.get_data_info(0)['depth_kind'] == 'inverse'
    assert ds.get_data_info(0)['depth_scale'] == 65535.
    # the config's kind wins over the file's
    ds = RGBDFolderDataset(str(tmp_path), depth_kind='scale_free')
    assert ds.get_data_info(0)['depth_kind'] == 'scale_free'
