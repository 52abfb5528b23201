"""Atomic checkpoint writing (:mod:`projects.depth_pixpro.utils.atomic`:
a temporary file in the same folder, then ``os.replace``): ``torch.save``
and mmengine's file backend ``'atomic_local'``. A crash or kill while
writing leaves the previous file intact.
"""
import io
import os
import os.path as osp
from typing import Any

import torch
from mmengine.fileio import LocalBackend, register_backend

from ..utils.atomic import atomic_write_bytes

__all__ = ['atomic_torch_save', 'AtomicLocalBackend', 'ATOMIC_BACKEND']


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
