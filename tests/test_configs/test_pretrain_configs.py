"""Every pretraining config builds with PixPro's momentum; short names
are entry points of the long ones; each dataset config trains one step."""
import inspect
import re
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from fixtures_rgbd import write_cityscapes, write_scannet
from helpers import REPO_ROOT
from mmpretrain.registry import MODELS
from project_configs import (CPU_RECIPES, ENTRY_POINTS, PRETRAINING,
                             config_path, config_paths, is_gpu_recipe)
from projects.depth_pixpro.models.algorithms import DepthPixPro
from run_checks import (assert_one_step, assert_target_is_pre_step_copy,
                        snapshot)


CONFIGS = config_paths(PRETRAINING)


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
    if is_gpu_recipe(osp.relpath(path, config_path(''))):
        assert cfg.model.backbone.depth == 50
        assert cfg.optim_wrapper.optimizer.type == 'PixProLARS'
        assert cfg.optim_wrapper.optimizer.weight_decay == 1e-5
        assert cfg.auto_scale_lr.base_batch_size == 1024
        crop = cfg.train_dataloader.dataset.pipeline[2].transforms[0][0]
        assert crop.scale == 224 and tuple(crop.crop_ratio_range) == (0.08, 1.)
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'DepthPixPro'


@pytest.mark.parametrize('short', sorted(ENTRY_POINTS))
def test_short_name_is_an_entry_point_of_the_long_name(short):
    """README / design names: one `_base_` line, the same config."""
    long_name = ENTRY_POINTS[short]
    with open(config_path(short)) as f:
        code = [line for line in f if not line.startswith('#')]
    assert code == [f"_base_ = './{long_name}'\n"]
    short_cfg = Config.fromfile(config_path(short))
    long_cfg = Config.fromfile(config_path(long_name))
    assert short_cfg.to_dict() == long_cfg.to_dict()


LONG_NAME = re.compile(
    r'(?P<algo>depth_pixpro|pixpro)_resnet(?P<depth>\d+)_(?P<procs>\d+)xb'
    r'(?P<batch>\d+)-(?P<optim>[a-z]+)-coslr-(?P<length>\d+)(?P<unit>e|iter)'
    r'_(?P<data>[a-z0-9-]+)\.py')
#: The optimizer a long name's {optimizer} field stands for.
OPTIMIZERS = {'lars': 'PixProLARS', 'sgd': 'SGD'}


@pytest.mark.parametrize('long_name', sorted(set(ENTRY_POINTS.values())))
def test_long_names_say_backbone_batch_and_schedule(long_name):
    """mmpretrain's rule: {algorithm}_{backbone}_{processes}xb{batch}-
    {optimizer}-{lr schedule}-{length}_{data}.py."""
    cfg = Config.fromfile(config_path(long_name))
    name = LONG_NAME.fullmatch(long_name)
    assert name, long_name
    assert int(name['depth']) == cfg.model.backbone.depth
    assert int(name['batch']) == cfg.train_dataloader.batch_size
    assert cfg.optim_wrapper.optimizer.type == OPTIMIZERS[name['optim']]
    key = 'max_epochs' if name['unit'] == 'e' else 'max_iters'
    assert cfg.train_cfg[key] == int(name['length'])
    assert (long_name in CPU_RECIPES) == (name['procs'] == '1')


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


@pytest.mark.slow
def test_nyuv2_mini_cpu_config_trains_on_nyuv2_mini(tmp_path, nyuv2_mini):
    """The README's real-data CPU chain, first step: the config as shipped
    (loading steps, the CPU demo's 64x64 views), two iterations."""
    cfg = Config.fromfile(config_path('depth_pixpro_nyuv2-mini.py'))
    assert cfg.train_dataloader.dataset.data_root == \
        '../shared/data/nyuv2_mini'
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.dataset.data_root = nyuv2_mini
    cfg.train_dataloader.update(
        batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg.max_iters = 1
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader.dataset) == 18  # 8 + 10 unlabeled
    before = snapshot(runner)
    runner.train()
    values = assert_one_step(runner, before, 'backbone.',
                             len(cfg.model.head.scales))
    assert values['pos_spatial'] >= values['pos_final'] > 0
    sample = runner.train_dataloader.dataset[0]
    assert [tuple(v.shape) for v in sample['inputs']] == [(3, 64, 64)] * 2
    assert sample['data_samples'].has_depth
    assert float(sample['data_samples'].depth.max()) > 0.5  # metres


def test_every_pretraining_config_uses_pixpro_momentum():
    """The project's configs start the target at m = 0.01 (tau = 0.99) and
    end at 0 (tau = 1)."""
    signature = inspect.signature(DepthPixPro.__init__).parameters
    found = 0
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        model = cfg.get('model', {})
        if model.get('type') != 'DepthPixPro':
            continue
        found += 1
        assert model.get('base_momentum',
                         signature['base_momentum'].default) == 0.01, path
        assert model.get('end_momentum',
                         signature['end_momentum'].default) == 0., path
    assert found == len(CONFIGS)
