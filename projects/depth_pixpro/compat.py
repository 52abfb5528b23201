"""Compatibility layer for the OpenMMLab stack on CPU-only / mmcv-lite installs.

Imported first by :mod:`projects.depth_pixpro`. Every piece is a no-op where it
is not needed (full mmcv with compiled ops, CUDA available):

* :func:`install_mmcv_ext_shim`: mmcv-lite has no compiled ``mmcv._ext``, yet
  mmseg 1.2.2 imports ``mmcv.ops`` unconditionally. The shim registers a module
  whose ops raise a clear error only when one is *called*.
* :func:`adapt_cfg_for_device`: on a machine without CUDA, distributed runs
  use gloo, plain BN instead of SyncBN and DDP without device ids.
* Checkpoint loading (:func:`load_checkpoint_file`, :func:`trusted_checkpoints`):
  user-supplied weights always load with ``torch.load(weights_only=True)``;
  only the run's own checkpoint being resumed may be fully unpickled. A corrupt
  or truncated file raises an error that names it.
"""
import contextlib
import importlib.machinery
import importlib.util
import os
import os.path as osp
import sys
import types
from typing import Iterable, Iterator, Optional

import torch

__all__ = [
    'install_mmcv_ext_shim', 'adapt_cfg_for_device', 'init_cpu_distributed',
    'load_checkpoint_file', 'trusted_checkpoints', 'CheckpointLoadError'
]


# --------------------------------------------------------------------------
# mmcv._ext shim
# --------------------------------------------------------------------------
class _MissingOp:
    """Stands in for a compiled mmcv op; fails with a clear message if called."""

    def __init__(self, name: str):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f'mmcv op "{self.__name__}" needs the compiled mmcv extension, '
            'which mmcv-lite does not ship. Install full mmcv==2.1.0 (see '
            'README, "Install with CUDA") to use this op.')


class _ExtShim(types.ModuleType):

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _MissingOp(name)


def install_mmcv_ext_shim() -> bool:
    """Register a placeholder ``mmcv._ext`` if mmcv has no compiled ops.

    Returns:
        bool: True if the shim was installed, False if not needed.
    """
    if 'mmcv._ext' in sys.modules:
        return False
    try:
        if importlib.util.find_spec('mmcv') is None:
            return False
        if importlib.util.find_spec('mmcv._ext') is not None:
            return False  # full mmcv: the real extension is there
    except (ImportError, ValueError):
        return False
    shim = _ExtShim('mmcv._ext')
    # A real spec: mmengine's mmcv_full_available() calls pkgutil.find_loader.
    shim.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
    shim.__spec__.loader = importlib.machinery.BuiltinImporter
    shim.__dict__['__file__'] = '<mmcv-lite shim>'
    shim.__dict__['IS_SHIM'] = True
    sys.modules['mmcv._ext'] = shim
    return True


# --------------------------------------------------------------------------
# Device adaptation for distributed runs without CUDA
# --------------------------------------------------------------------------
def _replace_syncbn(node) -> int:
    """Replace ``SyncBN`` norm configs by ``BN`` in place; returns count."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') in ('SyncBN', 'MMSyncBN', 'TorchSyncBN'):
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += _replace_syncbn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += _replace_syncbn(value)
    return count


def adapt_cfg_for_device(cfg, launcher: str) -> Optional[str]:
    """Make a config runnable where CUDA is not available.

    With CUDA this changes nothing. Without it, a distributed launch uses
    gloo, DDP without device ids, and SyncBN becomes BN (SyncBN only works
    with GPU modules).

    Args:
        cfg (mmengine.Config): The config, changed in place.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.

    Returns:
        str | None: A message describing the change, or None.
    """
    if torch.cuda.is_available():
        return None
    n_bn = _replace_syncbn(cfg.get('model', {}))
    if launcher == 'none':
        return f'CPU run: {n_bn} SyncBN -> BN' if n_bn else None
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg['model_wrapper_cfg'] = wrapper
    return f'CPU distributed run: gloo, DDP without device ids, ' \
           f'{n_bn} SyncBN -> BN'


def init_cpu_distributed(launcher: str) -> bool:
    """Start torch.distributed with gloo when launched without CUDA.

    mmengine's ``init_dist('pytorch')`` always calls ``torch.cuda.set_device``;
    starting the process group here first makes the runner skip its own init.

    Returns:
        bool: True if a process group was started here.
    """
    import torch.distributed as dist
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if dist.is_initialized():
        return False
    if launcher == 'slurm' and 'MASTER_ADDR' not in os.environ:
        raise RuntimeError('CPU slurm launch needs MASTER_ADDR/MASTER_PORT '
                           '(tools/slurm_train.sh exports them).')
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
    dist.init_process_group(backend='gloo')
    return True


# --------------------------------------------------------------------------
# Checkpoint loading
# --------------------------------------------------------------------------
class CheckpointLoadError(RuntimeError):
    """A checkpoint file could not be loaded (missing, corrupt, unsafe)."""


_TRUSTED: set = set()


@contextlib.contextmanager
def trusted_checkpoints(paths: Iterable[str]) -> Iterator[None]:
    """Allow full unpickling of exactly these files inside the block.

    Used by ``tools/train.py`` for the checkpoint a run resumes from (its own
    output, carrying optimizer state, numpy and mmengine objects). Every other
    load stays weights-only.
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
            pickled objects that weights-only loading refuses.
    """
    if not osp.isfile(filename):
        raise CheckpointLoadError(f'checkpoint file not found: {filename}')
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
                'tools/model_converters/depth_pixpro_to_mmseg.py.') from err
        raise CheckpointLoadError(
            f'cannot read checkpoint {filename} (corrupt or truncated?): '
            f'{type(err).__name__}: {message}') from err


def _register_local_loader() -> None:
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)


install_mmcv_ext_shim()
_register_local_loader()
