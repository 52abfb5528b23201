"""Load an exogenous depth map into ``results['depth']`` (metres, 0 = invalid).

The datasets record *where* the depth is and *how* it is stored; this
transform turns it into one convention shared by the whole pipeline:

* ``results['depth']``: ``HxW float32``, metres for metric depth, ``0`` where
  the depth is unknown (sensor hole, NaN/inf, negative, beyond ``max_depth``).
  Affine depth (unknown scale AND shift) keeps every finite value: a map with
  values <= 0 is shifted into a positive range (:func:`affine_to_positive`;
  the min-max normalised values are unchanged), only NaN/inf and a PNG's 0
  are holes, and ``max_depth`` does not apply.
* ``results['depth_kind']``: one of
  :data:`~projects.depth_pixpro.depth_kinds.DEPTH_KINDS` -- ``'metric'``
  (metres) or a monocular network's ``'inverse'``, ``'scale_free'`` or
  ``'affine'`` depth, kept as stored (we deliberately do not compute ``1/x``
  of an affine-invariant inverse depth, whose unknown shift makes the
  reciprocal meaningless); which depth test each kind allows is
  ``KIND_MODES`` there.

Storage formats (``results['depth_format']`` or inferred from the suffix):

``'png'``
    Single-channel 16-bit PNG, ``metres = raw / depth_scale`` (ScanNet, NYUv2:
    millimetres, ``depth_scale=1000``). An 8-bit PNG raises (it is almost
    always a visualisation, not depth) unless ``allow_8bit=True``.
``'npy'`` / ``'npz'``
    Float arrays, ``metres = raw / depth_scale`` with ``depth_scale=1`` by
    default. ``.npz``: the key ``depth_key``, or its only array.
``'cityscapes_disparity'``
    Cityscapes 16-bit disparity PNG ``p``: ``d = (p - 1) / 256`` for ``p > 1``
    (``p <= 1`` is invalid or infinitely far) and ``z = baseline * fx / d``
    with ``extrinsic.baseline`` and ``intrinsic.fx`` of the camera JSON
    (``results['camera']`` dict or ``results['camera_path']``).

Per-sample values written by the dataset (``depth_format``, ``depth_scale``,
``depth_kind``, ``max_depth``) take precedence; the transform's arguments are
the defaults for samples that do not carry them. The depth file is
``results['depth_map_path']`` (the key mmseg uses). Decoding lives in
:mod:`..depth_io`.
"""
import json
import math
import os.path as osp
import warnings
from typing import Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS

from ... import structures as K
from ...depth_kinds import check_depth_kind
from ..depth_io import decode_depth_array, decode_depth_png

__all__ = [
    'LoadDepth', 'DepthSizeMismatchWarning', 'sanitize_depth',
    'affine_to_positive', 'disparity_to_depth', 'decode_depth_png', 'read_cityscapes_camera',
    'infer_depth_format', 'depth_path_of', 'DEFAULT_DEPTH_SCALES',
    'DepthRangeWarning', 'DEFAULT_EXPECTED_RANGE', 'check_depth_scale'
]

DEPTH_FORMATS = ('png', 'npy', 'npz', 'cityscapes_disparity')
#: Depth unit per storage format (``depth = raw / scale``) used when neither
#: the sample nor the transform names one: 16-bit PNGs are millimetres
#: (ScanNet, NYUv2), arrays are metres.
DEFAULT_DEPTH_SCALES = dict(png=1000.0, npy=1.0, npz=1.0)


#: Plausible metric depth (metres) of a frame when the dataset names no
#: range: a frame whose valid depth lies entirely outside it is almost surely
#: in the wrong unit (metres in a millimetre PNG: 0.001-0.005; millimetres
#: in a float array: 500-5000).
DEFAULT_EXPECTED_RANGE = (0.05, 250.0)
#: Relative aspect-ratio change above which resizing an image warns.
_ASPECT_TOLERANCE = 0.01


class DepthSizeMismatchWarning(UserWarning):
    """Depth map and image differ in size; one of them was resized."""


class DepthRangeWarning(UserWarning):
    """A frame's metric depth lies outside the dataset's expected range
    (most likely a wrong depth unit or ``depth_scale``)."""


