"""configs/segmentation: every config builds; the CPU configs train and
validate; the ResNet-50 benchmark configs run one iteration on format
fixtures, each dataset (ScanNet, NYUv2, Cityscapes) and each head (FCN,
UPerNet, DeepLabV3+) once."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import MODELS

from fixtures_rgbd import (write_cityscapes_seg, write_nyuv2_converted,
                           write_scannet)
from helpers import REPO_ROOT
from projects.depth_pixpro import device
from run_checks import assert_one_step, snapshot
from seg_reference import assert_metrics_match, predictions


CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'segmentation', '*.py')))


def test_configs_exist():
    names = {osp.basename(c) for c in CONFIGS}
    for head in ('fcn', 'upernet', 'deeplabv3plus'):
        assert f'{head}_r50_scannet.py' in names
        assert f'{head}_r50_nyuv2-40.py' in names
        assert f'{head}_r50_cityscapes-769x769_40k.py' in names
        assert f'{head}_r50_cityscapes-769x769_80k.py' in names
    assert {'fcn_r18_synthetic_cpu.py', 'fcn_r18_nyuv2-mini_cpu.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports == dict(
        imports=['projects.depth_pixpro'], allow_failed_imports=False)
    backbone = cfg.model.backbone
    assert backbone.type == 'ResNet' and cfg.model.get('pretrained') is None
    init = backbone.init_cfg
    if 'random-init' in path:
        assert init is None
    elif 'imagenet-sup' in path:
        assert init.type == 'Pretrained' and init.prefix is None
    else:
        assert init == dict(
            type='Pretrained', checkpoint=cfg.pretrained, prefix='backbone.')
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert model.backbone.depth == backbone.depth
    num_classes = cfg.model.decode_head.num_classes
    assert model.decode_head.conv_seg.out_channels == num_classes
    dataset = cfg.train_dataloader.dataset
    if 'cityscapes' in path:
        assert num_classes == 19 and dataset.type == 'CityscapesDataset'
        assert cfg.crop_size == (769, 769)
    elif 'scannet' in path:
        assert num_classes == 20 and dataset.type == 'ScanNet2DSegDataset'
    elif 'nyuv2-13' in path or 'nyuv2-mini' in path:
        assert num_classes == 13 and dataset.type == 'NYUv2Seg13Dataset'
    elif 'nyuv2-40' in path:
        assert num_classes == 40 and dataset.type == 'NYUv2SegDataset'


def run_tiny(cfg, work_dir):
    from mmengine.runner import Runner
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.init_cfg = None
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.param_scheduler[0].end = 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    # the reported numbers, recounted from the model's own predictions
    loader = runner.val_loop.dataloader
    assert_metrics_match(metrics, predictions(runner.model, loader),
                         loader.dataset.metainfo['classes'])
    return metrics


@pytest.mark.slow
def test_synthetic_cpu_config_runs(tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'segmentation',
                 'fcn_r18_synthetic_cpu.py'))
    cfg.train_dataloader.batch_size = 2
    for loader, num in ((cfg.train_dataloader, 4), (cfg.val_dataloader, 2)):
        loader.dataset.num_images = num
        loader.dataset.cache_dir = str(tmp_path / 'cache')
    metrics = run_tiny(cfg, tmp_path / 'work')
    assert 'IoU.floor' in metrics  # values: run_tiny recounts them
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')


@pytest.mark.slow
def test_nyuv2_mini_cpu_config_runs(tmp_path, nyuv2_mini):
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'segmentation',
                 'fcn_r18_nyuv2-mini_cpu.py'))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = nyuv2_mini
    cfg.train_dataloader.batch_size = 2
    cfg.val_dataloader.dataset.indices = 2
    cfg.val_dataloader.dataset.pipeline[1].scale = (160, 120)
    metrics = run_tiny(cfg, tmp_path / 'work')
    assert 'IoU.wall' in metrics  # values: run_tiny recounts them


CROP = (32, 32)


def _shrink_pipeline(pipeline):
    """Keep every transform, at fixture size (tiny crops)."""
    for transform in pipeline:
        if transform['type'] in ('RandomResize', 'Resize'):
            transform['scale'] = (48, 40)
        if transform['type'] == 'RandomCrop':
            transform['crop_size'] = CROP


def _one_iteration(config, tmp_path, data_root):
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'segmentation', config))
    device.adapt_cfg_for_device(cfg, 'none')  # SyncBN -> BN on CPU
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.init_cfg = None
    cfg.model.data_preprocessor.size = CROP
    cfg.train_dataloader.update(
        batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = data_root
    _shrink_pipeline(cfg.train_dataloader.dataset.pipeline)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1,
                         val_interval=100)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    runner = Runner.from_cfg(cfg)
    before = snapshot(runner)
    runner.train()
    # decode (+ auxiliary) head losses, summed; the whole model trained
    heads = 1 + bool(cfg.model.get('auxiliary_head'))
    assert_one_step(runner, before, 'decode_head.', heads)
    assert_one_step(runner, before, 'backbone.', heads)


@pytest.mark.slow
def test_fcn_scannet_config_runs(tmp_path):
    root = tmp_path / 'scannet'
    write_scannet(root, num_frames=2)
    _one_iteration('fcn_r50_scannet.py', tmp_path, str(root))


@pytest.mark.slow
def test_upernet_nyuv2_config_runs(tmp_path):
    root = tmp_path / 'nyuv2'
    write_nyuv2_converted(root)
    _one_iteration('upernet_r50_nyuv2-40.py', tmp_path, str(root))


@pytest.mark.slow
def test_deeplabv3plus_cityscapes_config_runs(tmp_path):
    root = tmp_path / 'cityscapes'
    write_cityscapes_seg(root, num_frames=2)
    _one_iteration('deeplabv3plus_r50_cityscapes-769x769_40k.py', tmp_path,
                   str(root))
