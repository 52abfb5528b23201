"""Colour jitter of the RGB-D views that also runs under numpy 2.

mmcv 2.1.0's ``adjust_hue`` adds ``np.uint8(hue_factor * 255)`` to the hue
channel: numpy 1 wraps a negative shift modulo 256 (C cast), numpy 2 raises
``OverflowError: Python integer -18 out of bounds for uint8``. mmpretrain's
``ColorJitter`` draws a hue factor in [-hue, hue], so every pretraining view
pipeline hit it under numpy 2 in about half of the images.
"""
from typing import Dict, Optional

import cv2
import mmcv
import numpy as np
from PIL import Image

from mmpretrain.datasets.transforms import ColorJitter
from mmpretrain.registry import TRANSFORMS


def hue_shift(hue_factor: float) -> np.uint8:
    """The hue-channel shift of ``hue_factor`` in [-0.5, 0.5]: what numpy 1
    gives for ``np.uint8(hue_factor * 255)`` (truncated toward zero, wrapped
    modulo 256), under numpy 1 and 2 alike."""
    return np.uint8(int(hue_factor * 255) % 256)


def adjust_hue(img: np.ndarray, hue_factor: float,
               backend: Optional[str] = None) -> np.ndarray:
    """``mmcv.adjust_hue`` with the shift of :func:`hue_shift`.

    Args:
        img (ndarray): BGR image, HxWx3.
        hue_factor (float): Shift of the hue channel in [-0.5, 0.5] (a
            fraction of the full turn).
        backend (str, optional): ``'cv2'`` or ``'pillow'``; None: mmcv's
            global image backend (as mmcv).

    Returns:
        ndarray: The image with its hue rotated, the dtype of ``img``.
    """
    backend = backend or mmcv.image.photometric.imread_backend
    if backend not in ('cv2', 'pillow'):
        raise ValueError(f"backend must be 'cv2' or 'pillow', got {backend!r}")
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor {hue_factor} is not in [-0.5, 0.5]')
    if not (isinstance(img, np.ndarray) and img.ndim == 3):
        raise TypeError('img must be an HxWx3 ndarray')
    shift = hue_shift(hue_factor)
    if backend == 'pillow':
        if img.dtype != np.uint8:
            raise TypeError('the pillow backend needs a uint8 image')
        rgb = Image.fromarray(np.ascontiguousarray(img[..., ::-1]))
        hue, sat, val = rgb.convert('HSV').split()
        hue = np.array(hue, dtype=np.uint8) + shift  # uint8: wraps
        out = Image.merge('HSV', (Image.fromarray(hue), sat, val))
        return np.array(out.convert('RGB'), dtype=img.dtype)[..., ::-1]
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += shift  # uint8: wraps
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


@TRANSFORMS.register_module()
class RGBDColorJitter(ColorJitter):
    """mmpretrain's ``ColorJitter`` for the RGB-D views, numpy 1 and 2.

    The same arguments, random draws (brightness, contrast, saturation, hue
    and their order) and, under numpy 1, the same output as mmpretrain's;
    the hue goes through :func:`adjust_hue`, which does not overflow under
    numpy 2. Only ``img`` changes (the depth is never jittered).
    """

    def transform(self, results: Dict) -> Dict:
        """Jitter ``results['img']`` in a random order of the four
        adjustments."""
        img = results['img']
        order, brightness, contrast, saturation, hue = self._rand_params()
        for index in order:
            if index == 0 and brightness is not None:
                img = mmcv.adjust_brightness(img, brightness,
                                             backend=self.backend)
            elif index == 1 and contrast is not None:
                img = mmcv.adjust_contrast(img, contrast, backend=self.backend)
            elif index == 2 and saturation is not None:
                img = mmcv.adjust_color(img, alpha=saturation,
                                        backend=self.backend)
            elif index == 3 and hue is not None:
                img = adjust_hue(img, hue, backend=self.backend)
        results['img'] = img
        return results
