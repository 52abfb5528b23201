"""One training run per work dir.

Two runs in one work dir would both write ``iter_N.pth`` and
``last_checkpoint``, and a later ``--resume`` would continue whichever wrote
last. ``tools/train.py`` therefore holds ``<work_dir>/.train.lock`` for the
whole run: a JSON file with the owner's pid, host, process start time and
wall-clock start, created with ``O_CREAT | O_EXCL`` (only one process can
create it) and removed when the run ends, also on an exception, Ctrl-C or
SIGTERM. A lock left by a run that was killed (``kill -9``, a lost node) is
stale when its pid no longer runs on this host (or now belongs to another
process, seen from its start time); it is replaced with a message. A lock
from another host cannot be checked from here and stops the run.
"""
import json
import os
import os.path as osp
import socket
import time
from typing import Callable, Optional

__all__ = ['LOCK_NAME', 'WorkDirLock', 'WorkDirLockedError', 'launch_rank']

#: The lock file inside the work dir.
LOCK_NAME = '.train.lock'
#: A lock file that is still empty or unreadable after this many seconds
#: was left by a process killed while writing it.
_UNREADABLE_GRACE_S = 30.0


class WorkDirLockedError(RuntimeError):
    """Another run holds the work dir."""


def launch_rank(launcher: str) -> int:
    """The global rank of this process before torch.distributed starts.

    Args:
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.

    Returns:
        int: 0 for ``none``; else the launcher's rank variable (``RANK``,
        ``SLURM_PROCID``, ``OMPI_COMM_WORLD_RANK``), 0 if unset.
    """
    variable = dict(pytorch='RANK', slurm='SLURM_PROCID',
                    mpi='OMPI_COMM_WORLD_RANK').get(launcher)
    return int(os.environ.get(variable, 0)) if variable else 0


def process_start_time(pid: int) -> Optional[str]:
    """When ``pid`` started, in clock ticks since boot (Linux
    ``/proc/<pid>/stat`` field 22), or None where unknown. With the pid it
    names one process: a pid reused by a later process has another start
    time."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its ')'
    fields = stat.rsplit(')', 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _pid_runs(pid: int, start: Optional[str]) -> bool:
    """Whether the process ``pid`` (started at ``start``) still runs on
    this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    now = process_start_time(pid)
    return start is None or now is None or now == start


class WorkDirLock:
    """``<work_dir>/.train.lock``, held by one run (see the module doc).

    Use as a context manager::

        with WorkDirLock(cfg.work_dir):
            runner.train()

    Args:
        work_dir (str): The run's work dir (created if missing).
        log (Callable[[str], None], optional): Where to say that a stale
            lock was replaced. Defaults to ``print``.
    """

    def __init__(self, work_dir: str,
                 log: Optional[Callable[[str], None]] = None) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.log = log or print
        self.owner = None  # what this process wrote, while it holds it

    def _read(self) -> Optional[dict]:
        """The lock's owner record, None if missing, empty or unreadable."""
        try:
            with open(self.path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def _describe(self, holder: Optional[dict]) -> str:
        if holder is None:
            return 'an unreadable lock'
        return (f'pid {holder.get("pid")} on host {holder.get("host")!r}, '
                f'started {holder.get("started")}')

    def _stale_reason(self, holder: Optional[dict]) -> Optional[str]:
        """Why the current lock is stale, or None if it may be held."""
        if holder is None:  # being written, or its writer was killed
            try:
                age = time.time() - os.stat(self.path).st_mtime
            except FileNotFoundError:
                return 'gone'
            return (f'unreadable for {age:.0f} s'
                    if age > _UNREADABLE_GRACE_S else None)
        pid = holder.get('pid')
        if holder.get('host') != socket.gethostname() or \
                not isinstance(pid, int):
            return None  # another machine: cannot check, assume held
        if _pid_runs(pid, holder.get('proc_start')):
            return None
        return f'pid {pid} no longer runs on this host'

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            WorkDirLockedError: Another live run holds the work dir (the
                message names it and the lock file).
        """
        os.makedirs(self.work_dir, exist_ok=True)
        pid = os.getpid()
        owner = dict(pid=pid, host=socket.gethostname(),
                     proc_start=process_start_time(pid),
                     started=time.strftime('%Y-%m-%d %H:%M:%S'))
        for _ in range(3):  # another process may replace a stale lock too
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                             0o644)
            except FileExistsError:
                holder = self._read()
                reason = self._stale_reason(holder)
                if reason is None:
                    raise WorkDirLockedError(
                        f'work dir {self.work_dir} is in use by another '
                        f'training run ({self._describe(holder)}; lock file '
                        f'{self.path}). Two runs in one work dir overwrite '
                        "each other's checkpoints and last_checkpoint. Use "
                        'another --work-dir, or wait for that run to end; if '
                        'you are sure it is gone, delete the lock file.')
                if reason != 'gone':
                    self.log(f'replacing the stale lock {self.path} of '
                             f'{self._describe(holder)}: {reason} (a run '
                             'that was killed)')
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, 'w') as f:
                json.dump(owner, f)
            self.owner = owner
            return
        raise WorkDirLockedError(
            f'could not take the lock {self.path}: other processes keep '
            'replacing it; start one run per work dir')

    def release(self) -> None:
        """Remove the lock if this process still holds it."""
        if self.owner is None:
            return
        holder = self._read()
        if holder is not None and holder.get('pid') == self.owner['pid'] \
                and holder.get('host') == self.owner['host']:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
        self.owner = None

    def __enter__(self) -> 'WorkDirLock':
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
