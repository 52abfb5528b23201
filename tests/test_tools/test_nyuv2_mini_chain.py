"""The README's nyuv2_mini chain on real frames, on tiny settings: pretrain
(configs/depth_pixpro_nyuv2-mini.py, its data workers as configured) ->
convert -> fine-tune -> test with --show-dir; every step exits cleanly."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from helpers import REPO_ROOT

# end-to-end runs of the tools (seconds each)
pytestmark = pytest.mark.slow
#: Runs a tool as ``__main__``, then says how many child processes (data
#: workers) are left once it returned, before the interpreter's exit.
AFTER_MAIN = ('import multiprocessing, runpy, sys; sys.argv = sys.argv[1:]; '
              "runpy.run_path(sys.argv[0], run_name='__main__'); "
              "print('processes left:', len(multiprocessing.active_children()))")


def _run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable] + args, cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    # nothing printed after a successful run: e.g. no DataLoader worker
    # reported as failed when the process exits
    assert 'Traceback' not in output, output[-4000:]
    return output


def test_readme_nyuv2_mini_chain(tmp_path, nyuv2_mini):
    pretrain_dir = tmp_path / 'depth_pixpro_nyuv2-mini'
    output = _run([
        '-c', AFTER_MAIN,
        'tools/train.py', 'configs/depth_pixpro_nyuv2-mini.py', '--work-dir',
        str(pretrain_dir), '--cfg-options', 'train_cfg.max_iters=2',
        'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.T_max=1', 'param_scheduler.1.end=2',
        'default_hooks.checkpoint.interval=2',
        'train_dataloader.batch_size=4',
        f'train_dataloader.dataset.data_root={nyuv2_mini}'
    ])
    # its two data workers stopped with the run (at interpreter exit
    # multiprocessing would SIGTERM them: torch printed failed workers)
    assert 'processes left: 0' in output
    converted = tmp_path / 'r18_nyuv2-mini_mmseg.pth'
    _run([
        'tools/model_converters/depth_pixpro_to_mmseg.py',
        str(pretrain_dir / 'iter_2.pth'),
        str(converted)
    ])
    seg_dir = tmp_path / 'fcn_nyuv2-mini'
    data = [f'{split}_dataloader.dataset.data_root={nyuv2_mini}'
            for split in ('train', 'val', 'test')]
    _run([
        'tools/train.py', 'configs/segmentation/fcn_r18_nyuv2-mini_cpu.py',
        '--work-dir', str(seg_dir), '--cfg-options',
        f'model.backbone.init_cfg.checkpoint={converted}',
        'model.backbone.init_cfg.prefix=None', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
        'default_hooks.checkpoint.interval=2'
    ] + data)
    overlays = tmp_path / 'overlays'
    output = _run([
        'tools/test.py', 'configs/segmentation/fcn_r18_nyuv2-mini_cpu.py',
        str(seg_dir / 'iter_2.pth'), '--work-dir', str(tmp_path / 'test'),
        '--show-dir', str(overlays), '--cfg-options'
    ] + data)
    assert 'mIoU' in output
    # one figure per test image, named by its path under the data root
    labelled = sorted(os.listdir(osp.join(nyuv2_mini, 'rgb')))
    assert os.listdir(overlays) == ['rgb']
    assert sorted(os.listdir(overlays / 'rgb')) == [
        osp.splitext(name)[0] + '.png' for name in labelled]
