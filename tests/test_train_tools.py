"""tools/train.py, tools/test.py and tools/dist_train.sh on tiny configs."""
import glob
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

TINY_PRETRAIN = """
_base_ = [r'{repo}/configs/depth_pixpro_synthetic.py']
custom_imports = dict(imports={imports}, allow_failed_imports=False)
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(num_samples=16, img_size=64))
train_cfg = dict(max_iters=2)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=2, max_keep_ckpts=5))
custom_hooks = {hooks}
"""

PROBE_HOOK = '''
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class ParamProbeHook(Hook):
    """Dump this rank's backbone parameters and loss after each iteration."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = getattr(runner.model, 'module', runner.model)
        params = torch.cat(
            [p.detach().flatten() for p in model.backbone.parameters()])
        torch.save(
            dict(world=runner.world_size, loss=float(outputs['loss']),
                 params=params),
            f'{runner.work_dir}/probe_rank{runner.rank}_iter{runner.iter}.pt')
'''


def _write_tiny_config(tmp_path, imports=('projects.depth_pixpro', ),
                       hooks=()):
    path = tmp_path / 'tiny_pretrain.py'
    path.write_text(
        TINY_PRETRAIN.format(
            repo=REPO,
            imports=list(imports),
            hooks=[dict(type='SafeCheckpointHook')] + list(hooks)))
    return str(path)


def _run(args, env=None, timeout=600):
    env = dict(os.environ, **(env or {}))
    env.setdefault('OMP_NUM_THREADS', '1')
    proc = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def trained_run(tmp_path_factory):
    """Two iterations of the tiny pretraining config through tools/train.py."""
    tmp_path = tmp_path_factory.mktemp('train')
    config = _write_tiny_config(tmp_path)
    work_dir = str(tmp_path / 'work')
    output = _run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir
    ])
    return config, work_dir, output


def test_train_writes_weights_only_loadable_checkpoint(trained_run):
    _, work_dir, output = trained_run
    assert 'Iter(train) [2/2]' in output and 'loss_s0' in output
    ckpt_path = osp.join(work_dir, 'iter_2.pth')
    # SafeCheckpointHook: no pickled Python objects, plain torch.load works.
    ckpt = torch.load(ckpt_path, weights_only=True)
    assert ckpt['meta']['iter'] == 2
    assert any(k.startswith('backbone.') for k in ckpt['state_dict'])
    assert any(k.startswith('target_net.') for k in ckpt['state_dict'])
    assert ckpt['optimizer']['state'], 'SGD momentum buffers were saved'


def test_resume_restores_iteration_and_optimizer_state(trained_run):
    config, work_dir, _ = trained_run
    ckpt = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=True)
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.resume = True
    cfg.load_from = None  # `--resume` without a path: latest checkpoint
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert runner.iter == 2
    restored = runner.optim_wrapper.state_dict()['state']
    saved = ckpt['optimizer']['state']
    assert restored.keys() == saved.keys()
    for key in saved:
        assert torch.equal(restored[key]['momentum_buffer'],
                           saved[key]['momentum_buffer'])
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 2


def test_resume_cli_continues_to_more_iterations(trained_run, tmp_path):
    config, work_dir, _ = trained_run
    output = _run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
        '--resume', '--cfg-options', 'train_cfg.max_iters=3',
        'default_hooks.checkpoint.interval=1'
    ])
    assert 'resumed epoch: 0, iter: 2' in output
    assert 'Iter(train) [3/3]' in output
    assert 'Iter(train) [1/3]' not in output
    ckpt = torch.load(osp.join(work_dir, 'iter_3.pth'), weights_only=True)
    assert ckpt['meta']['iter'] == 3


def test_amp_flag_on_cpu_fails_clearly(trained_run):
    if torch.cuda.is_available():
        pytest.skip('CUDA present')
    config, _, _ = trained_run
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--amp'],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and '--amp needs a CUDA device' in proc.stderr


def test_test_py_refuses_pretraining_config_clearly(trained_run):
    config, work_dir, _ = trained_run
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', config,
         osp.join(work_dir, 'iter_2.pth')],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'has no test_dataloader' in proc.stderr


def test_segmentation_train_then_test_py_evaluates(tmp_path):
    """tools/train.py then tools/test.py on the CPU synthetic benchmark."""
    config = osp.join(REPO, 'configs', 'segmentation',
                      'fcn_r18_synthetic_cpu.py')
    work_dir = str(tmp_path / 'seg')
    tiny = [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=2',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.backbone.init_cfg=None',
    ]
    _run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options'
    ] + tiny)
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    out_dir = str(tmp_path / 'pred')
    output = _run([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        str(tmp_path / 'test'), '--out', out_dir, '--cfg-options'
    ] + tiny)
    assert 'mIoU' in output
    assert glob.glob(osp.join(out_dir, '*.png')), 'predictions were saved'


def test_dist_train_two_cpu_processes_stay_in_sync(tmp_path):
    (tmp_path / 'probe_hook.py').write_text(PROBE_HOOK)
    config = _write_tiny_config(
        tmp_path,
        imports=('projects.depth_pixpro', 'probe_hook'),
        hooks=(dict(type='ParamProbeHook'), ))
    work_dir = tmp_path / 'dist'
    env = dict(
        # the script calls `python`: the interpreter running the tests
        PATH=f'{osp.dirname(sys.executable)}{os.pathsep}{os.environ["PATH"]}',
        PYTHONPATH=f'{tmp_path}{os.pathsep}{os.environ.get("PYTHONPATH", "")}',
        PORT=str(_free_port()))
    _run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
          str(work_dir)], env=env)
    probes = {(rank, it): torch.load(
        work_dir / f'probe_rank{rank}_iter{it}.pt', weights_only=True)
              for rank in (0, 1) for it in (0, 1)}
    assert all(p['world'] == 2 for p in probes.values())
    for it in (0, 1):  # runner.iter counts from 0 in after_train_iter
        # each rank saw different images, yet the weights are identical
        assert probes[(0, it)]['loss'] != probes[(1, it)]['loss']
        assert torch.equal(probes[(0, it)]['params'],
                           probes[(1, it)]['params'])
    assert not torch.equal(probes[(0, 0)]['params'], probes[(0, 1)]['params'])
    checkpoints = sorted(p.name for p in work_dir.glob('*.pth'))
    assert checkpoints == ['iter_2.pth']
