"""Depth file I/O: the one place that encodes and decodes stored depth.

The project stores depth as single-channel uint16 PNGs with
``raw = round(depth * depth_scale)`` (``depth_scale=1000``: millimetres, as
ScanNet and NYUv2) and ``raw = 0`` for invalid pixels; every writer (the
dataset converters, the synthetic segmentation cache) calls
:func:`write_depth_png`, and ``LoadDepth`` reads through
:func:`decode_depth_png` / :func:`decode_depth_array`. Depth of another kind
(a monocular network's, ``tools/generate_depth.py``) is encoded by
:func:`encode_depth_by_kind`, and a folder of it says what it holds in
:data:`DEPTH_INFO_FILE` (read by :func:`read_depth_info`).
"""
import io
import json
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np

from ..depth_kinds import check_depth_kind
from ..utils.atomic import write_image_atomic

__all__ = [
    'MM_PER_METRE', 'UINT16_MAX', 'DEPTH_INFO_FILE', 'encode_depth_png',
    'write_depth_png', 'decode_depth_png', 'decode_depth_array',
    'read_depth_png', 'encode_depth_by_kind', 'decode_depth_by_kind',
    'read_depth_info'
]

#: ``depth_scale`` of millimetre PNGs (ScanNet, NYUv2, our converters).
MM_PER_METRE = 1000.0
UINT16_MAX = 65535
#: Beside a folder of depth PNGs: what they hold (``depth_kind``,
#: ``depth_scale``), written by ``tools/generate_depth.py``.
DEPTH_INFO_FILE = 'depth_info.json'


def encode_depth_png(depth: np.ndarray,
                     depth_scale: float = MM_PER_METRE) -> np.ndarray:
    """Depth -> the uint16 values stored in a depth PNG.

    Args:
        depth (np.ndarray): HxW depth of any float or int dtype (metres for
            metric depth).
        depth_scale (float): ``raw = round(depth * depth_scale)``. Defaults
            to 1000 (millimetres).

    Returns:
        np.ndarray: HxW uint16; 0 where the depth is NaN, infinite, <= 0 or
        too large for 16 bits (invalid: never saturated to 65535, which
        would be a wrong depth).
    """
    if not depth_scale > 0:
        raise ValueError(f'depth_scale must be > 0, got {depth_scale}')
    depth = np.asarray(depth, dtype=np.float64)
    with np.errstate(invalid='ignore', over='ignore'):
        raw = np.rint(np.where(np.isfinite(depth), depth, 0.) * depth_scale)
    valid = (raw > 0) & (raw <= UINT16_MAX)
    return np.where(valid, raw, 0).astype(np.uint16)


def write_depth_png(path: str,
                    depth: np.ndarray,
                    depth_scale: float = MM_PER_METRE) -> np.ndarray:
    """Encode depth with :func:`encode_depth_png` and write it atomically
    (``utils/atomic.py``).

    Args:
        path (str): Destination ``.png``.
        depth (np.ndarray): HxW depth (metres for metric depth).
        depth_scale (float): Defaults to 1000 (millimetres).

    Returns:
        np.ndarray: The uint16 values written.
    """
    raw = encode_depth_png(depth, depth_scale)
    write_image_atomic(path, raw)
    return raw


