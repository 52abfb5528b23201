"""RGBDColorJitter: mmpretrain's ColorJitter on the same random draws, with
a hue shift that does not overflow under numpy 2."""
import math

import numpy as np
import pytest
from PIL import Image

from mmpretrain.datasets.transforms import ColorJitter
from projects.depth_pixpro.datasets.transforms.color_jitter import (
    RGBDColorJitter, adjust_hue, hue_shift)

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26

NUMPY_1 = int(np.__version__.split('.')[0]) < 2
JITTER = dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.5)


def _image(seed, size=(9, 11)):
    return np.random.default_rng(seed).integers(
        0, 256, (*size, 3), dtype=np.uint8)


def test_hue_shift_is_the_c_cast_of_numpy_1():
    """Truncation toward zero, then the low 8 bits (two's complement)."""
    for factor in np.linspace(-0.5, 0.5, 2001):
        expected = math.trunc(float(factor) * 255) & 0xFF
        assert hue_shift(float(factor)) == expected
        assert hue_shift(float(factor)).dtype == np.uint8
        if NUMPY_1:
            assert hue_shift(float(factor)) == np.uint8(float(factor) * 255)


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
@pytest.mark.parametrize('factor', [-0.5, -0.3, -0.07, 0., 0.05, 0.5])
def test_adjust_hue_rotates_the_hue_channel(backend, factor):
    """The HSV hue channel plus the wrapped shift, the rest unchanged:
    written out with int64 arithmetic (no uint8 wrap-around)."""
    img = _image(1)
    shift = math.trunc(factor * 255) % 256
    if backend == 'pillow':
        hsv = np.array(Image.fromarray(img[..., ::-1].copy()).convert('HSV'))
        hsv[..., 0] = (hsv[..., 0].astype(np.int64) + shift) % 256
        expected = np.array(Image.fromarray(hsv, 'HSV').convert('RGB'))
        expected = expected[..., ::-1]
    else:
        import cv2
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
        hsv[..., 0] = (hsv[..., 0].astype(np.int64) + shift) % 256
        expected = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)
    out = adjust_hue(img, factor, backend=backend)
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_adjust_hue_equals_mmcv_where_mmcv_runs(backend):
    """mmcv's own adjust_hue: every factor under numpy 1, the non-negative
    ones under numpy 2 (negative ones overflow there)."""
    import mmcv
    img = _image(2)
    factors = np.linspace(-0.5, 0.5, 41)
    for factor in factors if NUMPY_1 else factors[factors >= 0]:
        np.testing.assert_array_equal(
            adjust_hue(img, float(factor), backend=backend),
            mmcv.adjust_hue(img, float(factor), backend=backend))


def test_adjust_hue_refuses_bad_input():
    with pytest.raises(ValueError, match=r'hue_factor 0.6'):
        adjust_hue(_image(0), 0.6)
    with pytest.raises(ValueError, match='backend'):
        adjust_hue(_image(0), 0.1, backend='turbo')
    with pytest.raises(TypeError, match='HxWx3'):
        adjust_hue(np.zeros((4, 4), np.uint8), 0.1)


@pytest.mark.skipif(not NUMPY_1, reason="mmcv's ColorJitter overflows "
                    'under numpy 2 (the reason for RGBDColorJitter)')
@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_same_output_as_mmpretrain_under_numpy_1(backend):
    """Same seed, same draws, same image, over many draws (negative hues
    included, each of the 24 orders of the four adjustments likely)."""
    ours = RGBDColorJitter(**JITTER, backend=backend)
    theirs = ColorJitter(**JITTER, backend=backend)
    for seed in range(60):
        img = _image(seed)
        np.random.seed(seed)
        expected = theirs.transform(dict(img=img.copy()))['img']
        np.random.seed(seed)
        out = ours.transform(dict(img=img.copy()))['img']
        np.testing.assert_array_equal(out, expected)


def test_draws_follow_mmpretrain_and_only_img_changes():
    """The parent's draws in the parent's order; depth untouched; negative
    hue factors run (under numpy 2 too)."""
    ours = RGBDColorJitter(**JITTER)
    depth = np.random.default_rng(0).random((9, 11)).astype(np.float32)
    negative = 0
    for seed in range(20):
        np.random.seed(seed)
        order, *_, hue = ours._rand_params()
        negative += hue < 0
        np.random.seed(seed)
        results = ours.transform(dict(img=_image(seed), depth=depth.copy()))
        np.testing.assert_array_equal(results['depth'], depth)
        assert results['img'].dtype == np.uint8
        np.random.seed(seed)
        assert list(np.random.permutation(4)) == list(order)
    assert negative > 0
