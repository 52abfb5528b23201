"""Weights-only checkpoint loading, and the files trusted to need more.

Every local checkpoint that mmengine, mmseg or mmpretrain loads goes through
:func:`load_checkpoint_file` (registered as mmengine's loader for local paths):
``torch.load(weights_only=True)``, so a pickled callable in a user's file never
runs. Only files named in :func:`trusted_checkpoints` (an explicit opt-in of
the user, ``tools/train.py --trust-checkpoint``) may be fully unpickled.
"""
import contextlib
import os.path as osp
from typing import Iterable, Iterator

import torch

__all__ = [
    'CheckpointLoadError', 'trusted_checkpoints', 'load_checkpoint_file'
]


class CheckpointLoadError(RuntimeError):
    """A checkpoint file could not be loaded (missing, corrupt, unsafe).

    Args:
        message (str): What went wrong, naming the file.
        filename (str): The checkpoint file.
        unsafe (bool): True when the file was refused because it carries
            pickled Python objects (it may load when trusted explicitly).
    """

    def __init__(self, message: str, filename: str = '',
                 unsafe: bool = False):
        super().__init__(message)
        self.filename = filename
        self.unsafe = unsafe


_TRUSTED: set = set()


@contextlib.contextmanager
def trusted_checkpoints(paths: Iterable[str]) -> Iterator[None]:
    """Allow full unpickling of exactly these files inside the block.

    Args:
        paths (Iterable[str]): Files the user explicitly trusts (None and
            empty entries are ignored).
    """
    added = {osp.realpath(p) for p in paths if p} - _TRUSTED
    _TRUSTED.update(added)
    try:
        yield
    finally:
        _TRUSTED.difference_update(added)


def load_checkpoint_file(filename: str, map_location=None):
    """``torch.load`` with weights-only safety and errors naming the file.

    Args:
        filename (str): Local path of the checkpoint.
        map_location: Same as :func:`torch.load`.

    Returns:
        The unpickled object (a dict for OpenMMLab checkpoints).

    Raises:
        CheckpointLoadError: missing, truncated, corrupt, or carrying
            pickled objects that weights-only loading refuses (``unsafe``).
    """
    if not osp.isfile(filename):
        raise CheckpointLoadError(
            f'checkpoint file not found: {filename}', filename)
    # Full unpickling only for a file the user named with --trust-checkpoint
    # (trusted_checkpoints); every other file loads weights-only.
    trusted = osp.realpath(filename) in _TRUSTED
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=not trusted)
    except Exception as err:  # torch raises many types for bad files
        message = str(err).split('\n')[0][:300]
        if 'Weights only load failed' in str(err) or \
                'Unsupported global' in str(err):
            raise CheckpointLoadError(
                f'refusing to load {filename}: it carries pickled Python '
                f'objects that weights-only loading does not allow ({message}).'
                ' Weights handed to this tool load as tensors only; re-save '
                'the state_dict with torch.save, or convert it with '
                'tools/model_converters/depth_pixpro_to_mmseg.py.',
                filename,
                unsafe=True) from err
        raise CheckpointLoadError(
            f'cannot read checkpoint {filename} (corrupt or truncated?): '
            f'{type(err).__name__}: {message}', filename) from err


def _register_local_loader() -> None:
    """Make mmengine load every local checkpoint through this module."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)


_register_local_loader()
