"""configs/segmentation: every config builds; the CPU configs train + validate."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from seg_reference import assert_metrics_match, predictions

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'segmentation', '*.py')))


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


def test_synthetic_cpu_config_runs(tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'segmentation', 'fcn_r18_synthetic_cpu.py'))
    cfg.train_dataloader.batch_size = 2
    for loader, num in ((cfg.train_dataloader, 4), (cfg.val_dataloader, 2)):
        loader.dataset.num_images = num
        loader.dataset.cache_dir = str(tmp_path / 'cache')
    metrics = run_tiny(cfg, tmp_path / 'work')
    assert 'IoU.floor' in metrics  # values: run_tiny recounts them
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')


def test_nyuv2_mini_cpu_config_runs(tmp_path, nyuv2_mini):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'segmentation', 'fcn_r18_nyuv2-mini_cpu.py'))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = nyuv2_mini
    cfg.train_dataloader.batch_size = 2
    cfg.val_dataloader.dataset.indices = 2
    cfg.val_dataloader.dataset.pipeline[1].scale = (160, 120)
    metrics = run_tiny(cfg, tmp_path / 'work')
    assert 'IoU.wall' in metrics  # values: run_tiny recounts them
