"""The whole chain on tiny settings: pretrain -> convert -> fine-tune -> test
-> a results row with a numeric mIoU."""
import csv
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from helpers import REPO_ROOT
from seg_reference import recount_checkpoint_metrics


# end-to-end runs of the tools (seconds to minutes each)
pytestmark = pytest.mark.slow


def _run(args):
    # the checkout under test, whatever the editable install points at
    path = os.pathsep.join(
        p for p in (REPO_ROOT, os.environ.get('PYTHONPATH')) if p)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=path)
    proc = subprocess.run([sys.executable] + args, cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def test_pretrain_convert_finetune_test_results_row(tmp_path):
    pretrain_dir = str(tmp_path / 'pretrain')
    _run([
        'tools/train.py', 'configs/depth_pixpro_synthetic.py', '--work-dir',
        pretrain_dir, '--cfg-options', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.num_samples=8',
        'train_dataloader.dataset.img_size=64'
    ])
    pretrained = osp.join(pretrain_dir, 'iter_2.pth')

    converted = str(tmp_path / 'r18_mmseg.pth')
    output = _run([
        'tools/model_converters/depth_pixpro_to_mmseg.py', pretrained,
        converted
    ])
    assert '0 missing' in output and '0 unexpected' in output
    online = torch.load(pretrained, weights_only=True)['state_dict']
    weights = torch.load(converted, weights_only=True)['state_dict']
    assert torch.equal(weights['layer4.1.conv2.weight'],
                       online['backbone.layer4.1.conv2.weight'])

    results = str(tmp_path / 'results')
    seg_config = 'configs/segmentation/fcn_r18_synthetic_cpu.py'
    options = [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'train_dataloader.batch_size=2',
        'train_dataloader.dataset.num_images=4',
        'val_dataloader.dataset.num_images=2',
        'test_dataloader.dataset.num_images=2',
        f'train_dataloader.dataset.cache_dir={tmp_path}/cache',
        f'val_dataloader.dataset.cache_dir={tmp_path}/cache',
        f'test_dataloader.dataset.cache_dir={tmp_path}/cache'
    ]
    _run([
        'tools/seg_transfer.py', seg_config, converted, '--work-dir',
        str(tmp_path / 'seg'), '--results', results, '--cfg-options'
    ] + options)
    with open(results + '.csv') as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert len(rows) == 1
    row = rows[0]
    assert row['checkpoint'].endswith('r18_mmseg.pth')
    assert 'fcn_r18_synthetic_cpu' in row['config']
    assert row['iters'] == '2'
    # the markdown table: header = the csv columns, one row = the csv row
    with open(results + '.md') as f:
        lines = f.read().splitlines()
    cells = [[c.strip() for c in line.strip('|').split('|')]
             for line in lines]
    assert len(lines) == 3 and cells[0] == reader.fieldnames
    assert cells[2] == [row[k].replace(';', '; ').strip()
                        for k in reader.fieldnames]
    # the recorded test mIoU and per-class IoU, recounted from the
    # fine-tuned checkpoint's predictions on the same test images
    recount_checkpoint_metrics(
        osp.join(REPO_ROOT, seg_config), tmp_path / 'seg' / 'iter_2.pth',
        tmp_path / 'recount', row, options)
