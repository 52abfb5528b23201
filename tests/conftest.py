"""Shared pytest fixtures (helpers without a fixture: ``helpers.py``)."""
import sys

import pytest

from helpers import NYUV2_MINI, REPO_ROOT, SYNTHETIC_CFG, require_path

if REPO_ROOT not in sys.path:  # `tools.*` modules and the package
    sys.path.insert(0, REPO_ROOT)

import projects.depth_pixpro  # noqa: E402,F401  (registers everything)

#: --cfg-options of a 2-iteration run of the CPU demo on tiny images.
TINY_TRAIN = [
    'train_cfg.max_iters=2', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_dataloader.dataset.num_samples=8',
    'train_dataloader.dataset.img_size=64', 'default_hooks.logger.interval=1',
    'model.neck.hid_channels=64', 'model.neck.out_channels=32',
    'model.head.in_channels=32'
]


@pytest.fixture
def nyuv2_mini():
    """Path of ../shared/data/nyuv2_mini (see :func:`require_path`)."""
    return require_path(NYUV2_MINI, 'nyuv2_mini fixture')


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Tests that build a Runner or call init_default_scope set mmengine's
    global default scope; restore it so that test order does not matter."""
    from mmengine.registry import DefaultScope
    saved = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@pytest.fixture(scope='session')
def pair_hook_run(tmp_path_factory):
    """A 2-iteration DepthPixPro run with PairVisualizationHook at interval
    1: checkpoint, JSON logs and hook images in one work dir (shared by the
    hook's and the analysis tools' tests)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from projects.depth_pixpro.checkpoint import ensure_checkpoint_hooks
    from projects.depth_pixpro.device import build_runner
    root = tmp_path_factory.mktemp('run')
    cfg_file = root / 'hook_cfg.py'
    cfg_file.write_text(
        f'_base_ = {SYNTHETIC_CFG!r}\n'
        "custom_hooks = [dict(type='PairVisualizationHook', interval=1)]\n")
    cfg = Config.fromfile(str(cfg_file))
    cfg.merge_from_dict(
        {k: eval(v) if v[0].isdigit() or v in ('False', 'True') else v
         for k, v in (o.split('=') for o in TINY_TRAIN)})
    cfg.work_dir = str(root / 'work')
    ensure_checkpoint_hooks(cfg)
    saved = dict(DefaultScope._instance_dict)
    runner = build_runner(cfg)
    runner.train()
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
    return cfg.work_dir
