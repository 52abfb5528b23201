"""Ctrl-C during tools/train.py (engine/interrupt.py): the iteration ends,
its checkpoint is saved, the process exits 130 with the command that
resumes the run, and that command continues from the saved iteration."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from helpers import REPO_ROOT
from projects.depth_pixpro.engine.interrupt import resume_command
from projects.depth_pixpro.utils.work_dir_lock import LOCK_NAME

TINY = """
_base_ = [r'{repo}/configs/depth_pixpro_synthetic.py']
train_dataloader = dict(
    batch_size=2, num_workers=1, persistent_workers=False,
    dataset=dict(num_samples=8, img_size=64))
model = dict(neck=dict(hid_channels=64, out_channels=32),
             head=dict(in_channels=32))
train_cfg = dict(max_iters=1000)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1000))
custom_hooks = []
"""


@pytest.mark.parametrize('argv, expected', [
    (['tools/train.py', 'cfg.py'], 'python tools/train.py cfg.py --resume'),
    (['tools/train.py', 'cfg.py', '--resume'],
     'python tools/train.py cfg.py --resume'),
    (['tools/train.py', 'cfg.py', '--resume', 'w/iter_5.pth', '--amp'],
     'python tools/train.py cfg.py --amp --resume'),
    (['tools/train.py', 'cfg.py', '--resume=w/iter_5.pth'],
     'python tools/train.py cfg.py --resume'),
    (['tools/train.py', 'my cfg.py', '--work-dir', 'w d', '--cfg-options',
      'a=1', 'b=2'],
     "python tools/train.py 'my cfg.py' --work-dir 'w d' --cfg-options a=1 "
     'b=2 --resume'),
])
def test_resume_command(argv, expected):
    assert resume_command(argv) == expected


def _wait_for(process, pattern, timeout=240):
    """Lines of ``process`` (stdout + stderr) up to one matching
    ``pattern``."""
    lines, deadline = [], time.time() + timeout
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    process.kill()
    raise AssertionError(f'{pattern!r} not seen:\n' + ''.join(lines[-40:]))


@pytest.mark.slow
def test_ctrl_c_saves_the_iteration_and_the_printed_command_resumes(
        tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY.format(repo=REPO_ROOT))
    work = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    process = subprocess.Popen(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work)], cwd=REPO_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)  # its own process group, as in a terminal
    output = _wait_for(process, r'Iter\(train\) \[\s*2/1000\]')
    # a terminal's Ctrl-C: SIGINT to the main process and its data worker
    os.killpg(process.pid, signal.SIGINT)
    rest, _ = process.communicate(timeout=240)
    output = ''.join(output) + rest
    assert process.returncode == 130, output[-3000:]
    assert 'Traceback' not in output, output[-3000:]
    saved = [line for line in output.splitlines()
             if line.startswith('stopped by Ctrl-C after iteration')]
    assert len(saved) == 1, output[-3000:]
    iteration = int(saved[0].split('iteration ')[1].split(':')[0])
    path = work / f'iter_{iteration}.pth'
    assert f'saved {path}.' in saved[0]
    assert iteration >= 2
    ckpt = torch.load(path, weights_only=True)
    assert ckpt['meta']['iter'] == iteration
    assert (work / 'last_checkpoint').read_text() == str(path)
    assert not (work / LOCK_NAME).exists()  # the work dir is free again
    command = output.splitlines()[output.splitlines().index(saved[0]) + 1]
    assert command.strip() == (f'python tools/train.py {config} --work-dir '
                               f'{work} --resume')
    # the printed command, two more iterations
    resumed = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work), '--resume', '--cfg-options',
         f'train_cfg.max_iters={iteration + 2}'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-3000:]
    assert f'resumed epoch: 0, iter: {iteration}' in log
    assert torch.load(work / f'iter_{iteration + 2}.pth',
                      weights_only=True)['meta']['iter'] == iteration + 2
