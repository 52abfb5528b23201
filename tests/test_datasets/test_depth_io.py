"""Depth file I/O (projects/depth_pixpro/datasets/depth_io.py): metric
PNGs in millimetres read back by LoadDepth, and the encoding of every depth
kind with its way back."""
import os

import numpy as np
import pytest

from projects.depth_pixpro.datasets.depth_io import (decode_depth_by_kind,
                                                     encode_depth_by_kind,
                                                     encode_depth_png,
                                                     read_depth_png,
                                                     write_depth_png)
from projects.depth_pixpro.datasets.transforms import LoadDepth


# ------------------------------------------------ depth I/O and new names
def test_depth_png_encoding_round_trip(tmp_path):
    depth = np.array([[1.2344, 1.2346, 0.0, -1.0],
                      [np.nan, np.inf, 65.535, 65.5356]])
    raw = encode_depth_png(depth)
    # rounded millimetres; NaN, inf, <= 0 and beyond 16 bits are 0 (invalid,
    # never saturated to 65535)
    np.testing.assert_array_equal(
        raw, np.array([[1234, 1235, 0, 0], [0, 0, 65535, 0]], np.uint16))
    path = str(tmp_path / 'sub' / 'd.png')
    write_depth_png(path, depth)
    assert sorted(os.listdir(tmp_path / 'sub')) == ['d.png']  # no temp left
    # the PNG the writers produce is what LoadDepth decodes
    loaded = LoadDepth()(dict(depth_map_path=path))['depth']
    np.testing.assert_array_equal(loaded, raw / np.float32(1000.))
    np.testing.assert_array_equal(read_depth_png(path), loaded)
    assert encode_depth_png(np.array([[2.0]]), 100.)[0, 0] == 200
    with pytest.raises(ValueError, match='depth_scale'):
        encode_depth_png(depth, 0.)


def test_encode_decode_hand_case():
    pred = np.array([[1., 2.], [3., np.nan]])
    raw, meta = encode_depth_by_kind(pred, 'affine')
    assert raw.dtype == np.uint16
    assert raw.tolist() == [[1, 32768], [65535, 0]]
    assert meta['min'] == 1. and meta['max'] == 3.
    assert meta['depth_scale'] == 65535 and meta['invalid_pixels'] == 1
    assert np.allclose(decode_depth_by_kind(raw, meta),
                       [[1., 2.], [3., 0.]], atol=1e-4)
    raw, meta = encode_depth_by_kind(np.array([[1.2344, 70.], [-1., 0.5]]),
                                     'metric')
    assert raw.tolist() == [[1234, 0], [0, 500]]
    assert meta['depth_scale'] == 1000 and meta['invalid_pixels'] == 2
    with pytest.raises(ValueError, match='depth_kind must be one of'):
        encode_depth_by_kind(pred, 'disparity')


def test_scale_only_kinds_keep_their_kind():
    pred = np.array([[1., 2.], [4., -1.]])
    raw, meta = encode_depth_by_kind(pred, 'inverse')
    # value / max * 65535: ratios survive (no shift), <= 0 is invalid
    assert raw.tolist() == [[16384, 32768], [65535, 0]]
    assert meta['depth_kind'] == 'inverse' and meta['depth_scale'] == 65535
    assert np.allclose(decode_depth_by_kind(raw, meta),
                       [[1., 2.], [4., 0.]], atol=1e-4)
    assert encode_depth_by_kind(pred, 'scale_free')[1]['depth_kind'] == \
        'scale_free'
