"""The ResNet-50 benchmark configs run one training iteration on format
fixtures: each dataset (ScanNet, NYUv2, Cityscapes) and each head (FCN,
UPerNet, DeepLabV3+) once; all configs are built in test_seg_configs.py."""
import os.path as osp

from fixtures_rgbd import (write_cityscapes_seg, write_nyuv2_converted,
                           write_scannet)
from mmengine.config import Config
from mmengine.runner import Runner
from run_checks import assert_one_step, snapshot

from projects.depth_pixpro import device

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CROP = (32, 32)


def _shrink_pipeline(pipeline):
    """Keep every transform, at fixture size (tiny crops)."""
    for transform in pipeline:
        if transform['type'] in ('RandomResize', 'Resize'):
            transform['scale'] = (48, 40)
        if transform['type'] == 'RandomCrop':
            transform['crop_size'] = CROP


def _one_iteration(config, tmp_path, data_root):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'segmentation', config))
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


def test_fcn_scannet_config_runs(tmp_path):
    root = tmp_path / 'scannet'
    write_scannet(root, num_frames=2)
    _one_iteration('fcn_r50_scannet.py', tmp_path, str(root))


def test_upernet_nyuv2_config_runs(tmp_path):
    root = tmp_path / 'nyuv2'
    write_nyuv2_converted(root)
    _one_iteration('upernet_r50_nyuv2-40.py', tmp_path, str(root))


def test_deeplabv3plus_cityscapes_config_runs(tmp_path):
    root = tmp_path / 'cityscapes'
    write_cityscapes_seg(root, num_frames=2)
    _one_iteration('deeplabv3plus_r50_cityscapes-769x769_40k.py', tmp_path,
                   str(root))
