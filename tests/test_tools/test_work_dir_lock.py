"""One training run per work dir: WorkDirLock and tools/train.py."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

from helpers import REPO_ROOT, repo_env, write_tiny_config
from projects.depth_pixpro.utils.work_dir_lock import (LOCK_NAME,
                                                       WorkDirLock,
                                                       WorkDirLockedError,
                                                       launch_rank,
                                                       process_start_time)


def _dead_pid():
    """A pid that ran on this host and no longer does."""
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def _write_lock(work_dir, **record):
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, LOCK_NAME), 'w') as f:
        json.dump(record, f)


def test_lock_is_exclusive_and_released(tmp_path):
    work = str(tmp_path / 'work')
    with WorkDirLock(work) as lock:
        with open(lock.path) as f:
            record = json.load(f)
        assert record['pid'] == os.getpid()
        assert record['host'] == socket.gethostname()
        assert record['started']
        with pytest.raises(WorkDirLockedError) as err:
            WorkDirLock(work).acquire()
        message = str(err.value)
        assert work in message and f'pid {os.getpid()}' in message
        assert socket.gethostname() in message and LOCK_NAME in message
    assert not osp.exists(osp.join(work, LOCK_NAME))
    with WorkDirLock(work):  # free again
        pass


def test_stale_lock_of_a_dead_pid_is_replaced_with_a_message(tmp_path):
    work = str(tmp_path)
    dead = _dead_pid()
    _write_lock(work, pid=dead, host=socket.gethostname(),
                started='2020-01-01 00:00:00')
    messages = []
    with WorkDirLock(work, log=messages.append) as lock:
        with open(lock.path) as f:
            assert json.load(f)['pid'] == os.getpid()
    assert len(messages) == 1
    assert 'stale' in messages[0] and f'pid {dead}' in messages[0]


@pytest.mark.skipif(process_start_time(os.getpid()) is None,
                    reason='process start times need Linux /proc')
def test_lock_of_a_reused_pid_is_stale(tmp_path):
    # the pid runs (this process) but started at another time: the lock's
    # owner died and its pid was given to another process
    _write_lock(str(tmp_path), pid=os.getpid(), host=socket.gethostname(),
                proc_start='1', started='2020-01-01 00:00:00')
    messages = []
    with WorkDirLock(str(tmp_path), log=messages.append):
        pass
    assert len(messages) == 1 and 'stale' in messages[0]


def test_lock_of_a_live_process_or_another_host_stops(tmp_path):
    _write_lock(str(tmp_path), pid=os.getppid(), host=socket.gethostname(),
                proc_start=process_start_time(os.getppid()),
                started='now')
    with pytest.raises(WorkDirLockedError, match=f'pid {os.getppid()}'):
        WorkDirLock(str(tmp_path)).acquire()
    # another machine's process cannot be checked: assumed alive
    _write_lock(str(tmp_path), pid=_dead_pid(), host='other-node',
                started='now')
    with pytest.raises(WorkDirLockedError, match="host 'other-node'"):
        WorkDirLock(str(tmp_path)).acquire()


def test_fresh_unreadable_lock_is_held_an_old_one_is_stale(tmp_path):
    path = tmp_path / LOCK_NAME
    path.write_text('')  # its writer is between open and write
    with pytest.raises(WorkDirLockedError, match='unreadable lock'):
        WorkDirLock(str(tmp_path)).acquire()
    os.utime(path, (0, 0))  # ... or was killed there, long ago
    messages = []
    with WorkDirLock(str(tmp_path), log=messages.append):
        pass
    assert len(messages) == 1 and 'unreadable' in messages[0]


def test_release_leaves_a_lock_it_does_not_own(tmp_path):
    lock = WorkDirLock(str(tmp_path))
    lock.acquire()
    _write_lock(str(tmp_path), pid=12345, host='other-node', started='now')
    lock.release()
    assert (tmp_path / LOCK_NAME).exists()


def test_launch_rank(monkeypatch):
    monkeypatch.setenv('RANK', '3')
    monkeypatch.setenv('SLURM_PROCID', '5')
    monkeypatch.setenv('OMPI_COMM_WORLD_RANK', '7')
    assert launch_rank('none') == 0
    assert launch_rank('pytorch') == 3
    assert launch_rank('slurm') == 5
    assert launch_rank('mpi') == 7
    monkeypatch.delenv('RANK')
    assert launch_rank('pytorch') == 0


def _train(config, work_dir):
    return subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(work_dir)], cwd=REPO_ROOT, env=repo_env(), capture_output=True,
        text=True, timeout=600)


@pytest.mark.slow
def test_second_run_in_a_held_work_dir_stops(tmp_path):
    config = write_tiny_config(tmp_path / 'tiny.py')
    work = tmp_path / 'work'
    # a live run (this test process) holds the work dir
    with WorkDirLock(str(work)):
        proc = _train(config, work)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'is in use by another training run' in output
    assert f'pid {os.getpid()}' in output and str(work) in output
    assert not any(name.endswith('.pth') for name in os.listdir(work))
    # released at the end of a run: tests/test_checkpoint (two in-process
    # runs in one work dir); after SIGTERM: test_train_sigterm.py