def sanitize_depth(depth: np.ndarray,
                   max_depth: Optional[float] = None) -> np.ndarray:
    """Return ``float32`` depth with every unusable value set to 0.

    Args:
        depth (np.ndarray): Depth of any float/int dtype.
        max_depth (float, optional): Values above it become 0 (e.g. far,
            noisy stereo depth). Defaults to None (no upper bound).

    Returns:
        np.ndarray: ``float32`` copy; NaN, +-inf, negatives (and values above
        ``max_depth``) are 0.
    """
    depth = np.asarray(depth, dtype=np.float32).copy()
    bad = ~np.isfinite(depth) | (depth < 0)
    if max_depth is not None:
        bad |= depth > max_depth
    depth[bad] = 0
    return depth


def affine_to_positive(depth: np.ndarray,
                       hole: Optional[np.ndarray] = None) -> np.ndarray:
    """Affine depth moved into a positive range, every valid value kept.

    An affine map (a relative monocular network's output) is known only up
    to a scale and a shift, so its values may be 0 or negative; the
    pipeline's 0 = invalid would drop those, and the ``normalized`` test,
    which only an affine map allows, would depend on the shift. A shift
    changes nothing such a map means: a map with a valid value <= 0 is
    shifted by ``span - min`` (``span = max - min`` of its valid values; 1
    for a constant map) into ``[span, 2 span]``; a positive map is kept as
    stored. Either way the min-max normalised values are the same.

    Args:
        depth (np.ndarray): The stored values (any float/int dtype).
        hole (np.ndarray, optional): bool, values stored as "no depth"
            (0 in a 16-bit PNG). NaN and +-inf are holes too.

    Returns:
        np.ndarray: ``float32``, > 0 where valid, 0 in the holes.
    """
    depth = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(depth)
    if hole is not None:
        valid &= ~hole
    out = np.zeros(depth.shape, np.float32)
    if valid.any():
        low, high = depth[valid].min(), depth[valid].max()
        shift = 0. if low > 0 else (high - low if high > low else 1.) - low
        out[valid] = depth[valid] + shift
    return out


def disparity_to_depth(disparity_png: np.ndarray, baseline: float,
                       fx: float) -> np.ndarray:
    """Cityscapes 16-bit disparity PNG values -> metric depth.

    Args:
        disparity_png (np.ndarray): Raw PNG values ``p`` (uint16).
        baseline (float): Stereo baseline in metres.
        fx (float): Focal length in pixels.

    Returns:
        np.ndarray: ``float32`` depth ``baseline * fx / ((p - 1) / 256)``
        where ``p > 1``, else 0.
    """
    p = disparity_png.astype(np.float64)
    valid = p > 1
    depth = np.zeros(p.shape, dtype=np.float32)
    depth[valid] = baseline * fx / ((p[valid] - 1.0) / 256.0)
    return depth


def read_cityscapes_camera(camera: dict, source: str) -> Tuple[float, float]:
    """Pick ``(baseline, fx)`` out of a Cityscapes camera dict.

    Args:
        camera (dict): Parsed ``*_camera.json``.
        source (str): Where it came from, for error messages.

    Returns:
        tuple[float, float]: Baseline (metres) and fx (pixels).
    """
    try:
        baseline = float(camera['extrinsic']['baseline'])
        fx = float(camera['intrinsic']['fx'])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(
            f'Camera parameters {source} lack extrinsic.baseline / '
            f'intrinsic.fx (Cityscapes camera JSON format): {e!r}') from e
    if not (baseline > 0 and fx > 0):
        raise ValueError(f'Camera parameters {source} have a non-positive '
                         f'baseline ({baseline}) or fx ({fx}).')
    return baseline, fx


def check_depth_scale(scale: Optional[float], source: str) -> None:
    """Raise unless ``scale`` is None or a finite number > 0."""
    if scale is None:
        return
    try:
        ok = math.isfinite(float(scale)) and float(scale) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f'{source}: depth_scale must be a finite number > 0 '
                         f'(depth = raw / depth_scale), got {scale!r}')


