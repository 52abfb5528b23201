"""Device and distributed adaptation for ``tools/train.py`` / ``tools/test.py``.

With CUDA nothing changes (NCCL, SyncBN as configured). Without it, a
distributed launch runs with gloo, plain BN and DDP without device ids, so the
same commands work on CPU-only machines.
"""
import ctypes
import os
import signal
import sys
from typing import Optional

import torch
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .utils.threads import configure_threads
from .utils.vis_backends import missing_backend_packages

__all__ = [
    'adapt_cfg_for_device', 'init_cpu_distributed', 'setup_launch',
    'build_runner', 'exit_with_launcher'
]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


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
                           '(export them for the job step).')
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
    dist.init_process_group(backend='gloo')
    return True


def setup_launch(cfg, launcher: str) -> None:
    """Adapt the config to the device, start CPU distribution if needed and
    share the CPUs between the process and its data workers
    (:func:`~projects.depth_pixpro.utils.threads.configure_threads`).

    Raises:
        SystemExit: A configured visualization backend's package is not
            installed (``pip install tensorboard``, ...).

    Args:
        cfg (mmengine.Config): The config, changed in place.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.
    """
    missing = missing_backend_packages(cfg)
    if missing:  # before anything starts (mmengine: a traceback later)
        raise SystemExit('error: ' + '; '.join(missing))
    message = adapt_cfg_for_device(cfg, launcher)
    init_cpu_distributed(launcher)
    configure_threads(cfg)
    if message:
        print_log(message, logger='current')


def build_runner(cfg) -> Runner:
    """Build the runner as OpenMMLab's tools do (honours ``runner_type``)."""
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def exit_with_launcher() -> bool:
    """Make this torchrun worker exit when its launcher process dies.

    torchrun stops its workers when it is interrupted or terminated, but a
    killed launcher (``kill -9``, a lost ssh session) would leave them
    training on. On Linux the kernel can signal a process when its parent
    dies (``prctl(PR_SET_PDEATHSIG)``); only workers started by torchrun
    (``TORCHELASTIC_RUN_ID`` set) ask for it, so a plain ``python
    tools/train.py`` under ``nohup`` outlives its shell as before.

    Returns:
        bool: True if the worker now exits with its launcher.
    """
    if not sys.platform.startswith('linux') or \
            'TORCHELASTIC_RUN_ID' not in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() == 1:  # the launcher died before prctl: we were orphaned
        os.kill(os.getpid(), signal.SIGTERM)
    return True
