"""tools/seg_transfer.py: init options, metrics parsing, results table, and
one real fine-tune -> test -> results row run on a fabricated checkpoint."""
import csv
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from helpers import REPO_ROOT, load_script
from mmpretrain.models import ResNet as PretrainResNet
from seg_reference import recount_checkpoint_metrics


@pytest.fixture(scope='module')
def transfer():
    return load_script('tools/seg_transfer.py')


def fabricate_pretrain(path):
    """A DepthPixPro-like checkpoint (ResNet-18 online + target + neck)."""
    torch.manual_seed(0)
    online = PretrainResNet(depth=18).state_dict()
    state = {f'backbone.{k}': v for k, v in online.items()}
    state.update({f'target_net.module.0.{k}': v.clone()
                  for k, v in online.items()})
    state['neck.projector.0.weight'] = torch.randn(4, 512, 1, 1)
    torch.save({'meta': {'iter': 1}, 'state_dict': state}, path)
    return online


def test_backbone_init_options(transfer, tmp_path):
    raw = str(tmp_path / 'raw.pth')
    fabricate_pretrain(raw)
    options = transfer.backbone_init_options(raw)
    assert options['model.backbone.init_cfg.prefix'] == 'backbone.'
    assert options['model.backbone.init_cfg.checkpoint'] == raw
    converted = str(tmp_path / 'conv.pth')
    torch.save({'state_dict': {'conv1.weight': torch.zeros(1)}}, converted)
    assert transfer.backbone_init_options(converted)[
        'model.backbone.init_cfg.prefix'] is None
    assert transfer.backbone_init_options('none') == {
        'model.backbone.init_cfg': None, 'init': 'random'}
    with pytest.raises(FileNotFoundError, match='not found'):
        transfer.backbone_init_options(str(tmp_path / 'missing.pth'))
    # the official PixPro layout must be converted; unknown files refused
    official = str(tmp_path / 'official.pth')
    torch.save({'model': {'module.encoder.conv1.weight': torch.zeros(1)}},
               official)
    with pytest.raises(ValueError, match='depth_pixpro_to_mmseg'):
        transfer.backbone_init_options(official)  # no place to convert to
    unknown = str(tmp_path / 'unknown.pth')
    torch.save({'state_dict': {'classifier.weight': torch.zeros(1)}},
               unknown)
    with pytest.raises(ValueError, match='not a DepthPixPro'):
        transfer.backbone_init_options(unknown)
    assert transfer._format_options(options)[-1] == \
        'model.backbone.init_cfg.prefix=backbone.'
    assert transfer._format_options({'model.backbone.init_cfg': None}) == [
        'model.backbone.init_cfg=None']
    # mmengine's DictAction deletes spaces: refuse instead of a wrong path
    with pytest.raises(ValueError, match='without spaces'):
        transfer._format_options(
            {'model.backbone.init_cfg.checkpoint': '/a b/c.pth'})


