"""tools/train.py as a user runs it: its own SafeCheckpointHook injection,
``--resume CKPT`` (the given file, not the latest), resuming an older
pickled checkpoint of the run (``--trust-checkpoint``), and
``--auto-scale-lr``.

The tiny config here has no ``custom_hooks``: whatever makes checkpoints
weights-only loadable must come from tools/train.py itself.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from helpers import REPO_ROOT

# end-to-end runs of the tools (seconds to minutes each)
pytestmark = pytest.mark.slow


# The CPU demo config (its long name first; the short alias as fallback).
CONFIG_NAMES = ('depth_pixpro_resnet18_1xb16-sgd-coslr-300iter_synthetic.py',
                'depth_pixpro_synthetic.py')
BATCH, BASE_LR, BASE_BATCH = 4, 0.05, 16

TINY = """
_base_ = [r'{base}']
train_dataloader = dict(
    batch_size={batch}, num_workers=0, persistent_workers=False,
    dataset=dict(num_samples=16, img_size=64))
optim_wrapper = dict(optimizer=dict(lr={lr}))
auto_scale_lr = dict(base_batch_size={base_batch}, enable=False)
train_cfg = dict(max_iters=3)
param_scheduler = []
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=5))
"""


def demo_config():
    for name in CONFIG_NAMES:
        path = osp.join(REPO_ROOT, 'configs', name)
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'none of {CONFIG_NAMES} in configs/')


def train(config, work_dir, *extra, check=True):
    # the checkout under test, whatever the editable install points at
    path = os.pathsep.join(
        p for p in (REPO_ROOT, os.environ.get('PYTHONPATH')) if p)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=path)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(work_dir), *extra],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, output[-4000:]
    return proc.returncode, output


def load_safe(path):
    return torch.load(path, weights_only=True)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """Three iterations, a checkpoint at each."""
    tmp = tmp_path_factory.mktemp('resume')
    config = tmp / 'tiny.py'
    config.write_text(TINY.format(base=demo_config(), batch=BATCH,
                                  lr=BASE_LR, base_batch=BASE_BATCH))
    work_dir = tmp / 'work'
    _, output = train(str(config), work_dir)
    return str(config), work_dir, output


def copy_run(work_dir, dest, keep):
    """A fresh work dir holding only the checkpoints ``keep``."""
    dest.mkdir()
    for name in keep:
        shutil.copy(work_dir / name, dest / name)
    return dest


def test_train_py_makes_every_checkpoint_weights_only(run):
    config, work_dir, output = run
    assert 'Iter(train) [3/3]' in output
    for it in (1, 2, 3):
        ckpt = load_safe(work_dir / f'iter_{it}.pth')
        assert ckpt['meta']['iter'] == it
        assert ckpt['message_hub'] and ckpt['optimizer']['state']
    with open(config) as f:
        assert 'SafeCheckpointHook' not in f.read()
    # exactly the model's weights: online, target (momentum copy), head
    from mmengine.config import Config

    from mmpretrain.registry import MODELS
    model = MODELS.build(Config.fromfile(config).model)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    saved = ckpt['state_dict']
    assert {k: tuple(v.shape) for k, v in saved.items()} == expected
    online = {k for k in expected if k.startswith(('backbone.', 'neck.'))}
    target = {k for k in expected if k.startswith('target_net.module.')}
    assert len(target) == len(online) > 100


def test_resume_takes_the_given_checkpoint_not_the_latest(run, tmp_path):
    config, work_dir, _ = run
    dest = copy_run(work_dir, tmp_path / 'again',
                    ['iter_1.pth', 'iter_2.pth', 'iter_3.pth'])
    _, output = train(config, dest, '--resume', str(dest / 'iter_1.pth'),
                      '--cfg-options', 'train_cfg.max_iters=2')
    assert 'resumed epoch: 0, iter: 1' in output
    assert 'Iter(train) [2/2]' in output
    assert 'Iter(train) [1/2]' not in output
    # iter_2 was rewritten from iter_1's weights: its weights differ from
    # the first run's iter_2 only by that run's data order, not by a reload
    # of iter_3 (whose iteration count would have ended the run at once).
    assert load_safe(dest / 'iter_2.pth')['meta']['iter'] == 2


def make_pickled_checkpoint(src, dest):
    """What a run wrote before SafeCheckpointHook: mmengine's message hub
    (HistoryBuffer objects) and numpy scalars, which need full unpickling."""
    ckpt = load_safe(src)
    hub = MessageHub(f'old-style-{osp.basename(str(dest))}')
    for key, value in ckpt['message_hub']['log_scalars'].items():
        if isinstance(value, dict) and 'log_history' in value:
            for v, c in zip(value['log_history'].tolist(),
                            value['count_history'].tolist()):
                hub.update_scalar(key, v, int(c))
    ckpt['message_hub'] = dict(
        ckpt['message_hub'], log_scalars=hub.state_dict()['log_scalars'])
    ckpt['meta']['seed'] = np.int64(ckpt['meta'].get('seed', 0) or 0)
    torch.save(ckpt, dest)


def test_resume_an_older_pickled_checkpoint_of_the_run(run, tmp_path):
    """Weights-only unless the user vouches for the file: refused with a
    hint, then resumed with ``--trust-checkpoint`` (exactly that file)."""
    config, work_dir, _ = run
    dest = copy_run(work_dir, tmp_path / 'old', ['iter_2.pth'])
    make_pickled_checkpoint(work_dir / 'iter_1.pth', dest / 'iter_1.pth')
    with pytest.raises(Exception):  # really needs the trusted path
        load_safe(dest / 'iter_1.pth')
    args = ('--resume', str(dest / 'iter_1.pth'), '--cfg-options',
            'train_cfg.max_iters=2')
    code, output = train(config, dest, *args, check=False)
    assert code != 0 and '--trust-checkpoint' in output
    assert 'Iter(train)' not in output
    _, output = train(config, dest, *args, '--trust-checkpoint')
    assert 'resumed epoch: 0, iter: 1' in output
    assert 'Iter(train) [2/2]' in output
    # the run goes on writing weights-only checkpoints
    assert load_safe(dest / 'iter_2.pth')['meta']['iter'] == 2


def test_load_from_a_pickled_checkpoint_is_refused(run, tmp_path):
    """Without ``--trust-checkpoint``, weights handed in with load_from
    load weights-only, so a pickled file fails instead of executing."""
    config, work_dir, _ = run
    pickled = tmp_path / 'foreign.pth'
    make_pickled_checkpoint(work_dir / 'iter_1.pth', pickled)
    code, output = train(config, tmp_path / 'w', '--cfg-options',
                         f'load_from={pickled}', 'train_cfg.max_iters=1',
                         check=False)
    assert code != 0
    assert 'foreign.pth' in output
    assert not (tmp_path / 'w' / 'iter_1.pth').exists()


def test_auto_scale_lr_scales_by_the_actual_batch(run, tmp_path):
    """Linear scaling: lr = base lr * (batch x processes) / base_batch_size
    with ``--auto-scale-lr``; the config's lr without it (the fixture run)."""
    _, work_dir, _ = run
    plain = load_safe(work_dir / 'iter_1.pth')['optimizer']['param_groups']
    assert [g['lr'] for g in plain] == [BASE_LR] * len(plain)
    config = run[0]
    train(config, tmp_path / 'lr', '--auto-scale-lr', '--cfg-options',
          'train_cfg.max_iters=1')
    groups = load_safe(tmp_path / 'lr' / 'iter_1.pth')['optimizer'][
        'param_groups']
    assert len(groups) == len(plain)
    for group in groups:
        assert group['lr'] == pytest.approx(BASE_LR * BATCH / BASE_BATCH,
                                            rel=1e-12)
