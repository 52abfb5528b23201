"""CPU threads of a run: the main process and its DataLoader workers share
the machine's cores instead of each taking all of them.

By default PyTorch (OpenMP) and numpy (OpenBLAS) start one thread per core
in every process; a run with two data workers on a 2-core machine then has
three processes of two threads each, and under load the spinning OpenMP
threads make a step several times slower (the CPU demo: 7.6 s/iteration
against 1.6 s with ``OMP_NUM_THREADS=1``, back to back on a loaded 2-core
machine). :func:`configure_threads` gives the main process
``CPUs // (1 + workers)`` threads (at least one; a distributed launch
divides by its processes on the machine too) unless the user chose with
``OMP_NUM_THREADS``; forked DataLoader workers inherit the BLAS limit, and
PyTorch runs each of them with one thread of its own (OpenCV's threads are
off in every process: mmengine's ``env_cfg.mp_cfg.opencv_num_threads=0``).
"""
import os
from typing import Mapping, Optional

import torch

__all__ = [
    'available_cpus', 'main_process_threads', 'configure_threads',
    'describe_threads'
]

#: The variable a user sets to choose the threads (PyTorch and OpenBLAS
#: read it at start-up; ``tools/dist_train.sh`` sets it to 1).
USER_VARIABLE = 'OMP_NUM_THREADS'


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. ``taskset``
    or a container's cpuset), else ``os.cpu_count()``."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # not Linux
        return max(os.cpu_count() or 1, 1)


def main_process_threads(num_cpus: int, num_workers: int,
                         num_processes: int = 1) -> int:
    """Threads of a main process: its share of the CPUs when each of the
    ``num_processes`` training processes of the machine and each of their
    ``num_workers`` data workers get an equal share, at least one.

    Args:
        num_cpus (int): CPUs available.
        num_workers (int): DataLoader worker processes of each training
            process (0: it loads the data itself).
        num_processes (int): Training processes on this machine (a
            distributed launch). Defaults to 1.

    Returns:
        int: ``max(1, num_cpus // (num_processes * (1 + num_workers)))``.
    """
    if num_cpus < 1 or num_workers < 0 or num_processes < 1:
        raise ValueError(f'need num_cpus >= 1, num_workers >= 0 and '
                         f'num_processes >= 1, got {num_cpus}, {num_workers} '
                         f'and {num_processes}')
    return max(1, num_cpus // (num_processes * (1 + num_workers)))


def local_processes(env: Mapping[str, str]) -> int:
    """Training processes on this machine: torchrun's ``LOCAL_WORLD_SIZE``,
    else Slurm's ``SLURM_NTASKS_PER_NODE``, else 1."""
    for name in ('LOCAL_WORLD_SIZE', 'SLURM_NTASKS_PER_NODE'):
        try:
            return max(int(env[name]), 1)
        except (KeyError, ValueError):
            continue
    return 1


def _num_workers(cfg) -> int:
    loader = cfg.get('train_dataloader') or cfg.get('test_dataloader') or {}
    return int(loader.get('num_workers', 0) or 0)


def configure_threads(cfg,
                      env: Optional[Mapping[str, str]] = None,
                      num_cpus: Optional[int] = None) -> Optional[int]:
    """Set the threads of this (main) process for a run of ``cfg``.

    Without ``OMP_NUM_THREADS`` in ``env``, PyTorch's intra-op threads and
    the BLAS libraries' threads become :func:`main_process_threads` of the
    available CPUs, the config's ``num_workers`` (``train_dataloader``,
    else ``test_dataloader``) and the training processes of the machine
    (:func:`local_processes`). With it, nothing changes: the user chose
    (``tools/dist_train.sh`` and torchrun set it to 1).
    Call it before the runner starts its DataLoader workers: forked workers
    inherit the BLAS limit.

    Args:
        cfg (mmengine.Config | dict): The run's config.
        env (Mapping[str, str], optional): Environment. Defaults to
            ``os.environ``.
        num_cpus (int, optional): CPUs. Defaults to :func:`available_cpus`.

    Returns:
        int | None: The threads set, or None when the user chose.
    """
    env = os.environ if env is None else env
    if USER_VARIABLE in env:
        return None
    threads = main_process_threads(num_cpus or available_cpus(),
                                   _num_workers(cfg), local_processes(env))
    torch.set_num_threads(threads)
    _limit_blas_threads(threads)
    return threads


def _limit_blas_threads(threads: int) -> None:
    """OpenBLAS / MKL threads of the libraries already loaded (numpy's)."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=threads, user_api='blas')


def describe_threads(num_workers: int,
                     env: Optional[Mapping[str, str]] = None,
                     num_cpus: Optional[int] = None) -> str:
    """The run summary's account of the threads of this process.

    Args:
        num_workers (int): The train DataLoader's workers.
        env (Mapping[str, str], optional): Defaults to ``os.environ``.
        num_cpus (int, optional): Defaults to :func:`available_cpus`.

    Returns:
        str: e.g. ``threads: 1 in the main process, 1 in each of 2 data
        workers, 2 CPUs (CPUs // (1 + workers); set OMP_NUM_THREADS to
        choose)``.
    """
    env = os.environ if env is None else env
    num_cpus = num_cpus or available_cpus()
    threads = torch.get_num_threads()
    text = f'threads: {threads} in the main process'
    if num_workers == 1:
        text += ', 1 in the data worker'
    elif num_workers > 1:
        text += f', 1 in each of {num_workers} data workers'
    text += f', {num_cpus} CPU' + ('s' if num_cpus > 1 else '')
    if USER_VARIABLE in env:
        return f'{text} ({USER_VARIABLE}={env[USER_VARIABLE]})'
    processes = local_processes(env)
    if threads == main_process_threads(num_cpus, num_workers, processes):
        rule = '(1 + workers)' if processes == 1 else \
            f'({processes} processes x (1 + workers))'
        return f'{text} (CPUs // {rule}; set {USER_VARIABLE} to choose)'
    return text