def check_expected_range(value, source: str) -> Tuple[float, float]:
    """``(low, high)`` with ``0 <= low < high``, else ValueError."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f'{source}: expected_range must be (low, high) in '
                         f'metres, got {value!r}')
    if not 0 <= low < high:
        raise ValueError(f'{source}: expected_range must satisfy 0 <= low < '
                         f'high, got {value!r}')
    return low, high


def depth_path_of(results: dict) -> str:
    """The depth file of a sample: ``depth_map_path``."""
    path = results.get(K.DEPTH_PATH)
    if not path:
        raise KeyError(f'LoadDepth needs results[{K.DEPTH_PATH!r}] (the '
                       'depth file); the dataset did not set it.')
    return path


def infer_depth_format(path: str) -> str:
    """Storage format from a depth file's name (``.png``/``.npy``/``.npz``)."""
    ext = osp.splitext(path)[1].lower()
    if ext == '.png':
        return 'png'
    if ext in ('.npy', '.npz'):
        return ext[1:]
    raise ValueError(
        f'Cannot infer the depth format of {path}; set depth_format to one '
        f'of {DEPTH_FORMATS} in the dataset or in LoadDepth.')


@PRETRAIN_TRANSFORMS.register_module()
class LoadDepth(BaseTransform):
    """Load ``results['depth_map_path']`` as ``results['depth']`` (see the
    module doc).

    Required keys: ``depth_map_path``; optional ``depth_format``, ``depth_scale``, ``depth_kind``,
    ``max_depth``, ``camera`` / ``camera_path``, ``resize_img_to_depth``,
    ``img``.

    Added keys: ``depth`` (HxW float32; None when the dataset lists the
    image without depth, ``depth_map_path=None``), ``depth_kind``. When the
    image is resized to the depth (``resize_img_to_depth``): ``img``,
    ``img_shape``.

    Args:
        depth_format (str, optional): Default storage format; None infers it
            from the suffix. Defaults to None.
        depth_scale (float, optional): Default ``raw / depth_scale = metres``;
            None means 1000 for PNG, 1 for arrays. Defaults to None.
        depth_kind (str): Default kind, one of
            :data:`~projects.depth_pixpro.depth_kinds.DEPTH_KINDS`; a
            sample's own ``depth_kind`` (set and checked by its dataset)
            takes precedence. Defaults to ``'metric'``.
        max_depth (float, optional): Default upper bound; farther values
            become invalid. Defaults to None.
        depth_key (str): Array name inside ``.npz`` files with several
            arrays. Defaults to ``'depth'``.
        on_size_mismatch (str): When the depth and ``results['img']`` differ
            in size: ``'resize'`` the depth (nearest, never blending across
            edges) with a :class:`DepthSizeMismatchWarning` once per size
            pair, or ``'error'``. Samples flagged ``resize_img_to_depth``
            (ScanNet colour at 1296x968 vs depth at 640x480) instead get the
            image resized to the depth (area interpolation): silently when
            the aspect ratio is kept (within 1 %), else with a
            :class:`DepthSizeMismatchWarning` once per size pair.
            Defaults to ``'resize'``.
        allow_8bit (bool): Accept 8-bit depth PNGs (scaled like 16-bit ones;
            counted in ``num_8bit``) instead of raising. Defaults to False.
        expected_range (tuple[float, float]): Plausible metric depth
            (metres) of a frame; a sample's ``expected_depth_range`` (set by
            the dataset) takes precedence. A metric frame whose valid depth
            lies entirely below or above it is counted in
            ``num_out_of_range`` and reported (wrong unit or
            ``depth_scale``). Defaults to :data:`DEFAULT_EXPECTED_RANGE`.
        on_range_mismatch (str): ``'warn'`` (a :class:`DepthRangeWarning`
            naming the file, once per transform) or ``'error'`` (strict).
            Defaults to ``'warn'``.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 depth_format: Optional[str] = None,
                 depth_scale: Optional[float] = None,
                 depth_kind: str = 'metric',
                 max_depth: Optional[float] = None,
                 depth_key: str = 'depth',
                 on_size_mismatch: str = 'resize',
                 allow_8bit: bool = False,
                 expected_range: Tuple[float,
                                       float] = DEFAULT_EXPECTED_RANGE,
                 on_range_mismatch: str = 'warn',
                 backend_args: Optional[dict] = None):
        if depth_format is not None and depth_format not in DEPTH_FORMATS:
            raise ValueError(f'depth_format must be one of {DEPTH_FORMATS}, '
                             f'got {depth_format!r}')
        depth_kind = check_depth_kind(depth_kind, 'LoadDepth')
        if on_size_mismatch not in ('resize', 'error'):
            raise ValueError("on_size_mismatch must be 'resize' or 'error', "
                             f'got {on_size_mismatch!r}')
        check_depth_scale(depth_scale, 'LoadDepth(depth_scale=...)')
        if on_range_mismatch not in ('warn', 'error'):
            raise ValueError("on_range_mismatch must be 'warn' or 'error', "
                             f'got {on_range_mismatch!r}')
        self.expected_range = check_expected_range(expected_range,
                                                   'LoadDepth')
        self.on_range_mismatch = on_range_mismatch
        self.depth_format = depth_format
        self.depth_scale = depth_scale
        self.depth_kind = depth_kind
        self.max_depth = max_depth
        self.depth_key = depth_key
        self.on_size_mismatch = on_size_mismatch
        self.allow_8bit = allow_8bit
        self.backend_args = backend_args
        # Counters, per transform instance (i.e. per dataset and worker).
        self.num_resized = 0
        self.num_8bit = 0
        self.num_out_of_range = 0
        self._warned_sizes = set()
        self._warned_range = False

    # ------------------------------------------------------------------ I/O
    def _get_bytes(self, path: str) -> bytes:
        try:
            return fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'Depth file {path} does not exist. Check the dataset root '
                'and that the depth maps were exported (README, '
                '"Datasets").') from e

    def _read_raw(self, path: str, fmt: str) -> np.ndarray:
        """Raw stored values of one depth file (no scaling)."""
        data = self._get_bytes(path)
        if fmt in ('png', 'cityscapes_disparity'):
            raw = decode_depth_png(
                data, path, allow_8bit=self.allow_8bit and fmt == 'png')
            if raw.dtype == np.uint8:
                self.num_8bit += 1
            return raw
        return decode_depth_array(data, path, fmt, self.depth_key)

    def _camera(self, results: dict) -> Tuple[float, float]:
        if results.get('camera') is not None:
            return read_cityscapes_camera(results['camera'],
                                          f'for {depth_path_of(results)}')
        path = results.get('camera_path')
        if path is None:
            raise ValueError(
                f'Disparity {depth_path_of(results)} needs camera parameters: '
                "the dataset must set results['camera'] or "
                "results['camera_path'].")
        try:
            camera = json.loads(fileio.get_text(
                path, backend_args=self.backend_args))
        except FileNotFoundError as e:
            raise FileNotFoundError(f'Camera file {path} does not exist (it '
                                    'belongs to the Cityscapes "camera" '
                                    'package).') from e
        except json.JSONDecodeError as e:
            raise ValueError(f'Camera file {path} is not valid JSON: {e}')
        return read_cityscapes_camera(camera, f'in {path}')

    # ------------------------------------------------------------ alignment
    def _align(self, results: dict, depth: np.ndarray) -> np.ndarray:
        img = results.get('img')
        if img is None or img.shape[:2] == depth.shape:
            return depth
        h, w = depth.shape
        ih, iw = img.shape[:2]
        if results.get(K.RESIZE_IMG_TO_DEPTH, False):
            change = abs((w / h) / (iw / ih) - 1)
            if change > _ASPECT_TOLERANCE and \
                    ('img', (ih, iw), (h, w)) not in self._warned_sizes:
                self._warned_sizes.add(('img', (ih, iw), (h, w)))
                warnings.warn(
                    f"Image {results.get(K.IMG_PATH, '')} is {iw}x{ih} but "
                    f'its depth {depth_path_of(results)} is {w}x{h}: '
                    'resizing the image to the depth changes its aspect '
                    f'ratio by {change:.0%} (distorted). Export colour and '
                    'depth with the same aspect ratio (shown once per size '
                    'pair).', DepthSizeMismatchWarning)
            results['img'] = mmcv.imresize(img, (w, h), interpolation='area')
            results['img_shape'] = (h, w)
            return depth
        if self.on_size_mismatch == 'error':
            raise ValueError(
                f'Depth {depth_path_of(results)} is {w}x{h} but the image '
                f"{results.get('img_path', '')} is {iw}x{ih}. Export depth "
                "at the image resolution, or use "
                "LoadDepth(on_size_mismatch='resize').")
        self.num_resized += 1
        if (depth.shape, (ih, iw)) not in self._warned_sizes:
            self._warned_sizes.add((depth.shape, (ih, iw)))
            warnings.warn(
                f'Depth {depth_path_of(results)} is {w}x{h} but the image is '
                f'{iw}x{ih}; resizing depth with nearest interpolation (shown '
                'once per size pair; see LoadDepth.num_resized).',
                DepthSizeMismatchWarning)
        return mmcv.imresize(depth, (iw, ih), interpolation='nearest')

    # ------------------------------------------------------------ transform
    def transform(self, results: dict) -> dict:
        """Add ``depth`` (HxW float32, 0 = invalid) and ``depth_kind``.

        Args:
            results (dict): Needs ``depth_map_path`` (see the class doc).

        Returns:
            dict: The updated results.
        """
        if results.get(K.DEPTH_PATH, 'unset') is None:
            # the dataset lists this image without depth
            results[K.DEPTH] = None
            results[K.DEPTH_KIND] = self._kind(results)
            return results
        path = depth_path_of(results)
        fmt = results.get('depth_format') or self.depth_format \
            or infer_depth_format(path)
        if fmt not in DEPTH_FORMATS:
            raise ValueError(f'Unknown depth_format {fmt!r} for {path}; use '
                             f'one of {DEPTH_FORMATS}.')
        kind = self._kind(results)
        max_depth = results.get('max_depth')
        max_depth = self.max_depth if max_depth is None else max_depth
        if 'img' in results and results['img'] is None:
            # mmcv asserts on an undecodable image; under `python -O` the
            # assert is gone, so name the file here instead.
            raise ValueError(f"Image {results.get('img_path')} could not be "
                             'decoded (corrupt or not an image).')

        raw = self._read_raw(path, fmt)
        if fmt == 'cityscapes_disparity':
            depth = disparity_to_depth(raw, *self._camera(results))
        else:
            scale = results.get(K.DEPTH_SCALE)
            if scale is None:
                scale = self.depth_scale
            if scale is None:
                scale = DEFAULT_DEPTH_SCALES[fmt]
            check_depth_scale(scale, f'depth_scale of {path}')
            depth = raw.astype(np.float32) / np.float32(scale)
        if kind == 'affine':
            # every finite value is depth (a 0 in a 16-bit PNG: none)
            depth = affine_to_positive(
                depth, raw == 0 if fmt == 'png' else None)
        else:
            depth = sanitize_depth(depth, max_depth)
        if kind == 'metric':
            self._check_range(results, depth, path)

        results[K.DEPTH] = self._align(results, depth)
        results[K.DEPTH_KIND] = kind
        return results

    def _kind(self, results: dict) -> str:
        return results.get(K.DEPTH_KIND) or self.depth_kind

    def _check_range(self, results: dict, depth: np.ndarray,
                     path: str) -> None:
        """Report a frame whose valid metric depth lies entirely outside
        the expected range (a unit error, not a few outliers)."""
        valid = depth[depth > 0]
        if valid.size == 0:
            return
        low, high = self.expected_range
        if results.get('expected_depth_range') is not None:
            low, high = check_expected_range(
                results['expected_depth_range'], f'expected range of {path}')
        near, far = float(valid.min()), float(valid.max())
        if low <= far and near <= high:
            return
        self.num_out_of_range += 1
        msg = (f'Depth {path}: all valid depth lies in [{near:.4g}, '
               f'{far:.4g}] m, outside the expected [{low:g}, {high:g}] m. '
               'Wrong unit or depth_scale? (metres in a 16-bit PNG need '
               'depth_scale=1; millimetres in a float array need '
               'depth_scale=1000.)')
        if self.on_range_mismatch == 'error':
            raise ValueError(msg)
        if not self._warned_range:
            self._warned_range = True
            warnings.warn(
                msg + ' Shown once; counted in LoadDepth.num_out_of_range; '
                "LoadDepth(on_range_mismatch='error') makes it an error.",
                DepthRangeWarning)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(depth_format={self.depth_format}'
                f', depth_scale={self.depth_scale}, depth_kind='
                f'{self.depth_kind!r}, max_depth={self.max_depth}, '
                f'on_size_mismatch={self.on_size_mismatch!r}, '
                f'allow_8bit={self.allow_8bit})')


# Segmentation configs (default_scope='mmseg') find the same class.
SEG_TRANSFORMS.register_module(module=LoadDepth)