def decode_depth_png(data: bytes, path: str,
                     allow_8bit: bool = False) -> np.ndarray:
    """Decode a single-channel depth PNG, keeping its bit depth.

    Args:
        data (bytes): File content.
        path (str): File name, for error messages.
        allow_8bit (bool): Accept an 8-bit PNG instead of raising.

    Returns:
        np.ndarray: ``HxW`` uint16 (or uint8 when allowed) raw values.
    """
    if len(data) == 0:
        raise ValueError(f'Depth image {path} is empty (0 bytes): an '
                         'interrupted export? Re-export it.')
    try:
        raw = cv2.imdecode(
            np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as e:  # OpenCV asserts on some broken headers
        raise ValueError(f'Cannot decode depth image {path}: {e}') from e
    if raw is None or raw.size == 0:
        raise ValueError(f'Cannot decode depth image {path}: the file is '
                         'corrupt or not an image. Re-export it.')
    if raw.ndim != 2:
        raise ValueError(
            f'Depth image {path} has {raw.shape[2]} channels; a depth map '
            'must be a single-channel 16-bit PNG (a colourised depth '
            'visualisation cannot be used as depth).')
    if raw.dtype == np.uint8 and not allow_8bit:
        raise ValueError(
            f'Depth image {path} is 8-bit, but 16-bit depth was expected '
            '(e.g. millimetres). 8 bits cannot hold metric depth; re-export '
            'it as uint16, or set LoadDepth(allow_8bit=True) if this map '
            'really is 8-bit (relative) depth.')
    return raw


def decode_depth_array(data: bytes, path: str, fmt: str,
                       key: str = 'depth') -> np.ndarray:
    """Decode a ``.npy`` / ``.npz`` depth array (never unpickling).

    Args:
        data (bytes): File content.
        path (str): File name, for error messages.
        fmt (str): ``'npy'`` or ``'npz'``.
        key (str): Array name inside an ``.npz`` with several arrays (one
            array is taken whatever its name). Defaults to ``'depth'``.

    Returns:
        np.ndarray: HxW numeric array of raw values.
    """
    try:
        arrays = np.load(io.BytesIO(data), allow_pickle=False)
        if fmt == 'npz':
            names = list(arrays.keys())
            name = key if key in names else (
                names[0] if len(names) == 1 else None)
            if name is None:
                raise ValueError(f'no array named {key!r} among {names}')
            arrays = arrays[name]
    except Exception as e:
        raise ValueError(f'Cannot read depth array {path}: {e}') from e
    raw = np.asarray(arrays)
    raw = raw[..., 0] if raw.ndim == 3 and raw.shape[-1] == 1 else raw
    if np.iscomplexobj(raw):
        raise ValueError(f'Depth array {path} is complex ({raw.dtype}); '
                         'depth must be real (the imaginary part would be '
                         'dropped silently).')
    if raw.ndim != 2 or not (np.issubdtype(raw.dtype, np.integer)
                             or np.issubdtype(raw.dtype, np.floating)):
        raise ValueError(f'Depth array {path} must be a 2-D real numeric '
                         f'array, got {raw.dtype} {raw.shape}.')
    if raw.size == 0:
        raise ValueError(f'Depth array {path} is empty ({raw.shape[0]}x'
                         f'{raw.shape[1]}).')
    return raw


def read_depth_png(path: str,
                   depth_scale: float = MM_PER_METRE) -> np.ndarray:
    """Read a depth PNG written by :func:`write_depth_png`.

    Args:
        path (str): The ``.png``.
        depth_scale (float): ``depth = raw / depth_scale``. Defaults to 1000.

    Returns:
        np.ndarray: HxW float32 depth, 0 = invalid.
    """
    with open(path, 'rb') as f:
        raw = decode_depth_png(f.read(), path)
    return raw.astype(np.float32) / np.float32(depth_scale)


def encode_depth_by_kind(pred: np.ndarray,
                        kind: str) -> Tuple[np.ndarray, Dict]:
    """A depth map of any kind -> uint16 PNG values and the JSON fields
    that say how to read them back (:func:`decode_depth_by_kind`).

    ``metric``: millimetres (:func:`encode_depth_png`). ``inverse`` and
    ``scale_free`` (known up to a scale): scaled per image,
    ``raw = round(value / max * 65535)``. ``affine`` (up to scale and shift):
    min-max normalised per image to 1..65535. 0 is invalid throughout.

    Args:
        pred (np.ndarray): HxW float depth (e.g. a network's prediction).
        kind (str): One of ``depth_kinds.DEPTH_KINDS``.

    Returns:
        tuple: uint16 HxW array (0 = invalid), dict with ``depth_kind``,
        ``depth_scale``, ``encoding`` and value statistics.
    """
    pred = np.asarray(pred, dtype=np.float64)
    finite = np.isfinite(pred)
    kind = check_depth_kind(kind, 'encode_depth_by_kind')
    if kind in ('inverse', 'scale_free'):
        # scale only: a shift would make the map affine
        valid = finite & (pred > 0)
        high = float(pred[valid].max()) if valid.any() else 0.
        raw = np.zeros(pred.shape, np.uint16)
        if high > 0:
            raw[valid] = np.maximum(
                np.round(pred[valid] / high * UINT16_MAX), 1)
        return raw, dict(
            depth_kind=kind, depth_scale=float(UINT16_MAX),
            encoding='per-image scale; value = raw / 65535 * max',
            min=float(pred[valid].min()) if valid.any() else 0., max=high,
            invalid_pixels=int((raw == 0).sum()))
    if kind == 'metric':
        raw = encode_depth_png(pred, MM_PER_METRE)
        valid = raw > 0
        return raw, dict(
            depth_kind='metric', depth_scale=MM_PER_METRE,
            encoding='millimetres',
            min=float(pred[valid].min() if valid.any() else 0.),
            max=float(pred[valid].max() if valid.any() else 0.),
            invalid_pixels=int((~valid).sum()))
    low = float(pred[finite].min()) if finite.any() else 0.
    high = float(pred[finite].max()) if finite.any() else 0.
    span = high - low
    scaled = (pred - low) / span if span > 0 else np.zeros_like(pred)
    raw = np.where(finite, 1 + np.round(np.clip(scaled, 0, 1) *
                                        (UINT16_MAX - 1)), 0)
    return raw.astype(np.uint16), dict(
        depth_kind=kind, depth_scale=float(UINT16_MAX),
        encoding='per-image min-max to 1..65535; value = min + (raw - 1) '
        '/ 65534 * (max - min)', min=low, max=high,
        invalid_pixels=int((~finite).sum()))


def decode_depth_by_kind(raw: np.ndarray, meta: Dict) -> np.ndarray:
    """Inverse of :func:`encode_depth_by_kind` (up to quantisation); 0 =
    invalid."""
    raw = np.asarray(raw, dtype=np.float64)
    if meta['encoding'] == 'millimetres':
        return raw / MM_PER_METRE
    if meta['encoding'].startswith('per-image scale'):
        return raw / UINT16_MAX * meta['max']
    value = meta['min'] + (raw - 1) / (UINT16_MAX - 1) * \
        (meta['max'] - meta['min'])
    return np.where(raw > 0, value, 0.)


def read_depth_info(depth_root: str) -> dict:
    """``depth_kind`` / ``depth_scale`` of a folder's
    :data:`DEPTH_INFO_FILE` ({} if it has none); the kind is checked.

    Args:
        depth_root (str): The folder of depth maps.
    """
    path = osp.join(depth_root, DEPTH_INFO_FILE)
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as f:
            info = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'cannot read {path}: {err}') from err
    found = {k: info[k] for k in ('depth_kind', 'depth_scale') if k in info}
    if 'depth_kind' in found:
        found['depth_kind'] = check_depth_kind(found['depth_kind'], path)
    return found
