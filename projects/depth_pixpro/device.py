"""Device and distributed adaptation for ``tools/train.py`` / ``tools/test.py``.

With CUDA nothing changes (NCCL, SyncBN as configured). Without it, a
distributed launch runs with gloo, plain BN and DDP without device ids, so the
same commands work on CPU-only machines.
"""
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from functools import partial
from typing import Callable, Iterator, Optional

import torch
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from .utils.threads import configure_threads
from .utils.vis_backends import missing_backend_packages

__all__ = [
    'adapt_cfg_for_device', 'init_cpu_distributed', 'setup_launch',
    'build_runner', 'exit_with_launcher', 'stop_on_sigterm',
    'WorkerSafeRunner'
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


def _set_parent_death_signal(signum: int) -> bool:
    """Ask the kernel to send ``signum`` to this process when the thread
    that started it dies (Linux ``prctl(PR_SET_PDEATHSIG)``).

    Returns:
        bool: False where unsupported (not Linux, no libc prctl).
    """
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _exit_with_main_process(init_fn: Optional[Callable],
                            worker_id: int) -> None:
    """``worker_init_fn`` of a DataLoader worker: the configured one, then
    die with the main process.

    A worker whose main process is killed would otherwise notice it only at
    its next 5-s status check and then hang at exit, joining the feeder
    thread of a result queue nobody reads any more (a PPID-1 process in a
    futex wait). The kernel's parent-death SIGKILL ends it at once. A
    worker also gets the default SIGTERM action back (the main process's
    :func:`stop_on_sigterm` handler is inherited through fork).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = multiprocessing.parent_process()
    if _set_parent_death_signal(signal.SIGKILL) and parent is not None and \
            os.getppid() != parent.pid:
        os._exit(1)  # the main process died before prctl took effect
    if init_fn is not None:
        init_fn(worker_id)


class WorkerSafeRunner(Runner):
    """mmengine's ``Runner`` whose DataLoader workers exit with the main
    process (:func:`_exit_with_main_process`), however it ends."""

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed=False):
        loader = Runner.build_dataloader(dataloader, seed, diff_rank_seed)
        if isinstance(loader, DataLoader) and loader.num_workers > 0:
            loader.worker_init_fn = partial(_exit_with_main_process,
                                            loader.worker_init_fn)
        return loader


def build_runner(cfg) -> Runner:
    """Build the runner as OpenMMLab's tools do (honours ``runner_type``);
    without ``runner_type`` a :class:`WorkerSafeRunner`."""
    if 'runner_type' not in cfg:
        return WorkerSafeRunner.from_cfg(cfg)
    return RUNNERS.build(cfg)


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM ends this process like an exception (exit code
    143); the previous handler is restored on leaving.

    ``scancel``, ``docker stop``, ``timeout`` and torchrun stop a run with
    SIGTERM, whose default action kills the process on the spot: no
    ``finally`` runs, the work-dir lock stays, and DataLoader workers are
    never told to stop. Raised as ``SystemExit`` in the main thread instead,
    the run unwinds: the lock is released, the DataLoader shuts its workers
    down, and a checkpoint being written is abandoned (its temporary file
    removed; the complete ones stay). Code it interrupts may turn the
    ``SystemExit`` into another exception (mmengine's
    ``Config.pretty_text``, run by every checkpoint save, re-raises anything
    as ``SyntaxError``): after a SIGTERM any exception leaving the block
    becomes ``SystemExit(143)`` again. A second SIGTERM kills at once. A
    process forked from this one (a DataLoader worker) that inherited the
    handler takes the default action. Outside the main thread this does
    nothing (Python handles signals there only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    main_pid = os.getpid()
    received = []  # the signal, once it has arrived

    def handler(signum, frame):
        signal.signal(signum, signal.SIG_DFL)
        if os.getpid() != main_pid:
            os.kill(os.getpid(), signum)
            return
        received.append(signum)
        print(f'stopping: received {signal.Signals(signum).name} (the last '
              'complete checkpoint is kept)', file=sys.stderr, flush=True)
        # the workers are stopped on the way out: not a worker failure for
        # torch's SIGCHLD check to report
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except BaseException as error:
        code = 128 + received[0] if received else None
        if code is None or isinstance(error, SystemExit) and \
                error.code == code:
            raise
        raise SystemExit(code) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    if 'TORCHELASTIC_RUN_ID' not in os.environ or \
            not _set_parent_death_signal(signal.SIGTERM):
        return False
    if os.getppid() == 1:  # the launcher died before prctl: we were orphaned
        os.kill(os.getpid(), signal.SIGTERM)
    return True
