"""Atomic file writing: a temporary file in the same folder, flushed to
disk, then ``os.replace``. A crash or kill while writing leaves the previous
file intact, and a concurrent reader never sees a partial file.

The one writer of every file the package produces: checkpoints
(``checkpoint/saving.py`` builds on :func:`atomic_write_bytes`), depth PNGs
and images (:func:`write_image_atomic`), figures and reports.
"""
import os
import os.path as osp
import re
import uuid
from typing import Optional, Sequence, Union

import numpy as np

__all__ = [
    'atomic_write_bytes', 'remove_stale_temp_files', 'write_image_atomic'
]

# The temporary files of atomic_write_bytes: .NAME.<8 hex>.tmp
_TEMP_NAME = re.compile(r'^\..+\.[0-9a-f]{8}\.tmp$')


def atomic_write_bytes(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never half written.

    The bytes go to a temporary file next to ``path`` (same file system),
    are flushed to disk, and the temporary file is renamed over ``path``.
    The folder is created if needed.

    Args:
        data (bytes | str): Content (``str`` is written as UTF-8).
        path (str): Destination file.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    path = osp.abspath(path)
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = osp.join(
        osp.dirname(path), f'.{osp.basename(path)}.{uuid.uuid4().hex[:8]}.tmp')
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def remove_stale_temp_files(folder: str) -> list:
    """Remove temporary files that a killed :func:`atomic_write_bytes` left.

    Only call this where no other process is writing into ``folder``.

    Args:
        folder (str): The folder (e.g. a run's checkpoint folder).

    Returns:
        list[str]: The removed paths.
    """
    if not osp.isdir(folder):
        return []
    removed = [
        osp.join(folder, name) for name in os.listdir(folder)
        if _TEMP_NAME.match(name)
    ]
    for path in removed:
        os.remove(path)
    return removed


def write_image_atomic(path: str,
                       image: np.ndarray,
                       params: Optional[Sequence[int]] = None) -> None:
    """Encode an image as ``cv2.imwrite`` would and write it atomically.

    Args:
        path (str): Destination; its suffix selects the encoder.
        image (np.ndarray): What ``cv2.imwrite`` accepts (BGR colour, or
            one channel, uint8 / uint16).
        params (Sequence[int], optional): ``cv2.imwrite`` parameters.
    """
    import cv2
    ext = osp.splitext(path)[1]
    try:
        ok, encoded = cv2.imencode(ext, image, list(params or []))
    except cv2.error as err:  # an unknown suffix, an unsupported array
        raise OSError(f'could not encode {path}: {err}') from err
    if not ok:
        raise OSError(f'could not encode {path} (suffix {ext!r})')
    atomic_write_bytes(encoded.tobytes(), path)
