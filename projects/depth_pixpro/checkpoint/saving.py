"""Atomic checkpoint writing: a temporary file in the same folder, then
``os.replace``. A crash or kill while writing leaves the previous file intact.
"""
import io
import os
import os.path as osp
import re
import uuid
from typing import Any, Union

import torch
from mmengine.fileio import LocalBackend, register_backend

__all__ = [
    'atomic_write_bytes', 'atomic_torch_save', 'remove_stale_temp_files',
    'AtomicLocalBackend', 'ATOMIC_BACKEND'
]

# The temporary files of atomic_write_bytes: .NAME.<8 hex>.tmp
_TEMP_NAME = re.compile(r'^\..+\.[0-9a-f]{8}\.tmp$')


def atomic_write_bytes(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never half written.

    The bytes go to a temporary file next to ``path`` (same file system),
    are flushed to disk, and the temporary file is renamed over ``path``.

    Args:
        data (bytes | str): Content (``str`` is written as UTF-8).
        path (str): Destination file.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    path = osp.abspath(path)
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


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save(obj, path)`` written atomically (see above).

    Args:
        obj: What to save (tensors, dicts of tensors, plain Python values).
        path (str): Destination file.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(buffer.getvalue(), path)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put``/``put_text``.

    Registered as the file backend ``'atomic_local'``; never chosen by path
    prefix, only by ``backend_args=dict(backend='atomic_local')`` (what
    :class:`~.hooks.AtomicCheckpointHook` passes for local folders).
    """

    def put(self, obj: bytes, filepath) -> None:
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        atomic_write_bytes(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


ATOMIC_BACKEND = 'atomic_local'
register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
