"""Every pretraining config builds with PixPro's momentum; short names
are entry points of the long ones; each dataset config trains one step."""
import glob
import inspect
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from fixtures_rgbd import write_cityscapes, write_scannet
from helpers import REPO_ROOT
from mmpretrain.registry import MODELS
from projects.depth_pixpro.models.algorithms import DepthPixPro
from run_checks import (assert_one_step, assert_target_is_pre_step_copy,
                        snapshot)


CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', '*.py')) +
    glob.glob(osp.join(REPO_ROOT, 'configs', 'ablations', '*.py')))


def _scales(cfg):
    return [s['spatial_thresh'] for s in cfg.model.head.scales]


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_pretraining_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert 'projects.depth_pixpro' in cfg.custom_imports.imports
    name = osp.basename(path)
    filters = [f['type'] for f in cfg.model.head.filters]
    if name.startswith('pixpro_') or 'depth-off' in name:
        assert filters == []
    else:
        assert filters[0] == 'DepthPairFilter'
    if name.startswith('pixpro_') or 'single-scale' in name:
        assert _scales(cfg) == [0.7]
    if '_synthetic' not in name:  # the real recipes
        assert cfg.model.backbone.depth == 50
        assert cfg.optim_wrapper.optimizer.type == 'PixProLARS'
        assert cfg.optim_wrapper.optimizer.weight_decay == 1e-5
        assert cfg.auto_scale_lr.base_batch_size == 1024
        crop = cfg.train_dataloader.dataset.pipeline[2].transforms[0][0]
        assert crop.scale == 224 and tuple(crop.crop_ratio_range) == (0.08, 1.)
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'DepthPixPro'


ENTRY_POINTS = {
    f'{algo}_{data}.py': f'{algo}_resnet50_8xb128-lars-coslr-100e_{data}.py'
    for algo in ('depth_pixpro', 'pixpro')
    for data in ('scannet', 'cityscapes', 'nyuv2')
}


ENTRY_POINTS.update({
    f'{algo}_synthetic.py':
    f'{algo}_resnet18_1xb16-sgd-coslr-300iter_synthetic.py'
    for algo in ('depth_pixpro', 'pixpro')
})


@pytest.mark.parametrize('short', sorted(ENTRY_POINTS))
def test_short_name_is_an_entry_point_of_the_long_name(short):
    """README / design names: one `_base_` line, the same config."""
    long_name = ENTRY_POINTS[short]
    with open(osp.join(REPO_ROOT, 'configs', short)) as f:
        code = [line for line in f if not line.startswith('#')]
    assert code == [f"_base_ = './{long_name}'\n"]
    short_cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', short))
    long_cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', long_name))
    assert short_cfg.to_dict() == long_cfg.to_dict()


def test_long_names_say_backbone_batch_and_schedule():
    for long_name in ENTRY_POINTS.values():
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', long_name))
        _, backbone, recipe, _ = long_name[:-3].rsplit('_', 3)
        assert backbone == f'resnet{cfg.model.backbone.depth}'
        batch = recipe.split('-')[0]
        assert batch.split('xb')[1] == str(cfg.train_dataloader.batch_size)
        if recipe.endswith('100e'):
            assert cfg.train_cfg.max_epochs == 100
            assert cfg.optim_wrapper.optimizer.type == 'PixProLARS'
        else:
            assert recipe.endswith('300iter')
            assert cfg.train_cfg.max_iters == 300
            assert cfg.optim_wrapper.optimizer.type == 'SGD'


def _one_step(path, tmp_path, data_root, **dataset):
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.depth = 18
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.model.neck.update(in_channels=[512], hid_channels=64)
    cfg.train_dataloader.update(
        batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=data_root, **dataset)
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.checkpoint.interval = 100
    runner = Runner.from_cfg(cfg)
    before = snapshot(runner)
    runner.train()
    if cfg.train_cfg.get('max_epochs') == 1 and runner.iter == 1:
        scales = len(cfg.model.head.scales)
        values = assert_one_step(runner, before, 'backbone.', scales)
        assert values['pos_spatial'] >= values['pos_final'] > 0
        assert_target_is_pre_step_copy(runner, before)
    return runner


@pytest.mark.slow
def test_scannet_config_trains_on_fixture(tmp_path):
    root = tmp_path / 'scannet'
    write_scannet(root, num_frames=2)
    runner = _one_step(
        osp.join(REPO_ROOT, 'configs', 'depth_pixpro_scannet.py'), tmp_path,
        str(root))
    assert runner.iter == 1


@pytest.mark.slow
def test_cityscapes_config_trains_on_fixture(tmp_path):
    root = tmp_path / 'cityscapes'
    write_cityscapes(root, num_frames=2)
    runner = _one_step(
        osp.join(REPO_ROOT, 'configs', 'depth_pixpro_cityscapes.py'), tmp_path,
        str(root), split='train')
    assert runner.iter == 1


@pytest.mark.slow
def test_nyuv2_config_trains_on_nyuv2_mini(tmp_path, nyuv2_mini):
    runner = _one_step(
        osp.join(REPO_ROOT, 'configs', 'depth_pixpro_nyuv2.py'), tmp_path,
        nyuv2_mini, split=None)
    assert runner.iter == 9  # 8 labeled + 10 unlabeled frames, batch 2


def pretraining_configs():
    """Every config but the bases and the segmentation (mmseg) ones."""
    paths = sorted(
        glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                  recursive=True))
    skip = ('_base_', 'segmentation', 'benchmarks')
    return [
        p for p in paths
        if not set(osp.relpath(p, REPO_ROOT).split(osp.sep)[:-1]) & set(skip)
    ]


def test_every_pretraining_config_uses_pixpro_momentum():
    """The built configs (whatever their names) start the target at
    m = 0.01 (tau = 0.99) and end at 0 (tau = 1)."""
    signature = inspect.signature(DepthPixPro.__init__).parameters
    found = 0
    for path in pretraining_configs():
        cfg = Config.fromfile(path)
        model = cfg.get('model', {})
        if model.get('type') != 'DepthPixPro':
            continue
        found += 1
        assert model.get('base_momentum',
                         signature['base_momentum'].default) == 0.01, path
        assert model.get('end_momentum',
                         signature['end_momentum'].default) == 0., path
    assert found >= 8