def test_metrics_and_results_table(transfer, tmp_path):
    log_dir = tmp_path / 'test' / '20250101_000000'
    log_dir.mkdir(parents=True)
    (log_dir / '20250101_000000.json').write_text(
        json.dumps({'lr': 0.1}) + '\n' + json.dumps(
            {'aAcc': 80.5, 'mIoU': 40.25, 'mAcc': 50.0, 'IoU.wall': 70.0,
             'IoU.floor': 10.5, 'Acc.wall': 90.0}) + '\n')
    metrics = transfer.read_test_metrics(str(tmp_path / 'test'))
    assert metrics['mIoU'] == 40.25
    with pytest.raises(FileNotFoundError):
        transfer.read_test_metrics(str(tmp_path / 'nothing'))
    prefix = str(tmp_path / 'out' / 'results')
    for ckpt in ('a.pth', 'b.pth'):
        row = transfer.results_row(metrics, 'configs/x.py', ckpt, 'random', '2',
                                str(tmp_path))
        transfer.append_results(row, prefix)
    with open(prefix + '.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['checkpoint'] for r in rows] == ['a.pth', 'b.pth']
    assert rows[0]['mIoU'] == '40.25' and rows[0]['aAcc'] == '80.5'
    assert rows[0]['per_class_iou'] == 'wall=70.0;floor=10.5'
    assert rows[0]['git_commit'] not in ('', None)
    lines = open(prefix + '.md').read().splitlines()
    assert len(lines) == 4 and lines[0].startswith('| date | config')
    assert '| 40.25 |' in lines[3] and 'b.pth' in lines[3]


TINY_CONFIG = '''
custom_imports = dict(imports=['projects.depth_pixpro'], allow_failed_imports=False)
default_scope = 'mmseg'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255, size=(32, 32)),
    backbone=dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3), norm_cfg=norm_cfg,
                  init_cfg=dict(type='Pretrained', checkpoint='unset.pth', prefix='backbone.')),
    decode_head=dict(type='FCNHead', in_channels=512, in_index=3, channels=16, num_convs=1,
                     num_classes=7, norm_cfg=norm_cfg,
                     loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]
data = dict(type='SyntheticSceneSegDataset', size=(32, 32), cache_dir=CACHE,
            pipeline=pipeline)
train_dataloader = dict(batch_size=2, num_workers=0,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(data, num_images=2))
val_dataloader = dict(batch_size=1, num_workers=0,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(data, num_images=1, first_seed=100000))
test_dataloader = val_dataloader
val_evaluator = dict(type='PerClassIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1),
    visualization=dict(type='SegVisualizationHook'))
visualizer = dict(type='SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
'''


@pytest.mark.slow
def test_seg_transfer_end_to_end(transfer, tmp_path):
    config = tmp_path / 'tiny_seg.py'
    config.write_text(
        TINY_CONFIG.replace('CACHE', repr(str(tmp_path / 'cache'))))
    ckpt = str(tmp_path / 'pretrain.pth')
    fabricate_pretrain(ckpt)
    prefix = str(tmp_path / 'results')
    row = transfer.main([
        str(config), ckpt, '--work-dir', str(tmp_path / 'work'), '--results',
        prefix, '--show-dir', str(tmp_path / 'show')
    ])
    assert row['init'] == 'pretrain(raw)' and row['iters'] == '1'
    assert 'floor=' in row['per_class_iou']
    # mIoU and per-class IoU recounted from the fine-tuned checkpoint
    recount_checkpoint_metrics(str(config), tmp_path / 'work' / 'iter_1.pth',
                               tmp_path / 'recount', row)
    with open(prefix + '.csv') as f:
        assert list(csv.DictReader(f))[0]['checkpoint'] == ckpt
    overlays = list((tmp_path / 'show').rglob('*.png'))
    assert len(overlays) == 1


def fabricate_official_pixpro(path):
    """An official PixPro checkpoint (zdaxie/PixPro ``main_pretrain.py``):
    ``model`` with the DDP-wrapped online ``module.encoder.*`` (ResNet-18 +
    its unused ``fc``), the momentum ``module.encoder_k.*`` and projector
    keys, plus ``optimizer``/``epoch``."""
    torch.manual_seed(1)
    online = PretrainResNet(depth=18).state_dict()
    model = {f'module.encoder.{k}': v for k, v in online.items()}
    model.update({f'module.encoder_k.{k}': v + 1. for k, v in online.items()
                  if v.is_floating_point()})
    model['module.encoder.fc.weight'] = torch.zeros(10, 512)
    model['module.projector.conv1.weight'] = torch.randn(4, 512, 1, 1)
    torch.save({'model': model, 'optimizer': {}, 'epoch': 100}, path)
    return online


@pytest.mark.slow
def test_official_pixpro_checkpoint_through_seg_transfer_sh(tmp_path):
    """bash tools/seg_transfer.sh with an official PixPro checkpoint: the
    online encoder is converted into the work dir, fine-tuned, tested and
    recorded; the source file is untouched."""
    config = tmp_path / 'tiny_seg.py'
    config.write_text(
        TINY_CONFIG.replace('CACHE', repr(str(tmp_path / 'cache'))))
    ckpt = str(tmp_path / 'pixpro_official.pth')
    online = fabricate_official_pixpro(ckpt)
    before = open(ckpt, 'rb').read()
    work = tmp_path / 'work'
    prefix = str(tmp_path / 'results')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join(
                   p for p in (REPO_ROOT, os.environ.get('PYTHONPATH')) if p))
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'seg_transfer.sh'), str(config),
         ckpt, '1', '--work-dir', str(work), '--results', prefix],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert open(ckpt, 'rb').read() == before
    converted = torch.load(str(work / 'pixpro_official_backbone.pth'),
                           map_location='cpu', weights_only=True)
    # exactly the online encoder, without fc, never the momentum encoder
    assert set(converted['state_dict']) == set(online) - {'fc.weight',
                                                          'fc.bias'}
    for key, value in converted['state_dict'].items():
        assert torch.equal(value, online[key]), key
    with open(prefix + '.csv') as f:
        row = list(csv.DictReader(f))[0]
    assert row['init'] == 'pretrain(official PixPro, converted)'
    assert row['checkpoint'] == ckpt and row['iters'] == '1'
    recount_checkpoint_metrics(str(config), work / 'iter_1.pth',
                               tmp_path / 'recount', row)
