"""SIGTERM (scancel, docker stop, timeout) stops tools/train.py cleanly:
its DataLoader workers exit with it and the work-dir lock is released."""
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import (REPO_ROOT, process_running, repo_env,
                     write_tiny_config)
from projects.depth_pixpro.device import stop_on_sigterm

pytestmark = pytest.mark.slow


def _children(pid):
    """Pids of the processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(name))
    return found


def _wait_for(predicate, timeout, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='reads /proc to find the DataLoader workers')
def test_sigterm_ends_the_workers_and_releases_the_lock(tmp_path):
    # long enough to be stopped, with two DataLoader workers
    config = write_tiny_config(
        tmp_path / 'tiny.py', max_iters=1000, batch_size=4, num_samples=64,
        num_workers=2, checkpoint=dict(interval=2, max_keep_ckpts=1))
    work_dir = tmp_path / 'work'
    log_path = tmp_path / 'log.txt'
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            [sys.executable, 'tools/train.py', config, '--work-dir',
             str(work_dir)], cwd=REPO_ROOT, env=repo_env(), stdout=log,
            stderr=subprocess.STDOUT)
    workers = []
    try:
        # after a checkpoint save, with batches prefetched by the workers
        assert _wait_for(lambda: 'Iter(train) [   3/' in log_path.read_text(),
                         240), log_path.read_text()[-3000:]
        workers = _children(proc.pid)
        assert len(workers) == 2, workers  # the two DataLoader workers
        assert (work_dir / '.train.lock').exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        # mmengine's torch DataLoader workers notice a dead parent only
        # every 5 s and then hang at exit on a full result pipe: this waits
        # 10 s for them
        assert _wait_for(
            lambda: not any(map(process_running, workers)), 10), \
            f'DataLoader workers {workers} outlive the main process'
        output = log_path.read_text()
        assert 'stopping: received SIGTERM' in output
        assert 'Traceback' not in output, output[-3000:]
        assert not (work_dir / '.train.lock').exists()
        assert (work_dir / 'last_checkpoint').exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers:  # never leave a hung worker behind
            if process_running(pid):
                os.kill(pid, signal.SIGKILL)


def test_sigterm_stops_with_143_whatever_the_code_it_interrupts():
    """The handler's SystemExit can land in code that turns every exception
    into another one (mmengine's Config.pretty_text, run by each checkpoint
    save, re-raises anything as SyntaxError): the process still stops with
    143, and the previous handler is back."""
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as err:
        with stop_on_sigterm():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(10)  # the handler raises in here
            except:  # noqa: E722  (as Config.pretty_text)
                raise SyntaxError('Failed to format the config file')
    assert err.value.code == 128 + signal.SIGTERM
    assert err.value.__suppress_context__  # no SyntaxError traceback
    assert signal.getsignal(signal.SIGTERM) is previous
    # no signal: exceptions pass through unchanged
    with pytest.raises(SyntaxError):
        with stop_on_sigterm():
            raise SyntaxError('not a stop')


KILLED_MAIN = r"""
import time
import torch
from torch.utils.data import DataLoader, Dataset
from projects.depth_pixpro.device import WorkerSafeRunner

class Big(Dataset):  # batches larger than a pipe buffer: workers block
    def __len__(self):
        return 1000
    def __getitem__(self, i):
        return torch.zeros(64, 1024)

cfg = dict(dataset=Big(), sampler=dict(type='DefaultSampler', shuffle=False),
           batch_size=4, num_workers=2, persistent_workers=True)
loader = WorkerSafeRunner.build_dataloader(cfg, seed=0)
it = iter(loader)
next(it)
print('ready', flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='prctl(PR_SET_PDEATHSIG) is Linux only')
def test_workers_die_with_a_killed_main_process(tmp_path):
    """kill -9 of the main process (no handler can run): the kernel ends
    WorkerSafeRunner's workers at once (parent-death signal)."""
    script = tmp_path / 'killed_main.py'
    script.write_text(KILLED_MAIN)
    proc = subprocess.Popen(
        [sys.executable, str(script)], cwd=str(tmp_path), env=repo_env(),
        stdout=subprocess.PIPE, text=True)
    workers = []
    try:
        assert proc.stdout.readline().strip() == 'ready'
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        proc.kill()
        proc.wait(timeout=30)
        assert _wait_for(
            lambda: not any(map(process_running, workers)), 3), \
            f'DataLoader workers {workers} outlive the killed main process'
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers:
            if process_running(pid):
                os.kill(pid, signal.SIGKILL)
